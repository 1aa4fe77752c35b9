//! The loop's exception handler (asyncio's `loop.set_exception_handler`,
//! `default_exception_handler` and `call_exception_handler`): where every error that nobody
//! retrieved goes.
//!
//! The engine reports through [`call_exception_handler`] (a detached task that panicked, a
//! panicking callback or done-callback, a failed selector poll), and so do the modules above it
//! (a failed connection handler, a background file write, an accept loop out of descriptors).
//! The handler always runs on the loop's own thread; reports made on other threads travel
//! through the loop's remote queue ([`Handle::call_exception_handler`]).
//!
//! [`Handle::call_exception_handler`]: crate::Handle::call_exception_handler

use std::any::Any;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::rc::Rc;
use std::sync::Arc;

use super::core::with_core;
use crate::task::TaskRef;
use crate::task::error::panic_message;

/// The error an [`ExceptionContext`] carries (asyncio's `context["exception"]`).
pub enum ContextError {
    /// A panic's payload, as `std::panic::catch_unwind` gives it.
    Panic(Box<dyn Any + Send>),
    /// An error value.
    Error(Box<dyn Error + Send + Sync>),
}

impl ContextError {
    /// The panic's message, when this is a panic with a string payload.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            ContextError::Panic(p) => Some(panic_message(&**p)),
            ContextError::Error(_) => None,
        }
    }

    /// The error value, when this is one.
    pub fn as_error(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match self {
            ContextError::Error(e) => Some(&**e),
            ContextError::Panic(_) => None,
        }
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextError::Panic(p) => write!(f, "panic: {}", panic_message(&**p)),
            ContextError::Error(e) => {
                write!(f, "error: {e}")?;
                let mut source = e.source();
                while let Some(s) = source {
                    write!(f, "\ncaused by: {s}")?;
                    source = s.source();
                }
                Ok(())
            }
        }
    }
}

/// No `source()`: `Display` already prints the error's chain (as asyncio's handler prints the
/// traceback), and a reporter walking `source()` would print it twice.
impl Error for ContextError {}

impl fmt::Debug for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextError::Panic(p) => f.debug_tuple("Panic").field(&panic_message(&**p)).finish(),
            ContextError::Error(e) => f.debug_tuple("Error").field(e).finish(),
        }
    }
}

/// The task a report concerns (asyncio's `context["task"]` / `context["future"]`), described
/// rather than referenced, so that a context can cross threads.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskInfo {
    /// The task's id on its loop.
    pub id: u64,
    /// The task's name (`Task-<id>` unless set).
    pub name: Cow<'static, str>,
    /// Where the task was spawned.
    pub spawned_at: &'static Location<'static>,
}

impl TaskInfo {
    /// Describes `task`.
    pub fn of(task: &TaskRef) -> TaskInfo {
        TaskInfo {
            id: task.id(),
            name: task.name(),
            spawned_at: task.spawned_at(),
        }
    }
}

/// What the exception handler receives (asyncio's `context` dict): a message, the task or
/// callback concerned, details, and the error.
///
/// Its `Display` is what the default handler prints:
///
/// ```
/// use conductor::runtime::ExceptionContext;
/// let ctx = ExceptionContext::new("Unhandled error in connection handler")
///     .with_detail("peer", "127.0.0.1:5000")
///     .with_error(std::io::Error::other("the client went away"));
/// assert_eq!(
///     ctx.to_string(),
///     "Unhandled error in connection handler\npeer: 127.0.0.1:5000\nerror: the client went away"
/// );
/// ```
pub struct ExceptionContext {
    message: Cow<'static, str>,
    task: Option<TaskInfo>,
    callback: Option<&'static Location<'static>>,
    details: Vec<(&'static str, String)>,
    error: Option<ContextError>,
}

impl ExceptionContext {
    /// A context with `message` only (asyncio's `{"message": ...}`).
    pub fn new(message: impl Into<Cow<'static, str>>) -> ExceptionContext {
        ExceptionContext {
            message: message.into(),
            task: None,
            callback: None,
            details: Vec::new(),
            error: None,
        }
    }

