//! tokio: a current-thread runtime with its IO and time drivers (`enable_all`), per run.

use std::hint::black_box;
use std::pin::pin;
use std::time::{Duration, Instant};

use super::{
    Contender, Sleeper, deadline_offset, parked, parked_polled, ping, pong, reset_parked, small,
};
use crate::harness::{allocated, poll_once};

/// tokio's current-thread scheduler.
pub struct Tokio;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn chain(done: async_channel::Sender<()>, n: usize) {
    if n == 0 {
        done.try_send(()).expect("chained_spawn receiver gone");
    } else {
        drop(tokio::spawn(async move { chain(done, n - 1) }));
    }
}

impl Contender for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn spawn(&self, n: usize) -> Duration {
        rt().block_on(async move {
            let start = Instant::now();
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(tokio::spawn(async move { small(i) }));
            }
            let mut sum = 0;
            for h in handles {
                sum += h.await.expect("spawned task failed");
            }
            black_box(sum);
            start.elapsed()
        })
    }

    fn chained_spawn(&self, n: usize) -> Duration {
        rt().block_on(async move {
            let (tx, rx) = async_channel::bounded(1);
            let start = Instant::now();
            drop(tokio::spawn(async move { chain(tx, n) }));
            rx.recv().await.expect("chain broken");
            start.elapsed()
        })
    }

    fn yield_now(&self, tasks: usize, yields: usize) -> Option<Duration> {
        Some(rt().block_on(async move {
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    tokio::spawn(async move {
                        for _ in 0..yields {
                            tokio::task::yield_now().await;
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
            let pinger = tokio::spawn(ping(a_tx, b_rx, n));
            let ponger = tokio::spawn(pong(a_rx, b_tx, n));
            pinger.await.expect("ping failed");
            ponger.await.expect("pong failed");
            start.elapsed()
        })
    }

    fn ping_pong_native(&self, n: usize) -> Option<Duration> {
        Some(rt().block_on(async move {
            let (a_tx, mut a_rx) = tokio::sync::mpsc::channel::<u32>(1);
            let (b_tx, mut b_rx) = tokio::sync::mpsc::channel::<u32>(1);
            let start = Instant::now();
            let pinger = tokio::spawn(async move {
                for i in 0..n {
                    a_tx.send(i as u32).await.expect("pong side gone");
                    b_rx.recv().await.expect("pong side gone");
                }
            });
            let ponger = tokio::spawn(async move {
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
                let t = pin!(tokio::time::timeout(
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
            let start = tokio::time::Instant::now();
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    tokio::spawn(async move {
                        let deadline = start + deadline_offset(i);
                        let armed = tokio::time::Instant::now().saturating_duration_since(start);
                        tokio::time::sleep_until(deadline).await;
                        let late = tokio::time::Instant::now().saturating_duration_since(deadline);
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
                handles.push(tokio::spawn(parked()));
            }
            while parked_polled() < n {
                tokio::task::yield_now().await;
            }
            allocated() - before
        })
    }
}
