//! `TaskRef`: an untyped handle to a task on this thread's loop, for introspection and
//! cancellation (what asyncio code does with a `Task` object other than awaiting it).

use std::borrow::Cow;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

use super::header::{Header, flags::*};
use super::raw::LocalRef;

/// The states of a task, as the asyncio guides draw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// In the ready queue, waiting for the loop to pick it.
    Ready,
    /// Being polled right now.
    Running,
    /// Waiting at an `await` for IO, a timer or another task.
    Suspended,
    /// Finished with a value.
    Done,
    /// Finished by cancellation.
    Cancelled,
    /// Finished by a panic.
    Failed,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Ready => "ready",
            TaskState::Running => "running",
            TaskState::Suspended => "suspended",
            TaskState::Done => "done",
            TaskState::Cancelled => "cancelled",
            TaskState::Failed => "failed",
        })
    }
}

/// Identifies a done-callback, for [`TaskRef::remove_done_callback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackId(u64);

impl CallbackId {
    pub(crate) fn new(id: u64) -> Self {
        CallbackId(id)
    }

    pub(crate) fn get(self) -> u64 {
        self.0
    }
}

/// An untyped reference to a task of this thread's loop. Cheap to clone; `!Send`.
///
/// [`Task<T>`](crate::Task) dereferences to it, so every method here works on a `Task` too.
#[derive(Clone)]
pub struct TaskRef {
    task: LocalRef,
}

impl TaskRef {
    pub(crate) fn from_local(task: LocalRef) -> Self {
        TaskRef { task }
    }

    pub(crate) fn local(&self) -> &LocalRef {
        &self.task
    }

    /// The task of this loop awaiting this one's output (`task.await`), if any.
    pub(crate) fn awaited_by(&self) -> Option<std::ptr::NonNull<()>> {
        self.header().join_waker.awaiting_task().map(|t| t.erase())
    }

    /// The task's address, as `trace` records it.
    pub(crate) fn erased(&self) -> std::ptr::NonNull<()> {
        self.task.ptr().erase()
    }

    fn header(&self) -> &Header {
        self.task.header()
    }

    /// The task's id and where it was spawned (the registry keeps its slot while any
    /// owner-side reference, ours, exists).
    fn registration(&self) -> (u64, &'static Location<'static>) {
        let h = self.header();
        h.shared().registration(self.task.on_loop(), h.slot.get())
    }

    /// A number unique among this loop's tasks; `Task-<id>` is the default name.
    pub fn id(&self) -> u64 {
        self.registration().0
    }

    /// The task's name: the one given by [`set_name`](Self::set_name), or `Task-<id>`.
    pub fn name(&self) -> Cow<'static, str> {
        if let Some(extra) = self.header().extra_if_any()
            && let Some(name) = &*extra.name.borrow()
        {
            return name.clone();
        }
        Cow::Owned(format!("Task-{}", self.id()))
    }

    /// Names the task (asyncio's `Task.set_name`).
    pub fn set_name(&self, name: impl Into<Cow<'static, str>>) {
        *self.header().extra().name.borrow_mut() = Some(name.into());
    }

    /// Where the task was spawned.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.registration().1
    }

    /// The task's current state.
    pub fn state(&self) -> TaskState {
        let h = self.header();
        if h.has(COMPLETE) {
            if h.has(PANICKED | FAILED_IN_GROUP) {
                TaskState::Failed
            } else if h.has(CANCELLED) {
                TaskState::Cancelled
            } else {
                TaskState::Done
            }
        } else if h.has(RUNNING) {
            TaskState::Running
        } else if h.has(QUEUED) {
            TaskState::Ready
        } else {
            TaskState::Suspended
        }
    }

    /// Whether the task finished (with a value, a panic, or by cancellation): asyncio's `done()`.
    pub fn is_done(&self) -> bool {
        self.header().has(COMPLETE)
    }

    /// asyncio's name for [`is_done`](Self::is_done).
    #[inline]
    pub fn done(&self) -> bool {
        self.is_done()
    }

    /// Whether the task ended by cancellation: asyncio's `cancelled()`. A task that caught its
    /// cancellation and returned normally is not cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.header().has(CANCELLED)
    }

    /// asyncio's name for [`is_cancelled`](Self::is_cancelled).
    #[inline]
    pub fn cancelled(&self) -> bool {
        self.is_cancelled()
    }

    /// Requests cancellation, delivered at the task's next suspension point. Returns false when
    /// the task is already done, true otherwise (also when it is already being cancelled).
    pub fn cancel(&self) -> bool {
        crate::cancel::cancel_task(self.task.ptr(), None)
    }

    /// [`cancel`](Self::cancel) with a message, which [`Cancelled::message`](crate::Cancelled::message)
    /// returns.
    pub fn cancel_with(&self, msg: impl Into<Arc<str>>) -> bool {
        crate::cancel::cancel_task(self.task.ptr(), Some(msg.into()))
    }

    /// The number of cancellation requests not taken back by [`uncancel`](Self::uncancel).
    pub fn cancelling(&self) -> u32 {
        self.header()
            .extra_if_any()
            .map_or(0, |e| e.cancelling.get())
    }

    /// Takes back one cancellation request and returns how many remain. When none remain, a
    /// cancellation not yet delivered is dropped (asyncio 3.13). No effect on a finished task.
    pub fn uncancel(&self) -> u32 {
        let h = self.header();
        let Some(extra) = h.extra_if_any() else {
            return 0;
        };
        let n = extra.cancelling.get();
        if h.has(COMPLETE) || n == 0 {
            return n;
        }
        extra.cancelling.set(n - 1);
        if n == 1 {
            h.clear(MUST_CANCEL);
        }
        n - 1
    }

    /// Runs `f` with this task once it is done, from the loop (`call_soon`), never inline. A
    /// panic in `f` goes to the loop's exception handler (see
    /// [`call_exception_handler`](crate::runtime::call_exception_handler)).
    #[track_caller]
    pub fn add_done_callback(&self, f: impl FnOnce(TaskRef) + 'static) -> CallbackId {
        let at = Location::caller();
        let extra = self.header().extra();
        let id = extra.next_callback.get();
        extra.next_callback.set(id + 1);
        if self.is_done() {
            let me = self.clone();
            crate::runtime::call_soon_internal(Box::new(move || f(me)), at);
        } else {
            extra.callbacks.borrow_mut().push((id, at, Box::new(f)));
        }
        CallbackId(id)
    }

    /// Removes a done-callback that has not been scheduled yet. Returns whether it was found.
    pub fn remove_done_callback(&self, id: CallbackId) -> bool {
        let Some(extra) = self.header().extra_if_any() else {
            return false;
        };
        let mut cbs = extra.callbacks.borrow_mut();
        let before = cbs.len();
        cbs.retain(|(i, _, _)| *i != id.0);
        before != cbs.len()
    }

    /// Whether two references point to the same task.
    pub fn same_task(&self, other: &TaskRef) -> bool {
        self.task.ptr() == other.task.ptr()
    }
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Task");
        d.field("name", &self.name()).field("state", &self.state());
        if self.cancelling() > 0 && !self.is_done() {
            d.field("cancelling", &self.cancelling());
        }
        d.field("spawned_at", &format_args!("{}", self.spawned_at()))
            .finish()
    }
}
