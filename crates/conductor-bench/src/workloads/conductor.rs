//! conductor: `Runtime::new()` per run; `block_on` runs the workload as the main task.

use std::hint::black_box;
use std::pin::pin;
use std::time::{Duration, Instant};

use super::{
    Contender, Sleeper, deadline_offset, parked, parked_polled, ping, pong, reset_parked, small,
};
use crate::harness::{allocated, poll_once};

/// conductor, one event loop on this thread.
pub struct Conductor;

fn rt() -> conductor::Runtime {
    conductor::Runtime::new().expect("conductor runtime")
}

fn chain(done: async_channel::Sender<()>, n: usize) {
    if n == 0 {
        done.try_send(()).expect("chained_spawn receiver gone");
    } else {
        conductor::spawn(async move { chain(done, n - 1) }).detach();
    }
}

impl Contender for Conductor {
    fn name(&self) -> &'static str {
        "conductor"
    }

    fn spawn(&self, n: usize) -> Duration {
        rt().block_on(async move {
            let start = Instant::now();
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(conductor::spawn(async move { small(i) }));
            }
            let mut sum = 0;
            for h in handles {
                sum += h.await.expect("spawned task failed");
            }
            black_box(sum);
            start.elapsed()
        })
    }

    fn spawn_eager(&self, n: usize) -> Option<Duration> {
        Some(rt().block_on(async move {
            let start = Instant::now();
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(conductor::spawn_eager(async move { small(i) }));
            }
            let mut sum = 0;
            for h in handles {
                sum += h.await.expect("spawned task failed");
            }
            black_box(sum);
            start.elapsed()
        }))
    }

    fn chained_spawn(&self, n: usize) -> Duration {
        rt().block_on(async move {
            let (tx, rx) = async_channel::bounded(1);
            let start = Instant::now();
            conductor::spawn(async move { chain(tx, n) }).detach();
            rx.recv().await.expect("chain broken");
            start.elapsed()
        })
    }

    fn yield_now(&self, tasks: usize, yields: usize) -> Option<Duration> {
        Some(rt().block_on(async move {
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    conductor::spawn(async move {
                        for _ in 0..yields {
                            conductor::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.expect("yielding task failed");
            }
            start.elapsed()
        }))
    }

    fn ping_pong(&self, n: usize) -> Duration {
        rt().block_on(async move {
            let (a_tx, a_rx) = async_channel::bounded(1);
            let (b_tx, b_rx) = async_channel::bounded(1);
            let start = Instant::now();
            let pinger = conductor::spawn(ping(a_tx, b_rx, n));
            let ponger = conductor::spawn(pong(a_rx, b_tx, n));
            pinger.await.expect("ping failed");
            ponger.await.expect("pong failed");
            start.elapsed()
        })
    }

    fn ping_pong_native(&self, n: usize) -> Option<Duration> {
        Some(rt().block_on(async move {
            let (a_tx, mut a_rx) = conductor::sync::mpsc::channel::<u32>(1);
            let (b_tx, mut b_rx) = conductor::sync::mpsc::channel::<u32>(1);
            let start = Instant::now();
            let pinger = conductor::spawn(async move {
                for i in 0..n {
                    a_tx.send(i as u32).await.expect("pong side gone");
                    b_rx.recv().await.expect("pong side gone");
                }
            });
            let ponger = conductor::spawn(async move {
                for _ in 0..n {
                    let v = a_rx.recv().await.expect("ping side gone");
                    b_tx.send(v).await.expect("ping side gone");
                }
            });
            pinger.await.expect("ping failed");
            ponger.await.expect("pong failed");
            start.elapsed()
        }))
    }

    fn timeout(&self, n: usize, turn_every: usize) -> Duration {
        rt().block_on(async move {
            let start = Instant::now();
            for i in 0..n {
                let t = pin!(conductor::timeout(
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
        rt().block_on(async move {
            let start = conductor::now();
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    conductor::spawn(async move {
                        let deadline = start + deadline_offset(i);
                        let armed = conductor::now().saturating_duration_since(start);
                        conductor::sleep_until(deadline).await;
                        let late = conductor::now().saturating_duration_since(deadline);
                        Sleeper { armed, late }
                    })
                })
                .collect();
            let mut sleepers = Vec::with_capacity(n);
            for h in handles {
                sleepers.push(h.await.expect("sleeping task failed"));
            }
            sleepers
        })
    }

    fn parked_memory(&self, n: usize) -> isize {
        reset_parked();
        rt().block_on(async move {
            let mut handles = Vec::with_capacity(n);
            let before = allocated();
            for _ in 0..n {
                handles.push(conductor::spawn(parked()));
            }
            while parked_polled() < n {
                conductor::yield_now().await;
            }
            allocated() - before
        })
    }
}