    /// Adds the error (asyncio's `"exception"` key).
    pub fn with_error(mut self, error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        self.error = Some(ContextError::Error(error.into()));
        self
    }

    /// Adds a panic's payload as the error.
    pub fn with_panic(mut self, payload: Box<dyn Any + Send>) -> Self {
        self.error = Some(ContextError::Panic(payload));
        self
    }

    /// Names the task concerned (asyncio's `"task"` or `"future"` key).
    pub fn with_task(mut self, task: &TaskRef) -> Self {
        self.task = Some(TaskInfo::of(task));
        self
    }

    /// Names the callback concerned by where it was scheduled (asyncio's `"handle"` key).
    pub fn with_callback(mut self, scheduled_at: &'static Location<'static>) -> Self {
        self.callback = Some(scheduled_at);
        self
    }

    /// Adds a detail, printed as `key: value` (asyncio's other keys: `"transport"`,
    /// `"socket"`...).
    pub fn with_detail(mut self, key: &'static str, value: impl fmt::Display) -> Self {
        self.details.push((key, value.to_string()));
        self
    }

    /// The message: what happened.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The task concerned, if any.
    pub fn task(&self) -> Option<&TaskInfo> {
        self.task.as_ref()
    }

    /// Where the callback concerned was scheduled (`call_soon`, `call_later`,
    /// `add_done_callback`...), if a callback is concerned.
    pub fn callback(&self) -> Option<&'static Location<'static>> {
        self.callback
    }

    /// The details, in the order they were added.
    pub fn details(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.details.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The value of the detail `key`, if present.
    pub fn detail(&self, key: &str) -> Option<&str> {
        self.details().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The error, if any.
    pub fn error(&self) -> Option<&ContextError> {
        self.error.as_ref()
    }

    /// Takes the error out (a handler that wants to keep it, or to resume a panic).
    pub fn take_error(&mut self) -> Option<ContextError> {
        self.error.take()
    }
}

impl fmt::Display for ExceptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(t) = &self.task {
            write!(f, "\ntask: {} (spawned at {})", t.name, t.spawned_at)?;
        }
        if let Some(at) = self.callback {
            write!(f, "\ncallback: scheduled at {at}")?;
        }
        for (k, v) in &self.details {
            write!(f, "\n{k}: {v}")?;
        }
        if let Some(e) = &self.error {
            write!(f, "\n{e}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ExceptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExceptionContext")
            .field("message", &self.message)
            .field("task", &self.task)
            .field("callback", &self.callback.map(|l| l.to_string()))
            .field("details", &self.details)
            .field("error", &self.error)
            .finish()
    }
}

/// The handler a `Builder` gives every loop it builds.
#[derive(Clone)]
pub(crate) struct ExceptionHook(pub(crate) Arc<dyn Fn(&ExceptionContext) + Send + Sync>);

impl fmt::Debug for ExceptionHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExceptionHook")
    }
}

/// The handler installed on a running loop.
pub(crate) type Handler = Rc<dyn Fn(&ExceptionContext)>;

impl ExceptionHook {
    pub(crate) fn into_handler(self) -> Handler {
        Rc::new(move |ctx: &ExceptionContext| (self.0)(ctx))
    }
}

/// Prints `context` to standard error, as asyncio's `loop.default_exception_handler` logs it:
/// the message, then the task or callback, the details and the error, one per line.
///
/// A custom handler can call it for the reports it does not treat itself.
///
/// ```
/// use conductor::runtime::{default_exception_handler, ExceptionContext};
/// default_exception_handler(&ExceptionContext::new("something went wrong"));
/// ```
pub fn default_exception_handler(context: &ExceptionContext) {
    eprintln!("{context}");
}

