//! Why a task produced no value: asyncio's `CancelledError`, an exception (here, a panic), and
//! `InvalidStateError`, as one error enum; and how it becomes an `io::Error`, so that
//! `task.await?` works in a function that returns `io::Result`.

use std::any::Any;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};

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

/// `task.await?` in a function that returns `io::Result`. Every variant becomes an error of kind
/// `Other`, whose inner error says what happened: a cancellation keeps its [`Cancelled`] (message
/// included), and a panic becomes a [`PanicError`] that keeps the payload, so the panic can
/// still be resumed ([`resume_panic`]) higher up: a bug stays a bug, not an IO failure nobody
/// can tell from a refused connection.
///
/// ```
/// use std::io;
/// # conductor::run(async {
/// async fn size() -> io::Result<usize> {
///     let task = conductor::spawn(async { 42 });
///     let n = task.await?; // TaskError into io::Error
///     Ok(n)
/// }
/// assert_eq!(size().await.unwrap(), 42);
/// # });
/// ```
impl From<TaskError> for io::Error {
    fn from(e: TaskError) -> Self {
        match e {
            TaskError::Cancelled(c) => io::Error::other(c),
            TaskError::Panicked(payload) => PanicError::new(payload).into(),
            other => io::Error::other(other.to_string()),
        }
    }
}

/// A task's panic carried inside an `io::Error` (by `From<TaskError> for io::Error`), with its
/// payload, so that it can still be resumed. Reach it with `err.get_ref()` and `downcast_ref`,
/// or resume it with [`resume_panic`].
pub struct PanicError {
    message: String,
    // A `Mutex` only to make the payload `Sync`, as an `io::Error`'s inner error must be; it is
    // locked once, to take the payload.
    payload: Mutex<Option<Box<dyn Any + Send>>>,
}

impl PanicError {
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Self {
        PanicError {
            message: panic_message(&*payload).to_owned(),
            payload: Mutex::new(Some(payload)),
        }
    }

    /// The panic's message, when its payload is a string.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Takes the payload (`None` once taken), for `std::panic::resume_unwind`.
    pub fn take_payload(&self) -> Option<Box<dyn Any + Send>> {
        self.payload
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

impl From<PanicError> for io::Error {
    fn from(e: PanicError) -> Self {
        io::Error::other(e)
    }
}

impl fmt::Display for PanicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task panicked: {}", self.message)
    }
}

impl fmt::Debug for PanicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PanicError").field(&self.message).finish()
    }
}

impl std::error::Error for PanicError {}

/// Resumes the task panic that `err` carries (a [`PanicError`] made by `From<TaskError>`), or
/// gives `err` back when it carries none: [`TaskError::resume_panic`] for an error that went
/// through `?` into an `io::Error`.
///
/// ```
/// use std::io;
/// # conductor::run(async {
/// async fn run() -> io::Result<()> {
///     conductor::spawn(async { panic!("bug") }).await?;
///     Ok(())
/// }
/// let err = run().await.unwrap_err();
/// let resume = std::panic::AssertUnwindSafe(|| conductor::task::resume_panic(err));
/// let resumed = std::panic::catch_unwind(resume);
/// assert_eq!(resumed.unwrap_err().downcast_ref::<&str>(), Some(&"bug"));
/// # });
/// ```
pub fn resume_panic(err: io::Error) -> io::Error {
    let payload = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<PanicError>())
        .and_then(PanicError::take_payload);
    match payload {
        Some(payload) => std::panic::resume_unwind(payload),
        None => err,
    }
}
