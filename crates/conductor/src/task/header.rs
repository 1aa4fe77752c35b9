//! The task header: the first 56 bytes of every task allocation (a unit test pins the size).
//!
//! Only `state` is touched by threads other than the owner (see `state`). Every other field is
//! owner-only: it is read and written on the thread that runs the task's loop, which is what makes
//! plain `Cell`s sound here (`Header` is `Sync` only for the sake of `state`).

use std::any::Any;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::Arc as StdArc;

use super::join_waker::JoinWaker;

use super::state::RemoteState;
use crate::cancel::scope::ScopeTree;
use crate::runtime::shared::Shared;

/// Local flags, in `Header::flags`.
pub(crate) mod flags {
    /// An entry for the task is in the ready queue.
    pub(crate) const QUEUED: u32 = 1 << 0;
    /// The loop is polling the task.
    pub(crate) const RUNNING: u32 = 1 << 1;
    /// The future is gone: it finished, was cancelled, or panicked.
    pub(crate) const COMPLETE: u32 = 1 << 2;
    /// The output is stored and not yet taken.
    pub(crate) const HAS_OUTPUT: u32 = 1 << 3;
    /// The task ended by cancellation.
    pub(crate) const CANCELLED: u32 = 1 << 4;
    /// The task ended by a panic (payload in `Extra::panic`).
    pub(crate) const PANICKED: u32 = 1 << 5;
    /// The typed handle (`Task<T>`) is alive, so the output is kept.
    pub(crate) const JOIN: u32 = 1 << 6;
    /// A cancellation of the whole task waits for its next suspension point.
    pub(crate) const MUST_CANCEL: u32 = 1 << 7;
    /// The loop is gone: references are counted in the remote word only.
    pub(crate) const ORPHANED: u32 = 1 << 8;
    /// The output was taken (by `await` or `result()`).
    pub(crate) const TAKEN: u32 = 1 << 9;
    /// The task failed with an error that its `TaskGroup` took (it ends as cancelled would).
    pub(crate) const FAILED_IN_GROUP: u32 = 1 << 10;
    /// The task holds a strong count of its loop's `Arc<Shared>` (taken when the owner lets go
    /// of a task that other threads still reference; released in `dealloc`).
    pub(crate) const PINS_LOOP: u32 = 1 << 11;
    /// The task ended cancelled by a cancellation forwarded from the task awaiting it, which has
    /// passed it on: the `Task` handle stays pending.
    pub(crate) const JOIN_RERAISED: u32 = 1 << 12;
    /// Some task registered itself as awaiting this one (a forwarding node names it).
    pub(crate) const AWAITED: u32 = 1 << 13;
}

/// Type-specific operations, one table per future type.
pub(crate) struct Vtable {
    /// Polls the future; on completion stores the output (or records the panic) and returns true.
    pub(crate) poll: unsafe fn(TaskPtr, &mut std::task::Context<'_>) -> bool,
    /// Drops the future in place (cancellation, loop shutdown); returns the payload of a panic
    /// in its destructor.
    pub(crate) drop_future: unsafe fn(TaskPtr) -> Option<Box<dyn Any + Send>>,
    /// Drops the stored output.
    pub(crate) drop_output: unsafe fn(TaskPtr),
    /// Moves the stored output into `*dst`, which is a `MaybeUninit<T>` of the output type.
    pub(crate) take_output: unsafe fn(TaskPtr, *mut ()),
    /// The address of the stored output (a `T` of the output type), for reading it in place.
    pub(crate) output: unsafe fn(TaskPtr) -> *const (),
    /// Releases the allocation and the loop reference (the payload is already gone).
    pub(crate) dealloc: unsafe fn(TaskPtr),
}

/// A done-callback, the id `remove_done_callback` knows it by, and where it was added (for the
/// report of a panic).
pub(crate) type DoneCallback = (
    u64,
    &'static std::panic::Location<'static>,
    Box<dyn FnOnce(super::TaskRef)>,
);

/// Rarely needed per-task data, allocated on first use so that the header stays at 56 bytes.
#[derive(Default)]
pub(crate) struct Extra {
    pub(crate) name: RefCell<Option<Cow<'static, str>>>,
    /// `Task.cancelling()`: cancel requests not yet taken back by `uncancel`.
    pub(crate) cancelling: Cell<u32>,
    pub(crate) cancel_msg: RefCell<Option<StdArc<str>>>,
    pub(crate) panic: RefCell<Option<Box<dyn Any + Send>>>,
    pub(crate) callbacks: RefCell<Vec<DoneCallback>>,
    pub(crate) next_callback: Cell<u64>,
    pub(crate) scopes: RefCell<ScopeTree>,
    /// Runs inline when the task completes, after its awaiter is woken (a shared task moves its
    /// outcome out here).
    pub(crate) on_complete: Cell<Option<CompletionHook>>,
    /// The task's `runtime.spawn` span (feature `tracing`; see `task::console`).
    #[cfg(feature = "tracing")]
    pub(crate) span: RefCell<Option<tracing::Span>>,
}

/// See `Extra::on_complete`.
pub(crate) type CompletionHook = Box<dyn FnOnce(TaskPtr)>;

#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: RemoteState,
    pub(crate) vtable: &'static Vtable,
    /// The loop this task belongs to. Alive while the task's owner side holds it (the runtime
    /// owns the loop then); a task that outlives its owner side pins it (`PINS_LOOP`).
    pub(crate) shared: NonNull<Shared>,
    /// Local reference count (see `state`).
    pub(crate) local: Cell<u32>,
    pub(crate) flags: Cell<u32>,
    /// Index in the loop's task registry.
    pub(crate) slot: Cell<u32>,
    /// Who awaits the output.
    pub(crate) join_waker: JoinWaker,
    /// `Extra`, or null. Allocated by `Box`, freed with the task, never moved in between.
    pub(crate) extra: Cell<*mut Extra>,
    /// The id of the task's span, 0 when it has none (feature `tracing`; any thread reads it).
    #[cfg(feature = "tracing")]
    pub(crate) span_id: std::sync::atomic::AtomicU64,
}

