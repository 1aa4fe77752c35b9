//! `Task<T>`: the typed handle that `spawn` returns, a future of the task's result.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::TaskRef;
use super::error::{InvalidState, TaskError};
use super::header::flags::*;
use crate::cancel;
use crate::context;

/// A task spawned on this thread's loop: asyncio's `Task`, typed by its output.
///
/// Awaiting it gives `Ok(output)`, or the [`TaskError`] that says why there is none. Dropping it
/// detaches the task, which keeps running (as in asyncio, where losing the reference does not
/// cancel). While a task awaits another task, cancelling the first cancels the second and waits
/// for it, as asyncio does; [`shield`](crate::shield) prevents that.
///
/// `Task<T>` dereferences to [`TaskRef`], which has the rest of asyncio's `Task` methods:
/// `cancel`, `is_done`, `is_cancelled`, `name`, `add_done_callback`...
///
/// A `Task` is one pointer wide: while it is awaited, its registration in the awaiting task's
/// cancellation scopes lives in that task's scope tree.
#[must_use = "a task runs detached when its Task is dropped; await it, or call `detach`"]
pub struct Task<T> {
    inner: TaskRef,
    _output: PhantomData<T>,
}

impl<T> Task<T> {
    pub(crate) fn new(inner: TaskRef) -> Self {
        Task {
            inner,
            _output: PhantomData,
        }
    }

    /// The result without waiting (asyncio's `Task.result()`): the output, or why there is none.
    /// Fails with [`InvalidState::NotDone`] while the task runs. The output moves out: a second
    /// call fails with [`InvalidState::ResultTaken`] (a cancellation is reported every time).
    pub fn result(&mut self) -> Result<T, TaskError> {
        let h = self.inner.local().header();
        if !h.has(COMPLETE) {
            return Err(TaskError::InvalidState(InvalidState::NotDone));
        }
        if h.has(HAS_OUTPUT) {
            let mut out = MaybeUninit::<T>::uninit();
            // SAFETY: `Task<T>` is `!Send` (owner thread); HAS_OUTPUT is set and the task's
            // output type is `T` (this handle was created by `spawn` for it).
            unsafe {
                (h.vtable.take_output)(self.inner.local().ptr(), out.as_mut_ptr().cast());
                return Ok(out.assume_init());
            }
        }
        if h.has(FAILED_IN_GROUP) {
            return Err(TaskError::FailedInGroup);
        }
        if h.has(PANICKED) {
            if let Some(p) = h.extra().panic.borrow_mut().take() {
                return Err(TaskError::Panicked(p));
            }
        } else if h.has(CANCELLED) {
            let msg = h.extra_if_any().and_then(|e| e.cancel_msg.borrow().clone());
            return Err(TaskError::cancelled(msg));
        }
        Err(TaskError::InvalidState(InvalidState::ResultTaken))
    }

    /// The output, in place, while the task holds one (done with a value not taken yet).
    pub(crate) fn output_ref(&self) -> Option<&T> {
        let h = self.inner.local().header();
        if !h.has(HAS_OUTPUT) {
            return None;
        }
        // SAFETY: `Task<T>` is `!Send` (owner thread); HAS_OUTPUT is set and the output's type is
        // `T`. Only this handle (the task's one typed handle, which keeps JOIN set) takes or
        // drops the output, through `&mut self` or its drop, so it outlives the borrow of `self`.
        Some(unsafe { &*(h.vtable.output)(self.inner.local().ptr()).cast::<T>() })
    }

    /// Polls for the result without taking part in cancellation forwarding (for combinators
    /// that decide themselves what a cancellation does to the tasks they await).
    pub(crate) fn poll_join(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let h = self.inner.local().header();
        if h.has(COMPLETE) {
            return Poll::Ready(self.result());
        }
        h.join_waker.register(cx.waker());
        Poll::Pending
    }

    /// Lets the task run on without a handle (the same as dropping the `Task`, said aloud).
    pub fn detach(self) {}

    /// Gives up the typed handle but keeps the output stored (`JOIN` stays set) for whoever
    /// takes it next, and returns the handle's reference untyped.
    pub(crate) fn into_output_keeper(self) -> TaskRef {
        let this = std::mem::ManuallyDrop::new(self);
        let h = this.inner.local().header();
        if !h.has(COMPLETE) {
            cancel::stop_awaiting(this.inner.local().ptr());
        }
        h.join_waker.clear();
        // SAFETY: `this` is never dropped, so its reference moves out exactly once.
        unsafe { std::ptr::read(&this.inner) }
    }

    /// An untyped handle to the same task.
    pub fn task_ref(&self) -> TaskRef {
        self.inner.clone()
    }
}

impl<T> Deref for Task<T> {
    type Target = TaskRef;

    fn deref(&self) -> &TaskRef {
        &self.inner
    }
}

impl<T> Unpin for Task<T> {}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let flags = this.inner.local().header().flags.get();
        if flags & JOIN_RERAISED != 0 || context::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        if flags & COMPLETE != 0 {
            if flags & AWAITED == 0 {
                // Nobody forwarded a cancellation through this await (no node names the task).
                return Poll::Ready(this.result());
            }
            return this.finish_awaited();
        }
        let h = this.inner.local().header();
        h.join_waker.register(cx.waker());
        cancel::await_task(this.inner.local(), cx.waker());
        let awaited = this.inner.local().ptr().erase();
        crate::trace::note(|| crate::trace::Point::new("task").awaits([awaited]));
        Poll::Pending
    }
}

impl<T> Task<T> {
    /// The awaited task is done and the awaiting task registered a forwarding node for it:
    /// unregister it, and pass on a cancellation that went through it.
    #[cold]
    fn finish_awaited(&mut self) -> Poll<Result<T, TaskError>> {
        let forwarded = cancel::stop_awaiting(self.inner.local().ptr());
        let result = self.result();
        if let (Some(mark), Err(TaskError::Cancelled(_))) = (forwarded, &result) {
            // Our cancellation went to the awaited task and it ended cancelled: the
            // cancellation now continues in the awaiting task, from this await.
            if let Some(me) = cancel::current_task() {
                cancel::raise(me, mark.target, mark.msg);
                self.inner.local().header().set(JOIN_RERAISED);
                return Poll::Pending;
            }
        }
        Poll::Ready(result)
    }
}

impl<T> Drop for Task<T> {
    #[inline]
    fn drop(&mut self) {
        let h = self.inner.local().header();
        let flags = h.flags.get();
        // Usually the task was awaited to its end: the output is taken, nobody is registered.
        if flags & (AWAITED | HAS_OUTPUT | PANICKED) == 0 && h.join_waker.is_empty() {
            h.flags.set(flags & !JOIN);
            return;
        }
        self.drop_slow();
    }
}

impl<T> Task<T> {
    #[cold]
    fn drop_slow(&mut self) {
        let h = self.inner.local().header();
        if !h.has(COMPLETE) {
            cancel::stop_awaiting(self.inner.local().ptr());
        }
        h.join_waker.clear();
        h.clear(JOIN);
        if h.has(HAS_OUTPUT) {
            // SAFETY: `!Send`, so owner thread; HAS_OUTPUT is set.
            unsafe { (h.vtable.drop_output)(self.inner.local().ptr()) };
        }
        if h.has(COMPLETE) && h.has(PANICKED) {
            // Dropped without reading the panic (an unfinished task reports when it ends).
            super::harness::report_unretrieved(self.inner.local().ptr());
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
