//! `FutureSetter`: sets a [`SettableFuture`] from another thread.
//!
//! The future's state is an `Rc` of its loop's thread. The setter carries one count of it to the
//! other thread inside a [`ThreadBound`], which is only ever opened or dropped on the thread that
//! made it: the outcome, and the count itself, travel back with `call_soon_threadsafe`.

// The `unsafe` of this module: a value that may cross threads only to be dropped on its own.
#![allow(unsafe_code)]

use std::fmt;
use std::thread::{self, ThreadId};

use super::SettableFuture;
use crate::runtime::{Handle, LoopClosed};

/// Sets a [`SettableFuture`] from any thread (see [`SettableFuture::threadsafe`]). Setting
/// consumes it; dropping it unset leaves the future pending.
pub struct FutureSetter<T: 'static, E: 'static> {
    handle: Handle,
    future: Option<ThreadBound<SettableFuture<T, E>>>,
}

impl<T: Send + 'static, E: Send + 'static> FutureSetter<T, E> {
    pub(super) fn new(future: SettableFuture<T, E>) -> Self {
        FutureSetter {
            handle: Handle::current(),
            future: Some(ThreadBound::new(future)),
        }
    }

    /// Sets the value on the future's loop, at its next iteration.
    ///
    /// # Errors
    /// [`LoopClosed`] when the loop is gone; the value is dropped.
    pub fn set_result(self, value: T) -> Result<(), LoopClosed> {
        self.send(move |f| {
            let _ = f.set_result(value);
        })
    }

    /// Sets the error on the future's loop, at its next iteration.
    ///
    /// # Errors
    /// [`LoopClosed`] when the loop is gone.
    pub fn set_exception(self, error: E) -> Result<(), LoopClosed> {
        self.send(move |f| {
            let _ = f.set_exception(error);
        })
    }

    /// Cancels the future on its loop, at its next iteration.
    ///
    /// # Errors
    /// [`LoopClosed`] when the loop is gone.
    pub fn cancel(self) -> Result<(), LoopClosed> {
        self.send(|f| {
            f.cancel();
        })
    }

    fn send(
        mut self,
        f: impl FnOnce(&SettableFuture<T, E>) + Send + 'static,
    ) -> Result<(), LoopClosed> {
        let future = self.future.take().expect("a setter sends once");
        self.handle.call_soon_threadsafe(move || f(future.get()))
    }
}

impl<T: 'static, E: 'static> Drop for FutureSetter<T, E> {
    fn drop(&mut self) {
        if let Some(future) = self.future.take() {
            // The count goes home to be dropped there (a closed loop drops it unrun, elsewhere:
            // `ThreadBound` then leaks it).
            let _ = self.handle.call_soon_threadsafe(move || drop(future));
        }
    }
}

impl<T: 'static, E: 'static> fmt::Debug for FutureSetter<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutureSetter")
            .field("loop", &self.handle)
            .finish()
    }
}

/// A value that may cross threads but is used and dropped only on the thread that made it.
struct ThreadBound<V> {
    value: std::mem::ManuallyDrop<V>,
    owner: ThreadId,
}

// SAFETY: the value is reached only through `get`, which asserts the owner thread, and dropped
// only on the owner thread (`Drop` leaks it elsewhere), so it never is used by two threads.
unsafe impl<V> Send for ThreadBound<V> {}

impl<V> ThreadBound<V> {
    fn new(value: V) -> Self {
        ThreadBound {
            value: std::mem::ManuallyDrop::new(value),
            owner: thread::current().id(),
        }
    }

    fn get(&self) -> &V {
        assert_eq!(
            thread::current().id(),
            self.owner,
            "ThreadBound used off its thread"
        );
        &self.value
    }
}

impl<V> Drop for ThreadBound<V> {
    fn drop(&mut self) {
        if thread::current().id() == self.owner {
            // SAFETY: dropped once, here, on the thread that owns the value.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.value) };
        }
    }
}
