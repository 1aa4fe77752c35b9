//! Tasks: asyncio's `create_task`, `Task`, `current_task` and `all_tasks`.
//!
//! A task is one heap allocation (`raw`): a 64-byte header (`header`), then the future, whose
//! storage later holds the output. The loop's ready queue and wakers carry bare task pointers.
//!
//! Who may touch what:
//! - The remote word (`state`) is the only field other threads touch, through wakers. Its protocol
//!   (biased reference counting with a debt merged by the owner) is documented and loom-tested in
//!   `state.rs`.
//! - Every other header field belongs to the loop's thread. The handles that reach them
//!   (`Task<T>`, `TaskRef`, `LocalRef`) are `!Send`; wakers use them only after checking that they
//!   run on the task's loop (`runtime::context`).
//! - The future is polled and dropped only by the loop (`harness`): at completion, at a
//!   cancellation, or when the loop shuts down. The output is dropped by the `Task<T>` handle, or
//!   at completion when there is none. So nothing `!Send` is ever dropped on another thread, and
//!   tasks may hold `Rc` and `RefCell`.
//!
//! References: the registry holds one while the task is pending, each ready-queue entry one, the
//! `Task<T>`/`TaskRef` handles one each, each waker one.

pub(crate) mod blocks;
pub(crate) mod error;
pub(crate) mod harness;
pub(crate) mod header;
mod join;
pub(crate) mod join_waker;
pub(crate) mod raw;
pub(crate) mod registry;
pub(crate) mod state;
mod task_ref;
pub(crate) mod waker;

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use error::{InvalidState, TaskError};
pub(crate) use header::TaskPtr;
pub use join::Task;
pub(crate) use raw::LocalRef;
pub use task_ref::{CallbackId, TaskRef, TaskState};
pub(crate) use waker::schedule;

use crate::runtime::context;
use crate::runtime::ready::Runnable;
use crate::runtime::shared::Shared;
use std::sync::Arc;

/// Spawns `future` as a task on this thread's loop (asyncio's `create_task`). It starts at the
/// loop's next iteration; the returned [`Task`] is a future of its result.
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
    context::with_core(|core| match core {
        Some(core) => spawn_on(&core.shared, future, at),
        None => panic!(
            "conductor::spawn called outside a running event loop \
             (start one with conductor::run, or use Runtime::spawn)"
        ),
    })
}

/// [`spawn`] with a name (asyncio's `create_task(coro, name=...)`).
#[track_caller]
pub fn spawn_named<F>(name: impl Into<std::borrow::Cow<'static, str>>, future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let task = spawn(future);
    task.set_name(name);
    task
}

/// Spawns on the loop `shared`, from its own thread (the caller guarantees it).
pub(crate) fn spawn_on<F>(
    shared: &Arc<Shared>,
    future: F,
    at: &'static Location<'static>,
) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    use header::flags::{JOIN, QUEUED};
    let task = raw::allocate(future, shared);
    // SAFETY: we just allocated it and nobody else knows of it.
    let h = unsafe { task.header() };
    // The registry's hold, the ready-queue entry, and the `Task` handle.
    h.local.set(3);
    h.flags.set(QUEUED | JOIN);
    // SAFETY: the caller runs on the loop's thread; no user code runs inside.
    unsafe {
        shared.with_local(|l| {
            let (slot, _id) = l.registry.insert(task, at);
            h.slot.set(slot);
            l.ready.push(Runnable::task(LocalRef::adopt(task)));
        });
    }
    // SAFETY: the handle's reference was counted above.
    Task::new(TaskRef::from_local(unsafe { LocalRef::adopt(task) }))
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
    context::with_core(|core| {
        let Some(core) = core else { return Vec::new() };
        // SAFETY: the running loop's own thread.
        let tasks: Vec<TaskPtr> = unsafe {
            core.shared
                .with_local(|l| l.registry.tasks().filter_map(|s| s.task).collect())
        };
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
