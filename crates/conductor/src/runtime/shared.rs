//! The part of a loop that outlives it and that other threads may reach: the remote queue, plus
//! the ready queue and task registry, which only the loop's own thread touches.
//!
//! Every task holds a strong count of its loop's `Shared`, so a foreign waker can always find the
//! remote queue, even after the loop is dropped (the queue is then closed and refuses pushes).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use super::ready::ReadyQueue;
use super::remote::{RemoteQueue, Unpark};
use crate::task::registry::Registry;

pub(crate) struct Shared {
    /// Unique among the loops of this process.
    pub(crate) id: u64,
    pub(crate) remote: RemoteQueue,
    /// Owner-thread only; see `with_local`.
    local: RefCell<Local>,
}

/// The loop's owner-thread state that tasks reach through their header.
pub(crate) struct Local {
    pub(crate) ready: ReadyQueue,
    pub(crate) registry: Registry,
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
            local: RefCell::new(Local {
                ready: ReadyQueue::default(),
                registry: Registry::default(),
            }),
        }
    }

    /// Runs `f` on the owner-thread state.
    ///
    /// # Safety
    /// The caller runs on the thread that owns this loop. `f` must not call back into code that
    /// could reach `with_local` again (the `RefCell` turns that mistake into a panic, not UB).
    pub(crate) unsafe fn with_local<R>(&self, f: impl FnOnce(&mut Local) -> R) -> R {
        f(&mut self.local.borrow_mut())
    }
}
