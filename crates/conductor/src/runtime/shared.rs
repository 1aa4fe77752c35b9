//! The part of a loop that outlives it and that other threads may reach: the remote queue, plus
//! the ready queue and task registry, which only the loop's own thread touches.
//!
//! Every task holds a strong count of its loop's `Shared`, so a foreign waker can always find the
//! remote queue, even after the loop is dropped (the queue is then closed and refuses pushes).

use std::sync::atomic::{AtomicU64, Ordering};

use super::ready::ReadyQueue;
use super::remote::{RemoteQueue, Unpark};
use crate::task::blocks::BlockCache;
use crate::task::registry::Registry;

pub(crate) struct Shared {
    /// Unique among the loops of this process.
    pub(crate) id: u64,
    pub(crate) remote: RemoteQueue,
    /// Owner-thread only; see `with_local`.
    local: LocalCell<Local>,
}

/// The owner-thread state's cell: a `RefCell` in debug builds, so that a re-entrant access
/// panics in the tests; a plain `UnsafeCell` in release builds, where `with_local`'s contract
/// (no re-entrance, checked by every debug run) makes the borrow flag redundant.
#[cfg(debug_assertions)]
struct LocalCell<T>(std::cell::RefCell<T>);

#[cfg(not(debug_assertions))]
struct LocalCell<T>(std::cell::UnsafeCell<T>);

impl<T> LocalCell<T> {
    fn new(value: T) -> Self {
        #[cfg(debug_assertions)]
        return LocalCell(std::cell::RefCell::new(value));
        #[cfg(not(debug_assertions))]
        return LocalCell(std::cell::UnsafeCell::new(value));
    }

    /// # Safety
    /// No other access to the value is live (see `Shared::with_local`).
    #[inline]
    unsafe fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(debug_assertions)]
        return f(&mut self.0.borrow_mut());
        // SAFETY: the caller guarantees exclusive access for the duration of `f`.
        #[cfg(not(debug_assertions))]
        return f(unsafe { &mut *self.0.get() });
    }
}

/// The loop's owner-thread state that tasks reach through their header.
pub(crate) struct Local {
    pub(crate) ready: ReadyQueue,
    pub(crate) registry: Registry,
    /// Blocks of finished tasks, for the next spawns.
    pub(crate) blocks: BlockCache,
}

// SAFETY: `local` is accessed only through `with_local`, whose callers prove they run on the loop's
// own thread (the loop is running there, or they hold a `!Send` handle created there). The other
// fields are thread-safe.
unsafe impl Sync for Shared {}
// SAFETY: as for `Sync`; `local` is dropped with the last `Arc<Shared>`, and by then it is empty
// (the loop drains both queues on close), so nothing `!Send` is dropped on another thread.
unsafe impl Send for Shared {}

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

impl Shared {
    pub(crate) fn new(unpark: Box<dyn Unpark>) -> Self {
        Shared {
            id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            remote: RemoteQueue::new(unpark),
            local: LocalCell::new(Local {
                ready: ReadyQueue::default(),
                registry: Registry::default(),
                blocks: BlockCache::default(),
            }),
        }
    }

    /// Runs `f` on the owner-thread state.
    ///
    /// # Safety
    /// The caller runs on the thread that owns this loop, and `f` neither runs user code nor
    /// reaches `with_local` again (debug builds turn a violation into a panic).
    #[inline]
    pub(crate) unsafe fn with_local<R>(&self, f: impl FnOnce(&mut Local) -> R) -> R {
        // SAFETY: the owner thread is the only one that touches `local`, and the caller rules
        // out re-entrance, so this is the only live access.
        unsafe { self.local.with(f) }
    }
}
