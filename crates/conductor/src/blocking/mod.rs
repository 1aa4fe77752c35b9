//! Work off the loop: asyncio's `to_thread` and `run_in_executor`.
//!
//! Two pools of the same kind (`pool`): a bounded pool of threads per loop for blocking work
//! (files, DNS, blocking libraries), and one process-wide pool sized to the cores for CPU-bound
//! work ([`spawn_cpu`], asyncio's `ProcessPoolExecutor`), so that computations never queue
//! behind blocking calls, and N loops do not start N times the cores of compute threads.
//! Threads start on demand up to the bound and exit after a keep-alive period without work. A
//! job's result comes back through a future whose waker reaches the loop through its remote
//! queue.
//!
//! `pool` is a driver (std threads only; it imports nothing of the crate but the clock's
//! arithmetic); the loop owns its pool among its drivers, and the functions here reach it
//! through `context`. A thread that cannot be started is reported to the loop's exception
//! handler.

// Nothing here needs `unsafe` (ARCHITECTURE.md, "Unsafe").
#![forbid(unsafe_code)]

pub(crate) mod pool;

pub(crate) use pool::{Job, Pool};

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::context;
use crate::sync::oneshot;
use crate::task::TaskError;

/// Runs `f` on the loop's thread pool and resolves to its result (asyncio's
/// `asyncio.to_thread(func)`). A panic in `f` comes back as [`TaskError::Panicked`].
///
/// Dropping the returned future does not stop `f` (a running thread cannot be cancelled); its
/// result is then dropped.
///
/// # Panics
/// Outside a running conductor loop.
///
/// ```
/// # conductor::run(async {
/// let sum = conductor::to_thread(|| (1..=10u64).sum::<u64>()).await.unwrap();
/// assert_eq!(sum, 55);
/// # });
/// ```
pub fn to_thread<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (rx, job) = job(f);
    // A job the pool refuses is dropped unrun, with its sender: the future ends cancelled.
    context::with_drivers(|d| {
        let d = d.expect("conductor::to_thread called outside a running conductor loop");
        d.pool.execute(job)
    });
    Blocking { rx }
}

/// Runs the CPU-bound `f` on the process's CPU pool, one thread per core, and resolves to its
/// result (asyncio's `loop.run_in_executor(ProcessPoolExecutor(), f)`). A panic in `f` comes
/// back as [`TaskError::Panicked`].
///
/// Use it for computations (hashing, compression, parsing, number crunching); use
/// [`to_thread`] for calls that wait (files, blocking libraries). Each has its own threads, so
/// a computation never queues behind blocking calls, and blocking calls do not take the cores
/// from computations. The pool is shared by every loop of the process, so one loop per core
/// does not start a core's worth of threads per loop. No second process is needed: Python
/// needs one to get around the GIL, Rust threads compute in parallel.
///
/// Dropping the future does not stop `f`; its result is then dropped. While `f` runs, a
/// paused clock does not jump (as for `to_thread`).
///
/// # Panics
/// Outside a running conductor loop.
///
/// ```
/// # conductor::run(async {
/// let primes = conductor::spawn_cpu(|| (2..10_000u32).filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0)).count());
/// assert_eq!(primes.await.unwrap(), 1229);
/// # });
/// ```
pub fn spawn_cpu<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let hold = context::with_drivers(|d| {
        let d = d.expect("conductor::spawn_cpu called outside a running conductor loop");
        // Counted as the loop's own pool work, so that a paused clock waits for it.
        d.pool.hold_in_flight()
    });
    let (rx, job) = job(f);
    // The hold ends after the job published its result and woke its task: ended before, it
    // would let a paused clock jump in between, with the task's wake not yet sent.
    cpu_pool().execute(Box::new(move || {
        job();
        drop(hold);
    }));
    Blocking { rx }
}

/// The process's CPU pool: one thread per core, started on demand, idle threads exit after
/// 10 s.
fn cpu_pool() -> &'static Pool {
    static CPU: OnceLock<Pool> = OnceLock::new();
    CPU.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Pool::new(
            "conductor-cpu",
            cores,
            Duration::from_secs(10),
            None,
            crate::runtime::exception::report_pool_spawn_error,
        )
    })
}

/// A pool job running `f`, and the receiver its result comes back on.
fn job<F, T>(f: F) -> (oneshot::Receiver<Result<T, TaskError>>, Job)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let job = Box::new(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(f)).map_err(TaskError::Panicked);
        // A receiver gone (the future was dropped) drops the result here.
        let _ = tx.send(result);
    });
    (rx, job)
}

/// The same as [`to_thread`], under tokio's name.
pub fn spawn_blocking<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    to_thread(f)
}

/// The future returned by [`to_thread`], [`spawn_blocking`] and [`spawn_cpu`].
#[must_use = "the blocking job runs anyway; await this to get its result"]
pub struct Blocking<T> {
    rx: oneshot::Receiver<Result<T, TaskError>>,
}

impl<T> Future for Blocking<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| {
            r.unwrap_or_else(|_| {
                Err(TaskError::cancelled(Some(
                    "the thread pool has shut down".into(),
                )))
            })
        })
    }
}

/// Runs `f` on this loop's pool as work that the loop's close waits for (tokio's mandatory
/// blocking work), even once the pool has stopped taking ordinary jobs. Outside a loop, `f`
/// runs here, now.
pub(crate) fn spawn_mandatory(f: Job) {
    let f = context::with_drivers(|d| match d {
        Some(d) => {
            d.pool.execute_mandatory(f);
            None
        }
        None => Some(f),
    });
    if let Some(f) = f {
        f();
    }
}
