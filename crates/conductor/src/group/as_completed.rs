//! `as_completed`: the given tasks, in the order they finish.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_core::Stream;

use super::Waitable;
use crate::time::{Sleep, TimedOut, sleep};

/// Yields `tasks` in completion order, as a stream of the original (now finished) tasks
/// (asyncio 3.13's `async for t in as_completed(tasks)`).
///
/// The tasks are any [`Waitable`] handles (`Task<T>`s, references, `&dyn Waitable` to mix output
/// types); [`Waitable::has_failed`] tells whether a yielded task failed, as `await t` raising
/// does in asyncio.
///
/// ```
/// use std::time::Duration;
/// use conductor::{as_completed, sleep, spawn};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let tasks = [3, 1, 2].map(|n| spawn(async move {
///     sleep(Duration::from_secs(n)).await;
///     n
/// }));
/// let mut order = Vec::new();
/// let mut stream = as_completed(tasks);
/// while let Some(task) = stream.next().await {
///     order.push(task.await.unwrap());
/// }
/// assert_eq!(order, [1, 2, 3]);
/// # });
/// ```
pub fn as_completed<H, I>(tasks: I) -> AsCompleted<H>
where
    H: Waitable,
    I: IntoIterator<Item = H>,
{
    let tasks: Vec<Option<H>> = tasks.into_iter().map(Some).collect();
    let shared = Rc::new(Shared::default());
    for (i, task) in tasks.iter().enumerate() {
        let shared = shared.clone();
        task.as_ref()
            .expect("just built")
            .as_task_ref()
            .add_done_callback(move |_| {
                shared.finished.borrow_mut().push_back(i);
                if let Some(w) = shared.waker.borrow_mut().take() {
                    w.wake();
                }
            });
    }
    AsCompleted { tasks, shared }
}

#[derive(Default)]
struct Shared {
    finished: RefCell<VecDeque<usize>>,
    waker: RefCell<Option<Waker>>,
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<H> {
    tasks: Vec<Option<H>>,
    shared: Rc<Shared>,
}

impl<H> AsCompleted<H> {
    /// The next task to finish, or `None` when all were yielded.
    pub async fn next(&mut self) -> Option<H> {
        poll_fn(|cx| self.poll_next_task(cx)).await
    }

    /// Gives up after `duration`: the stream then yields `Err(TimedOut)` once and ends (asyncio's
    /// `as_completed(..., timeout=)`, which raises `TimeoutError`).
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn with_timeout(self, duration: Duration) -> AsCompletedTimeout<H> {
        AsCompletedTimeout {
            inner: self,
            timer: sleep(duration),
            timed_out: false,
        }
    }

    fn poll_next_task(&mut self, cx: &mut Context<'_>) -> Poll<Option<H>> {
        if let Some(i) = self.shared.finished.borrow_mut().pop_front() {
            return Poll::Ready(self.tasks[i].take());
        }
        if self.tasks.iter().all(Option::is_none) {
            return Poll::Ready(None);
        }
        *self.shared.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<H> Unpin for AsCompleted<H> {}

impl<H> Stream for AsCompleted<H> {
    type Item = H;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<H>> {
        self.poll_next_task(cx)
    }
}

/// The stream returned by [`AsCompleted::with_timeout`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompletedTimeout<H> {
    inner: AsCompleted<H>,
    timer: Sleep,
    timed_out: bool,
}

impl<H> AsCompletedTimeout<H> {
    /// The next task to finish, `Err(TimedOut)` once time is up, then `None`.
    pub async fn next(&mut self) -> Option<Result<H, TimedOut>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<H> Unpin for AsCompletedTimeout<H> {}

impl<H> Stream for AsCompletedTimeout<H> {
    type Item = Result<H, TimedOut>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.timed_out {
            return Poll::Ready(None);
        }
        if let Poll::Ready(next) = self.inner.poll_next_task(cx) {
            return Poll::Ready(next.map(Ok));
        }
        if Pin::new(&mut self.timer).poll(cx).is_ready() {
            self.timed_out = true;
            return Poll::Ready(Some(Err(TimedOut)));
        }
        Poll::Pending
    }
}