/// Replaces the running loop's exception handler (asyncio's `loop.set_exception_handler`).
/// It receives every error nobody retrieved; see [`call_exception_handler`] for the list.
///
/// A handler that panics is reported by the default handler ("Unhandled error in exception
/// handler"), and the loop goes on.
///
/// # Panics
/// Outside a running conductor loop (use [`Builder::exception_handler`](crate::Builder::exception_handler)
/// to set one before the loop runs).
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// # conductor::run(async {
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let log = seen.clone();
/// conductor::runtime::set_exception_handler(move |ctx| {
///     log.borrow_mut().push(ctx.message().to_owned())
/// });
/// conductor::spawn(async { panic!("lost") }).detach();
/// conductor::sleep(std::time::Duration::from_millis(1)).await;
/// assert_eq!(*seen.borrow(), ["Task exception was never retrieved"]);
/// conductor::runtime::reset_exception_handler();
/// # });
/// ```
pub fn set_exception_handler(handler: impl Fn(&ExceptionContext) + 'static) {
    with_core(|core| {
        let core = core.expect("set_exception_handler called outside a running conductor loop");
        *core.exception_handler.borrow_mut() = Some(Rc::new(handler));
    });
}

/// Puts the running loop back on the [`default_exception_handler`] (asyncio's
/// `loop.set_exception_handler(None)`). No effect outside a loop.
pub fn reset_exception_handler() {
    with_core(|core| {
        if let Some(core) = core {
            *core.exception_handler.borrow_mut() = None;
        }
    });
}

/// Reports `context` to the running loop's exception handler (asyncio's
/// `loop.call_exception_handler`); outside a loop, to the [`default_exception_handler`].
///
/// conductor reports here:
/// - a task that panicked and whose panic nobody retrieved: it had no [`Task`](crate::Task)
///   handle when it ended, or its handle was dropped without reading the result ("Task
///   exception was never retrieved");
/// - a `call_soon`/`call_later`/`call_at` callback or a done-callback that panicked
///   ("Exception in callback");
/// - a server's connection handler that panicked or returned an error, an accept loop out of
///   file descriptors, a background file write that failed, a failed selector poll.
///
/// A detached task whose output is an `Err` is **not** reported: a task's output type is
/// generic, and telling a `Result` apart from other outputs would need specialisation. A
/// detached task that may fail reports its own error:
///
/// ```
/// use conductor::runtime::{call_exception_handler, ExceptionContext};
/// # conductor::run(async {
/// conductor::spawn(async {
///     if let Err(e) = std::fs::read("/no/such/file") {
///         call_exception_handler(ExceptionContext::new("could not read the config").with_error(e));
///     }
/// })
/// .detach();
/// # });
/// ```
pub fn call_exception_handler(context: ExceptionContext) {
    with_core(|core| match core {
        Some(core) => core.call_exception_handler(context),
        None => default_exception_handler(&context),
    });
}

/// Reports to the handler of the loop `loop_id` if it runs on this thread, else to the default
/// handler (a `Task` handle dropped after its loop went away).
pub(crate) fn call_exception_handler_of(loop_id: u64, context: ExceptionContext) {
    with_core(|core| match core.filter(|c| c.id == loop_id) {
        Some(core) => core.call_exception_handler(context),
        None => default_exception_handler(&context),
    });
}

/// A pool thread could not be started (the job stays queued for the threads that exist).
pub(crate) fn report_pool_spawn_error(e: std::io::Error) {
    call_exception_handler(
        ExceptionContext::new(
            "Could not start a thread-pool thread; the job waits for a running one",
        )
        .with_error(e),
    );
}

/// Runs `handler` on `context`; a panicking handler is reported by the default handler.
pub(crate) fn run_handler(handler: Option<Handler>, context: ExceptionContext) {
    let Some(handler) = handler else {
        return default_exception_handler(&context);
    };
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| handler(&context))) {
        let report = ExceptionContext::new("Unhandled error in exception handler")
            .with_detail("context", context.to_string().replace('\n', "\n  "))
            .with_panic(payload);
        default_exception_handler(&report);
    }
}

/// The report of a task that panicked and whose panic nobody will read.
pub(crate) fn never_retrieved(task: &TaskRef, payload: Box<dyn Any + Send>) -> ExceptionContext {
    ExceptionContext::new("Task exception was never retrieved")
        .with_task(task)
        .with_panic(payload)
}
