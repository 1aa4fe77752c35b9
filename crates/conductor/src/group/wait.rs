//! `wait`: wait for tasks until a condition holds, without cancelling any.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::task::{CallbackId, Task, TaskState};
use crate::time::{sleep, Sleep};

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any task is done.
    FirstCompleted,
    /// As soon as any task panics; like `AllCompleted` when none does.
    FirstException,
    /// When every task is done.
    AllCompleted,
}

/// Waits for `tasks` until `return_when` holds or `timeout` passes, and returns them split
/// into `(done, pending)` (asyncio's `asyncio.wait`). Nothing is cancelled, neither on timeout
/// nor when the waiting task is cancelled.
///
/// asyncio raises `ValueError` for an empty input; here it returns two empty lists at once.
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
pub fn wait<T, I>(tasks: I, return_when: ReturnWhen, timeout: Option<Duration>) -> Wait<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    Wait {
        tasks: tasks.into_iter().collect(),
        return_when,
        timer: timeout.map(sleep),
        state: Rc::new(WaitState::default()),
        callbacks: Vec::new(),
    }
}

#[derive(Default)]
struct WaitState {
    done: Cell<usize>,
    failed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

/// The future returned by [`wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    tasks: Vec<Task<T>>,
    return_when: ReturnWhen,
    timer: Option<Sleep>,
    state: Rc<WaitState>,
    callbacks: Vec<CallbackId>,
}

impl<T> Wait<T> {
    fn satisfied(&self) -> bool {
        let n = self.tasks.len();
        let done = self.tasks.iter().filter(|t| t.is_done()).count();
        let failed = self.tasks.iter().any(|t| t.state() == TaskState::Failed);
        match self.return_when {
            ReturnWhen::FirstCompleted => done > 0 || n == 0,
            ReturnWhen::FirstException => failed || done == n,
            ReturnWhen::AllCompleted => done == n,
        }
    }

    fn split(&mut self) -> (Vec<Task<T>>, Vec<Task<T>>) {
        for (task, id) in self.tasks.iter().zip(self.callbacks.drain(..)) {
            task.remove_done_callback(id);
        }
        std::mem::take(&mut self.tasks)
            .into_iter()
            .partition(|t| t.is_done())
    }
}

impl<T> Unpin for Wait<T> {}

impl<T> Future for Wait<T> {
    type Output = (Vec<Task<T>>, Vec<Task<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.satisfied() {
            return Poll::Ready(this.split());
        }
        if let Some(timer) = &mut this.timer {
            if Pin::new(timer).poll(cx).is_ready() {
                return Poll::Ready(this.split());
            }
        }
        *this.state.waker.borrow_mut() = Some(cx.waker().clone());
        if this.callbacks.is_empty() {
            for task in &this.tasks {
                let state = this.state.clone();
                this.callbacks.push(task.add_done_callback(move |t| {
                    state.done.set(state.done.get() + 1);
                    if t.state() == TaskState::Failed {
                        state.failed.set(true);
                    }
                    if let Some(w) = state.waker.borrow_mut().take() {
                        w.wake();
                    }
                }));
            }
        }
        Poll::Pending
    }
}
