//! monoio: the legacy (epoll) driver with its timer enabled, per run.

use std::hint::black_box;
use std::pin::pin;
use std::time::{Duration, Instant};

use super::{
    Contender, Sleeper, deadline_offset, parked, parked_polled, ping, pong, reset_parked, small,
};
use crate::harness::{allocated, poll_once};

/// monoio's thread-per-core runtime, on epoll.
pub struct Monoio;

/// Runs `main` as a task on a fresh runtime. (monoio polls `block_on`'s own future in a loop
/// for as long as it wakes itself, without running tasks: a main future that yields would spin.)
fn block_on<F>(main: F) -> F::Output
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .build()
        .expect("monoio runtime")
        .block_on(async { monoio::spawn(main).await })
}

fn chain(done: async_channel::Sender<()>, n: usize) {
    if n == 0 {
        done.try_send(()).expect("chained_spawn receiver gone");
    } else {
        drop(monoio::spawn(async move { chain(done, n - 1) }));
    }
}

impl Contender for Monoio {
    fn name(&self) -> &'static str {
        "monoio"
    }

    fn spawn(&self, n: usize) -> Duration {
        block_on(async move {
            let start = Instant::now();
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(monoio::spawn(async move { small(i) }));
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
        block_on(async move {
            let (tx, rx) = async_channel::bounded(1);
            let start = Instant::now();
            drop(monoio::spawn(async move { chain(tx, n) }));
            rx.recv().await.expect("chain broken");
            start.elapsed()
        })
    }

    /// monoio has no `yield_now`, and a task that wakes itself while being polled is put at the
    /// front of the queue (`Schedule::yield_now` in its harness) and polled again at once: a
    /// task cannot yield to the others, so there is nothing comparable to measure.
    fn yield_now(&self, _tasks: usize, _yields: usize) -> Option<Duration> {
        None
    }

    fn ping_pong(&self, n: usize) -> Duration {
        block_on(async move {
            let (a_tx, a_rx) = async_channel::bounded(1);
            let (b_tx, b_rx) = async_channel::bounded(1);
            let start = Instant::now();
            let pinger = monoio::spawn(ping(a_tx, b_rx, n));
            let ponger = monoio::spawn(pong(a_rx, b_tx, n));
            pinger.await;
            ponger.await;
            start.elapsed()
        })
    }

    fn timeout(&self, n: usize, turn_every: usize) -> Duration {
        block_on(async move {
            let start = Instant::now();
            for i in 0..n {
                let t = pin!(monoio::time::timeout(
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
        block_on(async move {
            let start = monoio::time::Instant::now();
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    monoio::spawn(async move {
                        let deadline = start + deadline_offset(i);
                        let armed = monoio::time::Instant::now().saturating_duration_since(start);
                        monoio::time::sleep_until(deadline).await;
                        let late = monoio::time::Instant::now().saturating_duration_since(deadline);
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
        block_on(async move {
            let mut handles = Vec::with_capacity(n);
            let before = allocated();
            for _ in 0..n {
                handles.push(monoio::spawn(parked()));
            }
            // Not `yield_once` (see `yield_now`): an empty task spawned now runs after those
            // spawned before it, so awaiting it lets them all be polled.
            while parked_polled() < n {
                monoio::spawn(async {}).await;
            }
            allocated() - before
        })
    }
}
