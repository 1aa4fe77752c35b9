//! `SharedTask`: a task whose result every observer reads, as in asyncio, where any number of
//! awaiters and done callbacks call `task.result()`.
//!
//! A plain [`Task`] moves its output to whoever takes it, which costs nothing extra. Asking for
//! sharing ([`Task::shared`]) moves the outcome, when the task ends, into the same state a
//! [`SettableFuture`](super::SettableFuture) keeps, with its list of waiters and callbacks.

// The `unsafe` of this module: a task reference made from the loop's own task list.
#![allow(unsafe_code)]

use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::state::{FutureState, Outcome};
use super::wait::{StateWait, Waited};
use crate::cancel::Awaited;
use crate::task::{CallbackId, InvalidState, Task, TaskError, TaskPtr, TaskRef};

/// Why a shared task has no value, in a form every observer can hold.
#[derive(Clone)]
enum Failure {
    Panicked(Arc<str>),
    FailedInGroup,
    InvalidState(InvalidState),
}

type State<T> = FutureState<T, Failure>;

/// A task that any number of tasks may await and read, each getting a clone of its output
/// (see [`Task::shared`]). Cheap to clone; `!Send`. Dereferences to [`TaskRef`] (`cancel`,
/// `name`, `state`...).
///
/// A panic reaches every observer as [`TaskError::Panicked`] whose payload is the panic's
/// message (a `String`): the original payload cannot be cloned.
///
/// ```
/// use std::future::IntoFuture;
/// # conductor::run(async {
/// let task = conductor::spawn(async { "ready".to_string() }).shared();
/// let readers: Vec<_> = (0..3).map(|_| conductor::spawn(task.clone().into_future())).collect();
/// for r in readers {
///     assert_eq!(r.await.unwrap().unwrap(), "ready");
/// }
/// assert_eq!(task.result().unwrap(), "ready"); // still there
/// # });
/// ```
pub struct SharedTask<T: 'static> {
    task: TaskRef,
    state: Rc<State<T>>,
}

impl<T: 'static> Task<T> {
    /// Turns this task into one whose result every observer can read (asyncio's model, where
    /// `task.result()` works for anyone, any number of times). The output is moved out of the
    /// task once, when it ends, and cloned for each reader.
    pub fn shared(self) -> SharedTask<T>
    where
        T: Clone,
    {
        let task = self.into_output_keeper();
        let state: Rc<State<T>> = Rc::new(FutureState::default());
        let on_end = state.clone();
        let hook = Box::new(move |ptr: TaskPtr| {
            // SAFETY: the hook runs on the task's loop thread, from `complete`, while the task
            // is alive; it was made for this task, whose output type is `T`.
            let mut task = Task::<T>::new(TaskRef::from_local(unsafe {
                crate::task::LocalRef::new(ptr)
            }));
            let _ = on_end.complete(outcome(task.result()));
        });
        if task.is_done() {
            hook(task.local().ptr());
        } else {
            crate::task::set_completion_hook(&task, hook);
        }
        SharedTask { task, state }
    }
}

fn outcome<T>(result: Result<T, TaskError>) -> Outcome<T, Failure> {
    match result {
        Ok(v) => Outcome::Value(v),
        Err(TaskError::Cancelled(c)) => Outcome::Cancelled(c.message().map(Arc::from)),
        Err(TaskError::Panicked(p)) => Outcome::Failed(Failure::Panicked(
            crate::task::error::panic_message(&*p).into(),
        )),
        Err(TaskError::FailedInGroup) => Outcome::Failed(Failure::FailedInGroup),
        // `Task::result` took the output before the task was shared.
        Err(TaskError::InvalidState(s)) => Outcome::Failed(Failure::InvalidState(s)),
    }
}

fn task_error(w: Waited<(), Failure>) -> TaskError {
    match w {
        Waited::Value(()) => unreachable!("values are mapped by the caller"),
        Waited::Failed(Failure::Panicked(m)) => TaskError::Panicked(Box::new(m.to_string())),
        Waited::Failed(Failure::FailedInGroup) => TaskError::FailedInGroup,
        Waited::Failed(Failure::InvalidState(s)) => TaskError::InvalidState(s),
        Waited::Cancelled(c) => TaskError::Cancelled(c),
    }
}

fn read<T: Clone>(w: Waited<T, Failure>) -> Result<T, TaskError> {
    match w {
        Waited::Value(v) => Ok(v),
        Waited::Failed(f) => Err(task_error(Waited::Failed(f))),
        Waited::Cancelled(c) => Err(task_error(Waited::Cancelled(c))),
    }
}

impl<T: Clone + 'static> SharedTask<T> {
    /// The result without waiting (asyncio's `Task.result()`), cloned: every call, by anyone,
    /// gets it. [`InvalidState::NotDone`] while the task runs.
    pub fn result(&self) -> Result<T, TaskError> {
        self.state.with_outcome(|o| match o {
            None => Err(TaskError::InvalidState(InvalidState::NotDone)),
            Some(Outcome::Value(v)) => Ok(v.clone()),
            Some(Outcome::Failed(f)) => Err(task_error(Waited::Failed(f.clone()))),
            Some(Outcome::Cancelled(m)) => Err(TaskError::cancelled(m.clone())),
        })
    }

    /// Runs `f` with the task once its result is readable, from the loop (`call_soon`), in the
    /// order callbacks and awaiters registered.
    #[track_caller]
    pub fn add_done_callback(&self, f: impl FnOnce(&SharedTask<T>) + 'static) -> CallbackId {
        let task = self.task.clone();
        let id = self
            .state
            .add_callback(Box::new(move |state: &Rc<State<T>>| {
                f(&SharedTask {
                    task,
                    state: state.clone(),
                })
            }));
        CallbackId::new(id)
    }

    /// Removes a callback added by [`add_done_callback`](Self::add_done_callback) that has not
    /// been scheduled yet.
    pub fn remove_done_callback(&self, id: CallbackId) -> bool {
        self.state.remove_callback(id.get())
    }

    fn wait(&self) -> SharedTaskWait<T> {
        let awaited = Awaited::Task(self.task.local().clone());
        SharedTaskWait(StateWait::new(self.state.clone(), awaited))
    }
}

impl<T: 'static> Clone for SharedTask<T> {
    fn clone(&self) -> Self {
        SharedTask {
            task: self.task.clone(),
            state: self.state.clone(),
        }
    }
}

impl<T: 'static> Deref for SharedTask<T> {
    type Target = TaskRef;

    fn deref(&self) -> &TaskRef {
        &self.task
    }
}

impl<T: 'static> fmt::Debug for SharedTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedTask").field(&self.task).finish()
    }
}

/// The future of awaiting a [`SharedTask`]. Cancelling the awaiting task cancels the shared
/// task and waits for it, as awaiting a plain [`Task`] does.
#[must_use = "futures do nothing unless awaited"]
pub struct SharedTaskWait<T: 'static>(StateWait<T, Failure>);

impl<T: Clone + 'static> Future for SharedTaskWait<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_wait(cx).map(read)
    }
}

impl<T: Clone + 'static> IntoFuture for SharedTask<T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = SharedTaskWait<T>;

    fn into_future(self) -> SharedTaskWait<T> {
        self.wait()
    }
}

impl<T: Clone + 'static> IntoFuture for &SharedTask<T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = SharedTaskWait<T>;

    fn into_future(self) -> SharedTaskWait<T> {
        self.wait()
    }
}
