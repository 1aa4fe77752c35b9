//! `shield`: protect work from the cancellation of the task that awaits it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::{Task, TaskError};

/// Runs `future` as its own task and awaits it without passing cancellation on (asyncio's
/// `shield(aw)`).
///
/// If the awaiting task is cancelled, it is cancelled at this await as usual, but the shielded
/// task keeps running. If the shielded task itself is cancelled (by someone holding its handle),
/// the shield resolves to `Err(TaskError::Cancelled)`.
///
/// ```
/// use std::time::Duration;
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let outer = conductor::spawn(async {
///     conductor::shield(async {
///         conductor::sleep(Duration::from_secs(1)).await;
///         "saved"
///     })
///     .await
/// });
/// conductor::sleep(Duration::from_millis(10)).await;
/// outer.cancel();
/// assert!(outer.await.unwrap_err().is_cancelled()); // the awaiting task is cancelled...
/// assert_eq!(conductor::all_tasks().len(), 2); // ...the shielded one still runs (besides main)
/// # });
/// ```
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Shield {
        task: crate::spawn(future),
    }
}

/// The future returned by [`shield`].
#[must_use = "the shielded task runs anyway; await the shield to get its result"]
pub struct Shield<T> {
    task: Task<T>,
}

impl<T> Shield<T> {
    /// The shielded task.
    pub fn task(&self) -> &Task<T> {
        &self.task
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let r = self.task.poll_join(cx);
        if r.is_pending() {
            let inner = self.task.erased();
            crate::trace::note(|| crate::trace::Point::new("shield").awaits([inner]));
        }
        r
    }
}
