//! Tasks: asyncio's `create_task`, `Task`, `current_task` and `all_tasks`.
//!
//! A task is one heap allocation (`raw`): a 56-byte header (`header`), then the future, whose
//! storage later holds the output. The loop's ready queue and wakers carry bare task pointers.
//!
//! Who may touch what:
//! - The remote word (`state`) is the only field other threads touch, through wakers. Its protocol
//!   (biased reference counting with a debt merged by the owner) is documented and loom-tested in
//!   `state.rs`.
//! - Every other header field belongs to the loop's thread. The handles that reach them
//!   (`Task<T>`, `TaskRef`, `LocalRef`) are `!Send`; wakers use them only after checking that they
//!   run on the task's loop (`context`).
//! - The future is polled and dropped only by the loop (`harness`): at completion, at a
//!   cancellation, or when the loop shuts down. The output is dropped by the `Task<T>` handle, or
//!   at completion when there is none. So nothing `!Send` is ever dropped on another thread, and
//!   tasks may hold `Rc` and `RefCell`.
//!
//! References: the registry holds one while the task is pending, each ready-queue entry one, the
//! `Task<T>`/`TaskRef` handles one each, each waker one.

pub(crate) mod blocks;
#[cfg(feature = "tracing")]
mod console;
pub(crate) mod error;
pub(crate) mod graph;
pub(crate) mod harness;
pub(crate) mod header;
mod join;
pub(crate) mod join_waker;
mod outcome;
pub(crate) mod raw;
pub(crate) mod registry;
pub(crate) mod state;
mod task_ref;
pub(crate) mod waker;

use std::borrow::Cow;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use error::{InvalidState, PanicError, TaskError, resume_panic};
pub(crate) use header::TaskPtr;
pub use join::Task;
pub use outcome::{Outcome, Value};
pub(crate) use raw::LocalRef;
pub use task_ref::{CallbackId, TaskRef, TaskState};
pub(crate) use waker::{schedule, schedule_cancelled};

use crate::runtime::core::{Core, with_core};
use crate::runtime::ready::Runnable;
use crate::runtime::shared::{OnLoop, Shared};
use std::sync::Arc;

/// Spawns `future` as a task on this thread's loop (asyncio's `create_task`). It starts at the
/// loop's next iteration (or at once, until its first suspension, on a loop built with
/// [`Builder::eager_tasks`](crate::Builder::eager_tasks)); the returned [`Task`] is a future of
/// its result.
///
/// The future need not be `Send`: tasks stay on the loop that spawned them, so they may hold
/// `Rc` and `RefCell`. To run work on another loop, use its [`Handle`](crate::Handle).
///
/// # Panics
/// When no conductor loop runs on this thread (asyncio raises `RuntimeError: no running event
/// loop`).
///
/// ```
/// # conductor::run(async {
/// let task = conductor::spawn(async { 6 * 7 });
/// assert_eq!(task.await.unwrap(), 42);
/// # });
/// ```
#[track_caller]
#[doc(alias = "create_task")]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let at = Location::caller();
    with_core(|core| match core {
        Some(core) => start(core, future, at, None, core.config.eager_tasks),
        None => outside_a_loop(),
    })
}

#[cold]
fn outside_a_loop() -> ! {
    panic!(
        "conductor::spawn called outside a running event loop \
         (start one with conductor::run, or use Runtime::spawn)"
    )
}

/// Registers a task on `core` and starts it: eagerly when asked and the loop is running its
/// ready queue, else at the next iteration.
#[inline]
fn start<F>(
    core: &Core,
    future: F,
    at: &'static Location<'static>,
    name: Option<Cow<'static, str>>,
    eager: bool,
) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let (task, entry) = register(&core.shared, core.on_loop(), future, at);
    if let Some(name) = name {
        task.set_name(name);
    }
    #[cfg(feature = "tracing")]
    console::spawned(&task, at);
    if eager && core.may_start_eagerly() {
        harness::step_eagerly(entry, core);
    } else {
        entry.header().set(header::flags::QUEUED);
        core.shared
            .push_ready(core.on_loop(), Runnable::task(entry));
    }
    task
}

/// [`spawn`] with a name (asyncio's `create_task(coro, name=...)`).
#[track_caller]
pub fn spawn_named<F>(name: impl Into<Cow<'static, str>>, future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().name(name).spawn(future)
}

/// [`spawn`], starting the task at once (asyncio's `create_task(coro, eager_start=True)`): it
/// runs inside this call until its first suspension, and one that finishes without suspending
/// never touches the ready queue. Outside a running loop iteration (before `run` starts), the
/// task starts at the next iteration as usual, as in asyncio.
///
/// ```
/// # conductor::run(async {
/// let task = conductor::spawn_eager(async { 6 * 7 });
/// assert!(task.is_done(), "it ran to completion inside spawn_eager");
/// assert_eq!(task.await.unwrap(), 42);
/// # });
/// ```
#[track_caller]
pub fn spawn_eager<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().eager(true).spawn(future)
}

