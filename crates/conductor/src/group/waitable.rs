//! `Waitable`: the task handles that `wait` and `as_completed` accept, and whether each failed.

use crate::future::SharedTask;
use crate::task::{Outcome, Task, TaskRef, TaskState};

use super::task_group::GroupTask;

/// A handle to a task that [`wait`](crate::wait) and [`as_completed`](crate::as_completed)
/// accept, and give back: a [`Task<T>`], a [`SharedTask<T>`], a [`GroupTask<T>`], a [`TaskRef`],
/// a reference to any of them, or `&dyn Waitable` to mix tasks of different output types
/// (asyncio's `wait` takes any set of futures).
///
/// [`has_failed`](Self::has_failed) is the combinators' one notion of a failed task: it
/// panicked, or failed in its `TaskGroup`, or returned a failed [`Outcome`] (an `Err`). A
/// cancelled task has not failed: asyncio's `wait(FIRST_EXCEPTION)` skips cancelled futures.
///
/// ```
/// use std::time::Duration;
/// use conductor::{sleep, spawn, wait, ReturnWhen, Waitable};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let fails = spawn(async { sleep(Duration::from_secs(1)).await; Err::<(), _>("no") });
/// let works = spawn(async { sleep(Duration::from_secs(5)).await; 42 });
/// let tasks: [&dyn Waitable; 2] = [&fails, &works];
/// let (done, pending) = wait(tasks, ReturnWhen::FirstException, None).await;
/// assert!(done.len() == 1 && done[0].has_failed());
/// assert_eq!(pending.len(), 1);
/// # });
/// ```
pub trait Waitable {
    /// The task, untyped.
    fn as_task_ref(&self) -> &TaskRef;

    /// Whether the task is done and failed (a panic, a failure in its group, or an `Err`
    /// output). False while it runs and when it was cancelled.
    fn has_failed(&self) -> bool;
}

/// A panic, or an error handed to the task's group: what the task itself records.
fn recorded_failure(task: &TaskRef) -> bool {
    task.state() == TaskState::Failed
}

impl<T: Outcome> Waitable for Task<T> {
    fn as_task_ref(&self) -> &TaskRef {
        self
    }

    /// Also true for an output that is a failure, while it is in the task (not taken by
    /// [`result`](Task::result) or `await`).
    fn has_failed(&self) -> bool {
        recorded_failure(self) || self.output_ref().is_some_and(Outcome::is_failure)
    }
}

impl<T: Outcome + Clone + 'static> Waitable for SharedTask<T> {
    fn as_task_ref(&self) -> &TaskRef {
        self
    }

    /// Also true for an output that is a failure (read through a clone of it).
    fn has_failed(&self) -> bool {
        recorded_failure(self) || self.result().is_ok_and(|v| v.is_failure())
    }
}

impl<T> Waitable for GroupTask<T> {
    fn as_task_ref(&self) -> &TaskRef {
        self
    }

    /// A child's `Err` went to its group, so the task records it as failed.
    fn has_failed(&self) -> bool {
        recorded_failure(self)
    }
}

impl Waitable for TaskRef {
    fn as_task_ref(&self) -> &TaskRef {
        self
    }

    /// An untyped handle cannot read the output: only panics and group failures count. Pass the
    /// `Task` (or a reference to it) for `Err` outputs to count too.
    fn has_failed(&self) -> bool {
        recorded_failure(self)
    }
}

impl<W: Waitable + ?Sized> Waitable for &W {
    fn as_task_ref(&self) -> &TaskRef {
        (**self).as_task_ref()
    }

    fn has_failed(&self) -> bool {
        (**self).has_failed()
    }
}

impl<W: Waitable + ?Sized> Waitable for Box<W> {
    fn as_task_ref(&self) -> &TaskRef {
        (**self).as_task_ref()
    }

    fn has_failed(&self) -> bool {
        (**self).has_failed()
    }
}
