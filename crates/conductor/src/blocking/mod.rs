//! Blocking work off the loop: asyncio's `to_thread` and `run_in_executor`.
//!
//! A bounded pool of threads per loop. Threads start on demand up to the bound and exit after
//! a keep-alive period without work. A job's result comes back through a future whose waker
//! reaches the loop through its remote queue. This module uses only `std` threads and wakers.

mod pool;

pub(crate) use pool::{OnIdle, Pool};

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::runtime::context;
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
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
    }));
    let job_slot = slot.clone();
    let accepted = context::with_core(|core| {
        let core = core.expect("conductor::to_thread called outside a running conductor loop");
        core.blocking.execute(Box::new(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(f)).map_err(TaskError::Panicked);
            let waker = {
                let mut s = job_slot.lock().unwrap_or_else(|e| e.into_inner());
                s.result = Some(result);
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }))
    });
    if !accepted {
        slot.lock().unwrap_or_else(|e| e.into_inner()).result = Some(Err(TaskError::cancelled(
            Some("the thread pool has shut down".into()),
        )));
    }
    Blocking { slot }
}

/// The same as [`to_thread`], under tokio's name.
pub fn spawn_blocking<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    to_thread(f)
}

struct Slot<T> {
    result: Option<Result<T, TaskError>>,
    waker: Option<Waker>,
}

/// The future returned by [`to_thread`] and [`spawn_blocking`].
#[must_use = "the blocking job runs anyway; await this to get its result"]
pub struct Blocking<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for Blocking<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = s.result.take() {
            return Poll::Ready(r);
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
