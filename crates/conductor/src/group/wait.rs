//! `wait`: wait for tasks until a condition holds, without cancelling any.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::Waitable;
use crate::task::CallbackId;
use crate::time::{Sleep, sleep};

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any task is done.
    FirstCompleted,
    /// As soon as any task fails ([`Waitable::has_failed`]: a panic or an `Err` output, not a
    /// cancellation); like `AllCompleted` when none does.
    FirstException,
    /// When every task is done.
    AllCompleted,
}

/// Waits for `tasks` until `return_when` holds or `timeout` passes, and returns them split
/// into `(done, pending)` (asyncio's `asyncio.wait`). Nothing is cancelled, neither on timeout
/// nor when the waiting task is cancelled.
///
/// The tasks are any [`Waitable`] handles: `Task<T>`s, references to them, or `&dyn Waitable`
/// to wait for tasks of different output types at once. As in asyncio, `wait` hears of the tasks
/// through done callbacks, so it returns in the same loop iteration as asyncio's would. asyncio
/// raises `ValueError` for an empty input; here it returns two empty lists at once.
///
/// ```
/// use std::time::Duration;
/// use conductor::{sleep, spawn, wait, ReturnWhen};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let tasks = [3, 1, 2].map(|n| spawn(async move {
///     sleep(Duration::from_secs(n)).await;
///     n
/// }));
/// let (mut done, pending) = wait(tasks, ReturnWhen::FirstCompleted, None).await;
/// assert_eq!(done.len(), 1);
/// assert_eq!(done[0].result().unwrap(), 1);
/// assert_eq!(pending.len(), 2);
/// # });
/// ```
pub fn wait<H, I>(tasks: I, return_when: ReturnWhen, timeout: Option<Duration>) -> Wait<H>
where
    H: Waitable,
    I: IntoIterator<Item = H>,
{
    Wait {
        tasks: tasks.into_iter().collect(),
        return_when,
        timer: timeout.map(sleep),
        state: Rc::new(WaitState::default()),
        callbacks: Vec::new(),
        done: 0,
        failed: false,
    }
}

#[derive(Default)]
struct WaitState {
    /// The tasks whose done callbacks ran, in the order they ran.
    ended: RefCell<Vec<usize>>,
    waker: RefCell<Option<Waker>>,
}

/// The future returned by [`wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<H> {
    tasks: Vec<H>,
    return_when: ReturnWhen,
    timer: Option<Sleep>,
    state: Rc<WaitState>,
    callbacks: Vec<CallbackId>,
    /// How many done callbacks ran, and whether one was for a failed task.
    done: usize,
    failed: bool,
}

impl<H: Waitable> Wait<H> {
    fn watch(&mut self) {
        for (index, task) in self.tasks.iter().enumerate() {
            let state = self.state.clone();
            let id = task.as_task_ref().add_done_callback(move |_| {
                state.ended.borrow_mut().push(index);
                if let Some(w) = state.waker.borrow_mut().take() {
                    w.wake();
                }
            });
            self.callbacks.push(id);
        }
    }

    /// asyncio's `_on_completion`, for each callback that ran since the last poll.
    fn satisfied(&mut self) -> bool {
        for index in self.state.ended.borrow_mut().drain(..) {
            self.done += 1;
            self.failed |= self.tasks[index].has_failed();
        }
        match self.return_when {
            ReturnWhen::FirstCompleted => self.done > 0,
            ReturnWhen::FirstException => self.failed || self.done == self.tasks.len(),
            ReturnWhen::AllCompleted => self.done == self.tasks.len(),
        }
    }

    fn split(&mut self) -> (Vec<H>, Vec<H>) {
        for (task, id) in self.tasks.iter().zip(self.callbacks.drain(..)) {
            task.as_task_ref().remove_done_callback(id);
        }
        std::mem::take(&mut self.tasks)
            .into_iter()
            .partition(|t| t.as_task_ref().is_done())
    }
}

impl<H> Unpin for Wait<H> {}

impl<H: Waitable> Future for Wait<H> {
    type Output = (Vec<H>, Vec<H>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.tasks.is_empty() {
            return Poll::Ready((Vec::new(), Vec::new()));
        }
        if this.callbacks.is_empty() {
            this.watch();
        }
        if this.satisfied() {
            return Poll::Ready(this.split());
        }
        if let Some(timer) = &mut this.timer
            && Pin::new(timer).poll(cx).is_ready()
        {
            return Poll::Ready(this.split());
        }
        *this.state.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}
