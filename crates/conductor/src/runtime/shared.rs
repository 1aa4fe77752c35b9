//! The part of a loop that outlives it and that other threads may reach: the remote queue, plus
//! the ready queue and task registry, which only the loop's own thread touches.
//!
//! Every task holds a strong count of its loop's `Shared`, so a foreign waker can always find the
//! remote queue, even after the loop is dropped (the queue is then closed and refuses pushes).

use std::cell::RefCell;
use std::marker::PhantomData;
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
    local: RefCell<Local>,
}

/// Proof that this thread owns the loop whose `Shared` it is used with: zero-sized and `!Send`,
/// so it never leaves the thread that made it. Made only where ownership is shown:
/// [`Core::on_loop`](super::core::Core::on_loop) (a `Core` is `!Sync`: a `&Core` exists only on
/// its thread, and entering the loop is done through it), [`Shared::on_loop_here`] (this loop
/// is the one entered on this thread), and the task's `!Send` local handles
/// (`task::LocalRef::on_loop`).
#[derive(Clone, Copy)]
pub(crate) struct OnLoop {
    _not_send: PhantomData<*const ()>,
}

impl OnLoop {
    /// # Safety
    /// The caller runs on the thread that owns every loop it uses the token with.
    #[inline]
    pub(crate) unsafe fn new_unchecked() -> OnLoop {
        OnLoop {
            _not_send: PhantomData,
        }
    }
}

/// The loop's owner-thread state that tasks reach through their header.
pub(crate) struct Local {
    pub(crate) ready: ReadyQueue,
    pub(crate) registry: Registry,
    /// Blocks of finished tasks, for the next spawns.
    pub(crate) blocks: BlockCache,
}

// SAFETY: `local` is accessed only through `with_local`, whose callers prove with an `OnLoop`
// that they run on the loop's own thread. The other fields are thread-safe.
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
                blocks: BlockCache::default(),
            }),
        }
    }

    /// Runs `f` on the owner-thread state. `f` must not reach `with_local` again (it runs no user
    /// code: pushes, counts, slab updates); a violation panics rather than aliasing.
    #[inline]
    pub(crate) fn with_local<R>(&self, _on: OnLoop, f: impl FnOnce(&mut Local) -> R) -> R {
        f(&mut self.local.borrow_mut())
    }

    /// A proof of ownership when this loop is the one entered on this thread.
    #[inline]
    pub(crate) fn on_loop_here(&self) -> Option<OnLoop> {
        crate::context::is_running_loop(std::ptr::from_ref(self).cast())
            // SAFETY: the loop runs on this thread, so this thread owns it.
            .then(|| unsafe { OnLoop::new_unchecked() })
    }
}
