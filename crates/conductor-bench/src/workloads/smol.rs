//! smol: a `LocalExecutor` per run, driven by `smol::block_on` (async-io's, which also drives
//! the reactor and its timers when the thread would otherwise park).

use std::hint::black_box;
use std::pin::pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use smol::{LocalExecutor, Timer};

use super::{
    Contender, Sleeper, deadline_offset, parked, parked_polled, ping, pong, reset_parked, small,
};
use crate::harness::{allocated, poll_once};

/// smol's single-threaded executor.
pub struct Smol;

type Ex = Rc<LocalExecutor<'static>>;

/// Runs `main` on a fresh executor; `main` gets the executor to spawn on.
fn run<T>(main: impl AsyncFnOnce(&Ex) -> T) -> T {
    let ex: Ex = Rc::new(LocalExecutor::new());
    smol::block_on(ex.run(main(&ex)))
}

fn chain(ex: Ex, done: async_channel::Sender<()>, n: usize) {
    if n == 0 {
        done.try_send(()).expect("chained_spawn receiver gone");
    } else {
        let next = ex.clone();
        ex.spawn(async move { chain(next, done, n - 1) }).detach();
    }
}

/// smol has no `timeout`: this is futures-lite's `or` of the future and a timer, as smol's
/// documentation suggests.
async fn timeout<T>(d: Duration, fut: impl std::future::Future<Output = T>) -> Option<T> {
    smol::future::or(async { Some(fut.await) }, async {
        Timer::after(d).await;
        None
    })
    .await
}

impl Contender for Smol {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn spawn(&self, n: usize) -> Duration {
        run(async move |ex: &Ex| {
            let start = Instant::now();
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(ex.spawn(async move { small(i) }));
            }
            let mut sum = 0;
            for h in handles {
                sum += h.await;
            }
            black_box(sum);
            start.elapsed()
        })
    }

    fn chained_spawn(&self, n: usize) -> Duration {
        run(async move |ex: &Ex| {
            let (tx, rx) = async_channel::bounded(1);
            let start = Instant::now();
            let first = ex.clone();
            ex.spawn(async move { chain(first, tx, n) }).detach();
            rx.recv().await.expect("chain broken");
            start.elapsed()
        })
    }

    fn yield_now(&self, tasks: usize, yields: usize) -> Option<Duration> {
        Some(run(async move |ex: &Ex| {
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    ex.spawn(async move {
                        for _ in 0..yields {
                            smol::future::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
            start.elapsed()
        }))
    }

    fn ping_pong(&self, n: usize) -> Duration {
        run(async move |ex: &Ex| {
            let (a_tx, a_rx) = async_channel::bounded(1);
            let (b_tx, b_rx) = async_channel::bounded(1);
            let start = Instant::now();
            let pinger = ex.spawn(ping(a_tx, b_rx, n));
            let ponger = ex.spawn(pong(a_rx, b_tx, n));
            pinger.await;
            ponger.await;
            start.elapsed()
        })
    }

    fn timeout(&self, n: usize, turn_every: usize) -> Duration {
        run(async move |_: &Ex| {
            let start = Instant::now();
            for i in 0..n {
                let t = pin!(timeout(
                    Duration::from_secs(1),
                    std::future::pending::<()>()
                ));
                assert!(poll_once(t).await, "timeout completed");
                if i % turn_every == turn_every - 1 {
                    super::turn().await;
                }
            }
            start.elapsed()
        })
    }

    fn sleep_lateness(&self, n: usize) -> Vec<Sleeper> {
        run(async move |ex: &Ex| {
            let start = Instant::now();
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    ex.spawn(async move {
                        let deadline = start + deadline_offset(i);
                        let armed = Instant::now().saturating_duration_since(start);
                        Timer::at(deadline).await;
                        let late = Instant::now().saturating_duration_since(deadline);
                        Sleeper { armed, late }
                    })
                })
                .collect();
            let mut sleepers = Vec::with_capacity(n);
            for h in handles {
                sleepers.push(h.await);
            }
            sleepers
        })
    }

    fn parked_memory(&self, n: usize) -> isize {
        reset_parked();
        run(async move |ex: &Ex| {
            let mut handles = Vec::with_capacity(n);
            let before = allocated();
            for _ in 0..n {
                handles.push(ex.spawn(parked()));
            }
            while parked_polled() < n {
                smol::future::yield_now().await;
            }
            let bytes = allocated() - before;
            drop(handles); // smol cancels a task whose handle is dropped
            bytes
        })
    }
}