/// How to spawn a task: its name, and whether it starts eagerly.
///
/// ```
/// # conductor::run(async {
/// let task = conductor::task::Builder::new()
///     .name("worker")
///     .eager(true)
///     .spawn(async { conductor::current_task().unwrap().name().into_owned() });
/// assert_eq!(task.await.unwrap(), "worker", "named before its first step");
/// # });
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a task Builder does nothing until spawn is called"]
pub struct Builder {
    name: Option<Cow<'static, str>>,
    eager: Option<bool>,
}

impl Builder {
    /// The loop's defaults: `Task-<id>`, eager only on a loop built with
    /// [`Builder::eager_tasks`](crate::Builder::eager_tasks).
    pub fn new() -> Self {
        Builder::default()
    }

    /// The task's name (asyncio's `name=`), set before its first step.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether the task starts at once, inside `spawn` (asyncio's `eager_start=`); overrides
    /// the loop's default.
    pub fn eager(mut self, eager: bool) -> Self {
        self.eager = Some(eager);
        self
    }

    /// Spawns `future` on this thread's loop.
    ///
    /// # Panics
    /// When no conductor loop runs on this thread.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let at = Location::caller();
        with_core(|core| match core {
            Some(core) => {
                let eager = self.eager.unwrap_or(core.config.eager_tasks);
                start(core, future, at, self.name, eager)
            }
            None => outside_a_loop(),
        })
    }
}

/// Spawns on the loop `shared`, from its own thread (`on`), to start at the next iteration.
pub(crate) fn spawn_on<F>(
    shared: &Arc<Shared>,
    on: OnLoop,
    future: F,
    at: &'static Location<'static>,
) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let (task, entry) = register(shared, on, future, at);
    #[cfg(feature = "tracing")]
    console::spawned(&task, at);
    entry.header().set(header::flags::QUEUED);
    shared.push_ready(on, Runnable::task(entry));
    task
}

/// Allocates and registers a task: returns its handle and the reference its first step takes
/// (the ready queue's entry, or the eager step's).
fn register<F>(
    shared: &Arc<Shared>,
    on: OnLoop,
    future: F,
    at: &'static Location<'static>,
) -> (Task<F::Output>, LocalRef)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let task = raw::allocate(future, shared, on);
    // SAFETY: we just allocated it and nobody else knows of it.
    let h = unsafe { task.header() };
    // The registry's hold, the first step's reference, and the `Task` handle.
    h.local.set(3);
    h.flags.set(header::flags::JOIN);
    h.slot.set(shared.register(on, task, at));
    // SAFETY: both references were counted above.
    unsafe {
        (
            Task::new(TaskRef::from_local(LocalRef::adopt(task))),
            LocalRef::adopt(task),
        )
    }
}

/// Ends the running task as failed (its error went to its `TaskGroup`): at its next suspension
/// point, its future is dropped and its handle reports `TaskError::FailedInGroup`.
pub(crate) fn fail_current_task() {
    if let Some(task) = crate::cancel::current_task() {
        // SAFETY: the running task is alive; we are on its loop's thread.
        let h = unsafe { task.header() };
        h.set(header::flags::FAILED_IN_GROUP | header::flags::MUST_CANCEL);
    }
}

/// Sets the hook that runs inline when `task` completes (one per task).
pub(crate) fn set_completion_hook(task: &TaskRef, hook: header::CompletionHook) {
    let extra = task.local().header().extra();
    debug_assert!(
        extra.on_complete.take().is_none(),
        "one completion hook per task"
    );
    extra.on_complete.set(Some(hook));
}

/// The task being polled on this thread (asyncio's `current_task()`); `None` outside a task.
pub fn current_task() -> Option<TaskRef> {
    let task = crate::cancel::current_task()?;
    // SAFETY: the running task is alive and we are on its loop's thread.
    Some(TaskRef::from_local(unsafe { LocalRef::new(task) }))
}

/// Every task of this thread's loop that is not done yet (asyncio's `all_tasks()`).
pub fn all_tasks() -> Vec<TaskRef> {
    with_core(|core| {
        let Some(core) = core else { return Vec::new() };
        let tasks: Vec<TaskPtr> = core.shared.registered(core.on_loop());
        tasks
            .into_iter()
            // SAFETY: registered tasks are alive (the registry entry goes with the last
            // owner-side reference, and nothing has run since we read it).
            .map(|t| TaskRef::from_local(unsafe { LocalRef::new(t) }))
            .filter(|t| !t.is_done())
            .collect()
    })
}

/// Gives the loop one turn: the task goes to the back of the ready queue (asyncio's `sleep(0)`).
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
