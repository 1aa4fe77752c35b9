//! The workloads, written once per runtime behind [`Contender`]. Each method builds a fresh
//! runtime, times only the workload inside it (not building or dropping the runtime), and
//! returns the raw total; `main` turns totals into per-operation figures.

pub mod conductor;
pub mod monoio;
pub mod smol;
pub mod tokio;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

/// One runtime's implementation of every workload.
pub trait Contender {
    /// The column name.
    fn name(&self) -> &'static str;
    /// Spawns `n` trivial tasks, keeps the handles, awaits them all; total time.
    fn spawn(&self, n: usize) -> Duration;
    /// The same with tasks started eagerly (asyncio 3.12's eager task factory), where the
    /// runtime has them.
    fn spawn_eager(&self, _n: usize) -> Option<Duration> {
        None
    }
    /// Each task spawns the next, `n` deep; the last signals through a channel; total time.
    fn chained_spawn(&self, n: usize) -> Duration;
    /// `tasks` tasks each yield `yields` times; total time. None for a runtime that cannot
    /// yield to other tasks.
    fn yield_now(&self, tasks: usize, yields: usize) -> Option<Duration>;
    /// Two tasks, `n` round trips over `async-channel` bounded(1) channels; total time.
    fn ping_pong(&self, n: usize) -> Duration;
    /// The same over the runtime's own channel, where there is one worth comparing.
    fn ping_pong_native(&self, _n: usize) -> Option<Duration> {
        None
    }
    /// `n` timeouts of 1 s around a pending future, each polled once then dropped, with a
    /// scheduler [`turn`] after every `turn_every` of them; total time.
    fn timeout(&self, n: usize, turn_every: usize) -> Duration;
    /// `n` tasks sleep until `start + deadline_offset(i)`; when each armed its timer, and how
    /// late it woke.
    fn sleep_lateness(&self, n: usize) -> Vec<Sleeper>;
    /// Bytes allocated for `n` parked tasks (each polled once, kept alive by its handle).
    fn parked_memory(&self, n: usize) -> isize;
}

/// What one `sleep_lateness` task saw, on its runtime's clock.
pub struct Sleeper {
    /// From the start until it called `sleep_until` (it had been spawned and first polled).
    pub armed: Duration,
    /// From its deadline until it ran again.
    pub late: Duration,
}

/// Task `i`'s deadline in `sleep_lateness`, after the start: 50 ms + (i % 1000) µs.
pub fn deadline_offset(i: usize) -> Duration {
    Duration::from_millis(50) + Duration::from_micros((i % 1000) as u64)
}

/// The small integer a `spawn` task returns.
pub fn small(i: usize) -> usize {
    i & 0xff
}

/// `parked_memory` tasks count their first poll here, so that the main task knows when the
/// runtime has polled every one (runtimes interleave the main future and tasks differently).
pub static PARKED_POLLED: AtomicUsize = AtomicUsize::new(0);

/// The parked task: counts its poll, then never completes. It captures nothing.
pub async fn parked() {
    PARKED_POLLED.fetch_add(1, Ordering::Relaxed);
    std::future::pending::<()>().await
}

/// Starts a `parked_memory` run's count from zero.
pub fn reset_parked() {
    PARKED_POLLED.store(0, Ordering::Relaxed);
}

/// How many parked tasks have been polled.
pub fn parked_polled() -> usize {
    PARKED_POLLED.load(Ordering::Relaxed)
}

/// The ping side of `ping_pong`: sends, then waits for the echo.
pub async fn ping(tx: async_channel::Sender<u32>, rx: async_channel::Receiver<u32>, n: usize) {
    for i in 0..n {
        tx.send(i as u32).await.expect("pong side gone");
        let echo = rx.recv().await.expect("pong side gone");
        debug_assert_eq!(echo, i as u32);
    }
}

/// The pong side of `ping_pong`: echoes every message.
pub async fn pong(rx: async_channel::Receiver<u32>, tx: async_channel::Sender<u32>, n: usize) {
    for _ in 0..n {
        let v = rx.recv().await.expect("ping side gone");
        tx.send(v).await.expect("ping side gone");
    }
}

/// One trip through the scheduler, the same on every runtime: the task wakes itself and
/// returns `Pending` once, so the runtime goes round its loop (timers and I/O included, where it
/// looks at them between polls) before polling it again.
pub fn turn() -> Turn {
    Turn(false)
}

/// See [`turn`].
pub struct Turn(bool);

impl Future for Turn {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
