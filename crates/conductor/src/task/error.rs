//! Why a task produced no value: asyncio's `CancelledError`, an exception (here, a panic), and
//! `InvalidStateError`, as one error enum.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::cancel::Cancelled;

/// The error of awaiting a [`Task`](crate::Task) or reading its result.
#[non_exhaustive]
pub enum TaskError {
    /// The task was cancelled (asyncio's `CancelledError`).
    Cancelled(Cancelled),
    /// The task panicked; the payload is what `std::panic::catch_unwind` gives.
    Panicked(Box<dyn Any + Send>),
    /// The task failed with an error that was handed to its [`TaskGroup`](crate::TaskGroup), which
    /// reports it with the group's other failures.
    FailedInGroup,
    /// The result is not available (asyncio's `InvalidStateError`).
    InvalidState(InvalidState),
}

/// Why a result accessor could not give a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidState {
    /// The task is still running.
    NotDone,
    /// The result was already taken, by `await` or by `result()`.
    ResultTaken,
    /// The future already has its outcome: it cannot be set or cancelled again.
    AlreadyDone,
}

impl fmt::Display for InvalidState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidState::NotDone => "invalid state: not done yet (await it first)",
            InvalidState::ResultTaken => "invalid state: the result was already taken",
            InvalidState::AlreadyDone => "invalid state: the future is already done",
        })
    }
}

impl std::error::Error for InvalidState {}

impl TaskError {
    pub(crate) fn cancelled(msg: Option<Arc<str>>) -> Self {
        TaskError::Cancelled(Cancelled::new(msg, crate::cancel::Target::Task))
    }

    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskError::Cancelled(_))
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked(_))
    }

    /// The panic payload, if the task panicked.
    pub fn into_panic(self) -> Option<Box<dyn Any + Send>> {
        match self {
            TaskError::Panicked(p) => Some(p),
            _ => None,
        }
    }

    /// Resumes the task's panic on this thread, or returns `self` when it was no panic.
    pub fn resume_panic(self) -> Self {
        match self {
            TaskError::Panicked(p) => std::panic::resume_unwind(p),
            other => other,
        }
    }
}

/// The message of a panic payload, when it is a string.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled(c) => fmt::Display::fmt(c, f),
            TaskError::Panicked(p) => write!(f, "task panicked: {}", panic_message(&**p)),
            TaskError::FailedInGroup => {
                f.write_str("task failed; its error is reported by the TaskGroup it belongs to")
            }
            TaskError::InvalidState(s) => fmt::Display::fmt(s, f),
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled(c) => f.debug_tuple("Cancelled").field(c).finish(),
            TaskError::Panicked(p) => f
                .debug_tuple("Panicked")
                .field(&panic_message(&**p))
                .finish(),
            TaskError::FailedInGroup => f.write_str("FailedInGroup"),
            TaskError::InvalidState(s) => f.debug_tuple("InvalidState").field(s).finish(),
        }
    }
}

impl std::error::Error for TaskError {}
