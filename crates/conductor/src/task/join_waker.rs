//! Who awaits a task's output, in one word of the header.
//!
//! Most awaiters are conductor tasks of the same loop: their waker is ours, so the header keeps
//! the awaiting task's pointer (with one counted local reference) instead of a 16-byte `Waker`.
//! Any other waker is boxed. Owner thread only, like the rest of the header.

use std::cell::Cell;
use std::ptr::NonNull;
use std::task::Waker;

use super::header::TaskPtr;
use super::raw::{dec_local, inc_local};
use super::waker;

/// 0: nobody; an even address: a task (counted local reference); an odd one: a boxed waker.
pub(crate) struct JoinWaker(Cell<usize>);

const BOXED: usize = 1;

enum Awaiter {
    Task(TaskPtr),
    Boxed(NonNull<Waker>),
}

impl JoinWaker {
    pub(crate) const fn new() -> Self {
        JoinWaker(Cell::new(0))
    }

    fn get(&self) -> Option<Awaiter> {
        let w = self.0.get();
        let p = NonNull::new((w & !BOXED) as *mut u8)?;
        Some(if w & BOXED == 0 {
            Awaiter::Task(TaskPtr::from_header(p.cast()))
        } else {
            Awaiter::Boxed(p.cast())
        })
    }

    /// Records `waker` as the awaiter, unless it is already the one recorded.
    pub(crate) fn register(&self, waker: &Waker) {
        let task = waker::local_task(waker);
        match (self.get(), task) {
            (Some(Awaiter::Task(old)), Some(new)) if old == new => return,
            // SAFETY: a boxed awaiter stays valid until `clear` frees it.
            (Some(Awaiter::Boxed(old)), None) if unsafe { old.as_ref() }.will_wake(waker) => return,
            _ => {}
        }
        self.clear();
        let word = match task {
            Some(t) => {
                // SAFETY: `local_task` only names a task of the loop running on this thread,
                // which the waker keeps alive; the header now holds its own reference.
                unsafe { inc_local(t) };
                // The slot stands for a waker clone (console counts it as one).
                #[cfg(feature = "tracing")]
                super::console::waker(t, crate::console::WakerOp::Clone);
                t.as_ptr() as usize
            }
            None => Box::into_raw(Box::new(waker.clone())) as usize | BOXED,
        };
        self.0.set(word);
    }

    /// Wakes the awaiter, if any, and forgets it.
    #[inline]
    pub(crate) fn wake(&self) {
        // A detached or not yet awaited task has nobody: no call for that case.
        if self.0.get() != 0 {
            self.wake_slow();
        }
    }

    fn wake_slow(&self) {
        match self.take() {
            Some(Awaiter::Task(t)) => {
                #[cfg(feature = "tracing")]
                super::console::waker(t, crate::console::WakerOp::Wake);
                super::schedule(t);
                // SAFETY: the reference this slot held.
                unsafe { dec_local(t) };
            }
            // SAFETY: the box came from `register` and is freed once, here.
            Some(Awaiter::Boxed(w)) => unsafe { Box::from_raw(w.as_ptr()) }.wake(),
            None => {}
        }
    }

    /// The task of this loop that awaits the output, if the awaiter is one.
    pub(crate) fn awaiting_task(&self) -> Option<TaskPtr> {
        match self.get() {
            Some(Awaiter::Task(t)) => Some(t),
            _ => None,
        }
    }

    /// Whether nobody is registered.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.get() == 0
    }

    /// Forgets the awaiter without waking it.
    #[inline]
    pub(crate) fn clear(&self) {
        // Usually empty (completion took it): no call for the common case.
        if self.0.get() != 0 {
            self.clear_slow();
        }
    }

    fn clear_slow(&self) {
        match self.take() {
            Some(Awaiter::Task(t)) => {
                #[cfg(feature = "tracing")]
                super::console::waker(t, crate::console::WakerOp::Drop);
                // SAFETY: the reference this slot held.
                unsafe { dec_local(t) }
            }
            // SAFETY: the box came from `register` and is freed once, here.
            Some(Awaiter::Boxed(w)) => drop(unsafe { Box::from_raw(w.as_ptr()) }),
            None => {}
        }
    }

    /// Frees what is left when the task is freed (normally nothing: completion and the `Task`
    /// handle's drop both empty it). Off the loop's thread a task reference cannot be dropped,
    /// so it is leaked rather than touched.
    #[inline]
    pub(crate) fn clear_at_free(&self) {
        if self.0.get() != 0 {
            self.clear_at_free_slow();
        }
    }

    fn clear_at_free_slow(&self) {
        match self.take() {
            Some(Awaiter::Task(t)) if waker::on_loop(t) => {
                // SAFETY: the reference this slot held, dropped on its loop's thread.
                unsafe { dec_local(t) }
            }
            Some(Awaiter::Task(_)) => debug_assert!(false, "awaiter left in a freed task"),
            // SAFETY: the box came from `register`; a `Waker` may be dropped on any thread.
            Some(Awaiter::Boxed(w)) => drop(unsafe { Box::from_raw(w.as_ptr()) }),
            None => {}
        }
    }

    fn take(&self) -> Option<Awaiter> {
        let a = self.get();
        self.0.set(0);
        a
    }
}
