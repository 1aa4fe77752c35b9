//! Which loop, if any, runs on this thread right now, and which task it is polling.
//!
//! A thread-local pair of pointers, set for the duration of `Runtime::block_on` (and of the loop's
//! shutdown). Wakers compare it with their task's loop to choose the local, atomic-free path.

use std::cell::Cell;
use std::ptr::{self, NonNull};

use super::core::Core;
use super::shared::Shared;

struct Context {
    core: Cell<*const Core>,
    shared: Cell<*const Shared>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context { core: Cell::new(ptr::null()), shared: Cell::new(ptr::null()) }
    };
}

/// Whether the loop owning `shared` is the one running on this thread.
#[inline]
pub(crate) fn is_running_loop(shared: NonNull<Shared>) -> bool {
    CONTEXT.with(|c| ptr::eq(c.shared.get(), shared.as_ptr()))
}

/// The loop running on this thread, if any.
#[inline]
pub(crate) fn with_core<R>(f: impl FnOnce(Option<&Core>) -> R) -> R {
    let core = CONTEXT.with(|c| c.core.get());
    // SAFETY: a non-null pointer was set by `Enter`, whose owner keeps the `Core` alive and pinned
    // (boxed) until the guard is dropped, which resets the pointer.
    f(unsafe { core.as_ref() })
}

/// Whether any loop runs on this thread.
pub(crate) fn in_loop() -> bool {
    CONTEXT.with(|c| !c.core.get().is_null())
}

/// Marks `core` as this thread's running loop until dropped.
pub(crate) struct Enter {
    prev_core: *const Core,
    prev_shared: *const Shared,
}

impl Enter {
    /// # Safety
    /// `core` stays alive and in place until the guard is dropped, on this thread.
    pub(crate) unsafe fn new(core: &Core) -> Enter {
        CONTEXT.with(|c| Enter {
            prev_core: c.core.replace(core),
            prev_shared: c.shared.replace(&*core.shared),
        })
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CONTEXT.with(|c| {
            c.core.set(self.prev_core);
            c.shared.set(self.prev_shared);
        });
    }
}
