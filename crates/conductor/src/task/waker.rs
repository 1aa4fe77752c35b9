//! Wakers: `Send + Sync` handles that put a task back on its loop's ready queue.
//!
//! Two vtables share one data pointer, the task header. A *local* waker's reference is counted in
//! the header's plain `local` counter, a *remote* waker's in the atomic remote word (see `state`).
//! Clones made on the task's loop thread while that loop runs are local and cost no atomic
//! instruction; clones made anywhere else are remote. Any waker works on any thread: each
//! operation first asks whether it runs on the task's own loop, and if so schedules directly;
//! otherwise it goes through the remote word and the loop's remote queue.

use std::mem::ManuallyDrop;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::header::{TaskPtr, flags::*};
use super::raw::{LocalRef, dec_local, free, inc_local};
use super::state::{DropOutcome, WakeOutcome};
use crate::context;
use crate::runtime::ready::Runnable;
use crate::runtime::remote::Remote;

static LOCAL: RawWakerVTable = RawWakerVTable::new(clone, wake_local, wake_by_ref, drop_local);
static REMOTE: RawWakerVTable = RawWakerVTable::new(clone, wake_remote, wake_by_ref, drop_remote);

fn task(data: *const ()) -> TaskPtr {
    // SAFETY: every waker of ours is built from a non-null task header pointer.
    TaskPtr::from_header(unsafe { std::ptr::NonNull::new_unchecked(data as *mut _) })
}

/// Whether this thread is running the task's loop right now, so owner-side state may be used.
pub(crate) fn on_loop(t: TaskPtr) -> bool {
    // SAFETY: the caller holds a reference (every waker does).
    context::is_running_loop(unsafe { t.header() }.shared.as_ptr().cast())
}

/// The task behind `waker`, when it is one of ours and its loop runs on this thread.
pub(crate) fn local_task(waker: &Waker) -> Option<TaskPtr> {
    let vtable = waker.vtable();
    if !std::ptr::eq(vtable, &LOCAL) && !std::ptr::eq(vtable, &REMOTE) {
        return None;
    }
    let t = task(waker.data());
    on_loop(t).then_some(t)
}

/// A waker borrowed for one poll: it owns no reference, the poller's reference covers it.
///
/// # Safety
/// The caller holds a reference for as long as the returned waker (or a `&Waker` to it) is used.
pub(crate) unsafe fn borrowed(t: TaskPtr) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(t.as_ptr().cast(), &LOCAL);
    // SAFETY: `LOCAL`'s functions uphold the `RawWaker` contract for task pointers.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

/// Puts a task on its loop's ready queue (owner thread, loop running). Returns whether it queued.
#[inline]
pub(crate) fn schedule(t: TaskPtr) -> bool {
    // SAFETY: the caller holds a reference and runs on the owner thread.
    let h = unsafe { t.header() };
    if h.has(QUEUED | COMPLETE) {
        return false;
    }
    h.set(QUEUED);
    // SAFETY: owner thread; the task is alive.
    let entry = unsafe { LocalRef::new(t) };
    let on = entry.on_loop();
    h.shared().push_ready(on, Runnable::task(entry));
    true
}

/// [`schedule`] for a cancellation delivered to the task itself (`Task.cancel()`, a re-raise):
/// no waker runs, but tokio-console counts it as the wake it is (a `wake_by_ref`).
#[inline]
pub(crate) fn schedule_cancelled(t: TaskPtr) -> bool {
    #[cfg(feature = "tracing")]
    super::console::waker(t, crate::console::WakerOp::WakeByRef);
    schedule(t)
}

unsafe fn clone(data: *const ()) -> RawWaker {
    let t = task(data);
    #[cfg(feature = "tracing")]
    super::console::waker(t, crate::console::WakerOp::Clone);
    if on_loop(t) {
        // SAFETY: owner thread; the waker being cloned holds a reference.
        unsafe { inc_local(t) };
        RawWaker::new(data, &LOCAL)
    } else {
        // SAFETY: the waker being cloned holds a reference.
        unsafe { t.header() }.state.clone_ref();
        RawWaker::new(data, &REMOTE)
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    let t = task(data);
    #[cfg(feature = "tracing")]
    super::console::waker(t, crate::console::WakerOp::WakeByRef);
    if on_loop(t) {
        schedule(t);
    } else {
        remote_wake(t, false);
    }
}

unsafe fn wake_local(data: *const ()) {
    let t = task(data);
    #[cfg(feature = "tracing")]
    super::console::waker(t, crate::console::WakerOp::Wake);
    if on_loop(t) {
        // SAFETY: the consumed waker holds a reference; owner thread.
        let h = unsafe { t.header() };
        if h.has(QUEUED | COMPLETE) {
            // SAFETY: owner thread; the consumed waker's local reference.
            unsafe { dec_local(t) };
        } else {
            // `schedule`, with the consumed waker's local reference moving to the queue entry
            // instead of a new one taken and the waker's dropped.
            h.set(QUEUED);
            // SAFETY: owner thread (the loop runs here, so the task is not orphaned and a
            // `LOCAL` waker's reference is counted in `local`); the waker is consumed, so its
            // reference is the entry's now.
            let entry = unsafe { LocalRef::adopt(t) };
            let on = entry.on_loop();
            h.shared().push_ready(on, Runnable::task(entry));
        }
    } else {
        remote_wake(t, true);
    }
}

unsafe fn wake_remote(data: *const ()) {
    let t = task(data);
    #[cfg(feature = "tracing")]
    super::console::waker(t, crate::console::WakerOp::Wake);
    if on_loop(t) {
        schedule(t);
        remote_drop(t);
    } else {
        remote_wake(t, true);
    }
}

unsafe fn drop_local(data: *const ()) {
    let t = task(data);
    #[cfg(feature = "tracing")]
    super::console::waker(t, crate::console::WakerOp::Drop);
    if on_loop(t) {
        // SAFETY: owner thread; the dropped waker's local reference.
        unsafe { dec_local(t) };
    } else {
        remote_drop(t);
    }
}

unsafe fn drop_remote(data: *const ()) {
    #[cfg(feature = "tracing")]
    super::console::waker(task(data), crate::console::WakerOp::Drop);
    remote_drop(task(data));
}

fn remote_drop(t: TaskPtr) {
    // SAFETY: the caller gives up a reference it held until now.
    match unsafe { t.header() }.state.drop_ref() {
        DropOutcome::Keep => {}
        DropOutcome::Notify => push(t),
        // SAFETY: `Free`: ours was the last reference.
        DropOutcome::Free => unsafe { free(t) },
    }
}

fn remote_wake(t: TaskPtr, consume: bool) {
    // SAFETY: the caller holds a reference until the state update below.
    match unsafe { t.header() }.state.wake(consume) {
        WakeOutcome::Keep => {}
        WakeOutcome::Push => push(t),
        // SAFETY: `Free`: the consumed reference was the last.
        WakeOutcome::Free => unsafe { free(t) },
    }
}

/// Pushes a task whose `NOTIFIED` bit the caller just set; that bit keeps it alive.
fn push(t: TaskPtr) {
    // SAFETY: `NOTIFIED` pins the task, and the task pins its loop's `Shared`.
    let h = unsafe { t.header() };
    if h.shared().remote.push(Remote::Task(t)).is_err() && h.state.push_failed() {
        // SAFETY: the withdrawn entry was the task's last hold.
        unsafe { free(t) };
    }
}