/// A pointer to a task's header. Copy, and owns nothing: whoever holds one proves by other
/// means that the task is alive.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct TaskPtr(NonNull<Header>);

// SAFETY: a `TaskPtr` is only an address. It crosses threads inside remote-queue entries, which
// pin the task (`NOTIFIED`), and inside wakers, which hold a reference; in both cases the foreign
// side touches nothing but the atomic remote word and the loop's `Arc`'d shared state.
unsafe impl Send for TaskPtr {}
// SAFETY: as for `Send`: shared access from another thread is limited to the atomic remote word.
unsafe impl Sync for TaskPtr {}

impl TaskPtr {
    pub(crate) fn from_header(h: NonNull<Header>) -> Self {
        TaskPtr(h)
    }

    /// The pointer as `context` keeps the running task (it knows no task type).
    pub(crate) fn erase(self) -> NonNull<()> {
        self.0.cast()
    }

    /// Undoes [`erase`](Self::erase).
    pub(crate) fn unerase(p: NonNull<()>) -> Self {
        TaskPtr(p.cast())
    }

    pub(crate) fn as_ptr(self) -> *const Header {
        self.0.as_ptr()
    }

    pub(crate) fn cast<T>(self) -> NonNull<T> {
        self.0.cast()
    }

    /// # Safety
    /// The task must be alive for the returned lifetime (a reference is held).
    pub(crate) unsafe fn header<'a>(self) -> &'a Header {
        // SAFETY: the caller holds a reference, so the allocation is live; the header is only
        // ever accessed through shared references.
        unsafe { self.0.as_ref() }
    }
}

impl Header {
    pub(crate) fn has(&self, f: u32) -> bool {
        self.flags.get() & f != 0
    }

    pub(crate) fn set(&self, f: u32) {
        self.flags.set(self.flags.get() | f);
    }

    pub(crate) fn clear(&self, f: u32) {
        self.flags.set(self.flags.get() & !f);
    }

    pub(crate) fn shared(&self) -> &Shared {
        // SAFETY: while the owner side holds the task, the runtime holds the loop; afterwards the
        // task pins it (`PINS_LOOP`) if anyone can still reach it. See `raw::let_go`.
        unsafe { self.shared.as_ref() }
    }

    /// Takes a strong count of the loop for the task. Owner thread, before the owner side lets go.
    pub(crate) fn pin_loop(&self) {
        if !self.has(flags::PINS_LOOP) {
            self.set(flags::PINS_LOOP);
            // SAFETY: `shared` came from an `Arc` that the runtime still holds (the owner side
            // has not let go yet), so incrementing its count is sound.
            unsafe { StdArc::increment_strong_count(self.shared.as_ptr()) };
        }
    }

    /// The extra block, allocating it on first use. Owner thread only.
    pub(crate) fn extra(&self) -> &Extra {
        let mut p = self.extra.get();
        if p.is_null() {
            p = Box::into_raw(Box::default());
            self.extra.set(p);
        }
        // SAFETY: `p` came from `Box::into_raw` and is freed only in `dealloc`, after every
        // reference to the task (and so to this header) is gone.
        unsafe { &*p }
    }

    /// The extra block if it exists.
    pub(crate) fn extra_if_any(&self) -> Option<&Extra> {
        let p = self.extra.get();
        // SAFETY: as in `extra`.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Frees the extra block. Called once, when the task is deallocated.
    #[inline]
    pub(crate) fn free_extra(&self) {
        if !self.extra.get().is_null() {
            self.free_extra_slow();
        }
    }

    fn free_extra_slow(&self) {
        let p = self.extra.replace(std::ptr::null_mut());
        // SAFETY: `p` is not null (checked by `free_extra`), came from `Box::into_raw`, and this
        // is the only place that frees it.
        drop(unsafe { Box::from_raw(p) });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(not(feature = "tracing"))]
    fn header_leaves_room_for_a_small_future_in_one_cache_line() {
        assert_eq!(std::mem::size_of::<super::Header>(), 56);
    }

    #[test]
    #[cfg(feature = "tracing")]
    fn the_span_id_is_the_one_word_tracing_adds() {
        assert_eq!(std::mem::size_of::<super::Header>(), 64);
    }
}
