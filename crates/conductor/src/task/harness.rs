//! One step of a task (asyncio's `Task.__step`), cancellation at the suspension point, and
//! completion: waking the awaiter and scheduling done-callbacks.

use std::task::Context;
use std::time::Instant;

use super::TaskRef;
use super::header::{TaskPtr, flags::*};
use super::raw::{LocalRef, dec_local};
use super::waker;
use crate::cancel::{self, Delivered, Target};
use crate::runtime::core::Core;

/// Polls a task taken off the ready queue; `entry` is the queue's reference.
pub(crate) fn step(entry: LocalRef, core: &Core) {
    let task = entry.ptr();
    let h = entry.header();
    h.clear(QUEUED);
    if h.has(COMPLETE) {
        return;
    }
    if h.has(MUST_CANCEL) {
        cancel_now(task, core);
        return;
    }
    h.set(RUNNING);
    let prev = core.drivers.start_step(task.erase());
    // SAFETY: `entry` holds a reference for the whole poll.
    let waker = unsafe { waker::borrowed(task) };
    let mut cx = Context::from_waker(&waker);
    #[cfg(feature = "tracing")]
    super::console::enter(h);
    let done = if core.debug() {
        poll_in_debug_mode(task, &mut cx, core)
    } else {
        // SAFETY: owner thread, the future is live (not COMPLETE), and nothing else polls it.
        unsafe { (h.vtable.poll)(task, &mut cx) }
    };
    #[cfg(feature = "tracing")]
    super::console::exit(h);
    core.drivers.end_step(prev);
    debug_assert!(cancel::frames_balanced(), "unbalanced scope frames");
    h.clear(RUNNING);
    if done {
        if h.has(MUST_CANCEL) && h.has(HAS_OUTPUT) {
            // Cancelled while running, and returned before suspending again: asyncio discards
            // the result and reports the task as cancelled (test_cancel_at_end).
            // SAFETY: owner thread; HAS_OUTPUT is set.
            unsafe { (h.vtable.drop_output)(task) };
            h.set(CANCELLED);
        }
        complete(task);
    } else if h.has(MUST_CANCEL) {
        // Cancelled while running: a catch scope may have been entered since.
        let msg = h.extra().cancel_msg.borrow().clone();
        match cancel::deliver(task, Target::Task, &msg) {
            Delivered::ToScopes => h.clear(MUST_CANCEL),
            Delivered::AtTarget => cancel_now(task, core),
        }
    }
}

/// `step`'s poll in debug mode: the await points of the task's last suspension are forgotten
/// and a slow step is reported. Out of line, so that a loop not in debug mode pays one branch.
#[cold]
#[inline(never)]
fn poll_in_debug_mode(task: TaskPtr, cx: &mut Context<'_>, core: &Core) -> bool {
    crate::trace::begin_step(task.erase());
    let started = Instant::now();
    // SAFETY: as in `step`, whose caller's reference keeps the task alive for the poll; owner
    // thread, the future is live (not COMPLETE), and nothing else polls it.
    let done = unsafe { (task.header().vtable.poll)(task, cx) };
    core.report_slow_poll(task, started);
    done
}

/// Runs a task just spawned inside the spawner's own step, until its first suspension (asyncio's
/// eager start): the spawner's scope frames and budget are set aside meanwhile (`step` itself
/// saves and restores the current task). `entry` is the reference the ready queue would hold.
pub(crate) fn step_eagerly(entry: LocalRef, core: &Core) {
    let frames = cancel::take_frames();
    let budget = core.drivers.budget();
    step(entry, core);
    cancel::restore_frames(frames);
    core.drivers.set_budget(budget);
}

/// Drops the future at its suspension point: the task ends cancelled.
pub(crate) fn cancel_now(task: TaskPtr, core: &Core) {
    // SAFETY: the caller holds a reference; owner thread.
    let h = unsafe { task.header() };
    let prev = core.drivers.start_step(task.erase());
    // SAFETY: owner thread; the future is live and is dropped once (COMPLETE is set next).
    let panicked = unsafe { (h.vtable.drop_future)(task) };
    core.drivers.end_step(prev);
    match panicked {
        Some(payload) => {
            h.set(PANICKED);
            *h.extra().panic.borrow_mut() = Some(payload);
        }
        None if h.has(FAILED_IN_GROUP) => {}
        None => h.set(CANCELLED),
    }
    complete(task);
}

/// The future is gone: publish the outcome, wake the awaiter, schedule the done-callbacks, and
/// release the registry's hold.
pub(crate) fn complete(task: TaskPtr) {
    // SAFETY: the registry still holds a reference, released at the end; owner thread.
    let h = unsafe { task.header() };
    h.set(COMPLETE);
    h.clear(MUST_CANCEL);
    #[cfg(feature = "tracing")]
    super::console::completed(h);
    if !h.has(JOIN) && h.has(HAS_OUTPUT) {
        // SAFETY: owner thread; HAS_OUTPUT is set.
        unsafe { (h.vtable.drop_output)(task) };
    }
    if let Some(extra) = h.extra_if_any() {
        // Scopes left by a future that moved out of its task; they must not outlive it.
        let tree = std::mem::take(&mut *extra.scopes.borrow_mut());
        drop(tree);
        let callbacks = std::mem::take(&mut *extra.callbacks.borrow_mut());
        for (_, at, cb) in callbacks {
            // SAFETY: owner thread; the task is alive (registry hold).
            let task_ref = TaskRef::from_local(unsafe { LocalRef::new(task) });
            crate::runtime::call_soon_internal(Box::new(move || cb(task_ref)), at);
        }
    }
    if !h.has(JOIN) && h.has(PANICKED) {
        report_unretrieved(task);
    }
    h.join_waker.wake();
    if let Some(hook) = h.extra_if_any().and_then(|e| e.on_complete.take()) {
        hook(task);
    }
    // SAFETY: owner thread; this is the registry's hold, taken at spawn.
    unsafe { dec_local(task) };
}

/// A task ended with a panic that nobody can read (it has no `Task` handle, or its handle was
/// dropped): asyncio's "Task exception was never retrieved", to the loop's exception handler.
#[cold]
pub(crate) fn report_unretrieved(task: TaskPtr) {
    // SAFETY: the caller holds a reference; owner thread.
    let h = unsafe { task.header() };
    let Some(payload) = h.extra_if_any().and_then(|e| e.panic.borrow_mut().take()) else {
        return;
    };
    // SAFETY: as above.
    let task_ref = TaskRef::from_local(unsafe { LocalRef::new(task) });
    let context = crate::runtime::exception::never_retrieved(&task_ref, payload);
    crate::runtime::exception::call_exception_handler_of(h.shared().id, context);
}
