//! The part of a loop that outlives it and that other threads may reach: the remote queue, plus
//! the ready queue and task registry, which only the loop's own thread touches.
//!
//! Every task holds a strong count of its loop's `Shared`, so a foreign waker can always find the
//! remote queue, even after the loop is dropped (the queue is then closed and refuses pushes).

use std::alloc::Layout;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use super::ready::{ReadyQueue, Runnable};
use super::remote::{RemoteQueue, Unpark};
use crate::task::TaskPtr;
use crate::task::blocks::{BlockCache, Foreign};
use crate::task::registry::Registry;

pub(crate) struct Shared {
    /// Unique among the loops of this process.
    pub(crate) id: u64,
    pub(crate) remote: RemoteQueue,
    /// Blocks of tasks freed on other threads, for the block cache to take back.
    foreign: Foreign,
    /// Owner-thread only; see `with_local`.
    local: LocalCell<Local>,
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

/// The owner-thread state's cell: a `RefCell` in debug builds, so that a re-entrant access
/// panics in the tests; a plain `UnsafeCell` in release builds, where the borrow flag is redundant:
/// `with_local` is private, and its callers below run no user code and never nest.
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
            foreign: Foreign::default(),
            local: LocalCell::new(Local {
                ready: ReadyQueue::default(),
                registry: Registry::default(),
                blocks: BlockCache::default(),
            }),
        }
    }

    /// Runs `f` on the owner-thread state. Private: the operations below are the only
    /// callers, none runs user code (what they hand out is dropped by the caller, outside) and
    /// none nests, so this is the only live access.
    #[inline]
    fn with_local<R>(&self, _on: OnLoop, f: impl FnOnce(&mut Local) -> R) -> R {
        // SAFETY: `_on` proves this is the owner thread, the only one that touches `local`, and
        // the callers below never nest (debug builds turn a violation into a panic).
        unsafe { self.local.with(f) }
    }

    /// Queues `r` on the ready queue.
    #[inline]
    pub(crate) fn push_ready(&self, on: OnLoop, r: Runnable) {
        self.with_local(on, |l| l.ready.push(r));
    }

    pub(crate) fn ready_len(&self, on: OnLoop) -> usize {
        self.with_local(on, |l| l.ready.len())
    }

    /// Gives back what a burst grew the ready queue to, once it is mostly empty again.
    #[inline]
    pub(crate) fn shrink_ready(&self, on: OnLoop) {
        self.with_local(on, |l| l.ready.shrink());
    }

    /// Takes the oldest entry of the ready queue; the caller runs or drops it (outside).
    #[inline]
    pub(crate) fn pop_ready(&self, on: OnLoop) -> Option<Runnable> {
        self.with_local(on, |l| l.ready.pop())
    }

    /// Empties the ready queue; the caller drops the entries (which may run user code).
    pub(crate) fn take_ready(&self, on: OnLoop) -> VecDeque<Runnable> {
        self.with_local(on, |l| l.ready.take_all())
    }

    /// Registers a task; returns its slot.
    #[inline]
    pub(crate) fn register(
        &self,
        on: OnLoop,
        task: TaskPtr,
        at: &'static Location<'static>,
    ) -> u32 {
        self.with_local(on, |l| l.registry.insert(task, at).0)
    }

    #[inline]
    pub(crate) fn unregister(&self, on: OnLoop, slot: u32) {
        self.with_local(on, |l| l.registry.remove(slot));
    }

    /// A registered task's id and where it was spawned.
    pub(crate) fn registration(&self, on: OnLoop, slot: u32) -> (u64, &'static Location<'static>) {
        self.with_local(on, |l| {
            let s = l.registry.get(slot);
            (s.id, s.spawned_at)
        })
    }

    /// How many tasks were ever spawned on the loop.
    pub(crate) fn spawned(&self, on: OnLoop) -> u64 {
        self.with_local(on, |l| l.registry.spawned())
    }

    /// Every registered task.
    pub(crate) fn registered(&self, on: OnLoop) -> Vec<TaskPtr> {
        self.with_local(on, |l| l.registry.tasks().filter_map(|s| s.task).collect())
    }

    /// A block for a new task, from the cache.
    #[inline]
    pub(crate) fn alloc_block(&self, on: OnLoop, layout: Layout) -> NonNull<u8> {
        self.with_local(on, |l| l.blocks.alloc(layout))
    }

    /// Gives a finished task's block back to the cache.
    ///
    /// # Safety
    /// `block` was allocated with `layout` and nothing uses it any more.
    #[inline]
    pub(crate) unsafe fn free_block(&self, on: OnLoop, block: NonNull<u8>, layout: Layout) {
        // SAFETY: the caller's contract.
        self.with_local(on, |l| unsafe { l.blocks.free(block, layout) });
    }

    /// Frees the blocks the cache kept beyond what an idle loop needs.
    pub(crate) fn trim_blocks(&self, on: OnLoop) {
        self.with_local(on, |l| l.blocks.trim_idle(&self.foreign));
    }

    /// Gives a finished task's block back from a thread that does not run this loop.
    ///
    /// # Safety
    /// `block` was allocated by this loop with `layout` and nothing uses it any more; the
    /// caller keeps this `Shared` alive until the call returns.
    pub(crate) unsafe fn free_block_elsewhere(&self, block: NonNull<u8>, layout: Layout) {
        // SAFETY: the caller's contract.
        unsafe { self.foreign.free(block, layout) };
    }

    /// A proof of ownership when this loop is the one entered on this thread.
    #[inline]
    pub(crate) fn on_loop_here(&self) -> Option<OnLoop> {
        crate::context::is_running_loop(std::ptr::from_ref(self).cast())
            // SAFETY: the loop runs on this thread, so this thread owns it.
            .then(|| unsafe { OnLoop::new_unchecked() })
    }
}
