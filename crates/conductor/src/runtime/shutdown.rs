//! The end of a loop: asyncio's `_cancel_all_tasks`, then `close`.

use std::time::Instant;

use super::core::Core;
use super::exception::ExceptionContext;
use super::remote::Remote;
use crate::task::header::flags::{COMPLETE, ORPHANED};
use crate::task::raw::{LocalRef, free};
use crate::task::{TaskPtr, harness};
use crate::time::clock::saturating_add;
use crate::time::wheel::Wheel;

/// Cancels every task that is not done and runs the loop until they all are (new tasks spawned
/// meanwhile are cancelled too), or until the shutdown timeout.
pub(crate) fn cancel_all(core: &Core) {
    let deadline = core
        .config
        .shutdown_timeout
        .map(|d| saturating_add(Instant::now(), d));
    // Makes sure the loop wakes up by the deadline even if every task waits on IO.
    let _alarm = deadline.map(|d| {
        let at = saturating_add(
            core.drivers.clock.now(),
            d.saturating_duration_since(Instant::now()),
        );
        super::call_at(at, || {})
    });
    loop {
        let pending = crate::all_tasks();
        if pending.is_empty() {
            return;
        }
        for t in &pending {
            t.cancel();
        }
        while pending.iter().any(|t| !t.is_done()) {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return;
            }
            core.run_once(true);
        }
    }
}

/// Debug mode: every task the loop closes on while it is pending (asyncio's "Task was destroyed
/// but it is pending!"), with where it waits. `Runtime::run` cancels its tasks first, so this
/// concerns a `block_on` whose runtime is dropped with tasks still running.
fn report_pending(core: &Core) {
    for t in crate::all_tasks() {
        let points: Vec<&str> = crate::trace::points_of(t.erased())
            .iter()
            .map(|p| p.kind)
            .collect();
        let mut context = ExceptionContext::new("Task was destroyed but it is pending!")
            .with_task(&t)
            .with_detail("state", t.state());
        if !points.is_empty() {
            context = context.with_detail("awaiting", points.join(", "));
        }
        core.call_exception_handler(context);
    }
}

fn registered(core: &Core) -> Vec<TaskPtr> {
    core.shared.registered(core.on_loop())
}

/// Drops what the loop still owns (as asyncio's `loop.close()`, pending tasks are destroyed
/// without running again), waits for the pool's mandatory jobs, and hands the remaining task
/// references to the atomic count.
pub(crate) fn close(core: &Core) {
    if core.debug() {
        report_pending(core);
    }
    loop {
        drop(core.shared.take_ready(core.on_loop()));
        let pending: Vec<TaskPtr> = registered(core)
            .into_iter()
            // SAFETY: registered tasks are alive.
            .filter(|t| !unsafe { t.header() }.has(COMPLETE))
            .collect();
        if pending.is_empty() {
            break;
        }
        for t in pending {
            // SAFETY: registered, hence alive; owner thread. The extra reference keeps the task
            // alive while its future is dropped.
            let hold = unsafe { LocalRef::new(t) };
            if !hold.header().has(COMPLETE) {
                harness::cancel_now(t, core);
            }
        }
    }
    // The pool refuses new work, but what must not be lost (a dropped `File`'s last write,
    // queued by the futures just dropped) runs to its end first.
    core.drivers.pool.shutdown();
    let deadline = core
        .config
        .shutdown_timeout
        .map(|d| saturating_add(Instant::now(), d));
    core.drivers.pool.wait_mandatory(deadline);
    let now_tick = core.drivers.clock.now_ns() / crate::time::wheel::TICK_NS;
    let timers = std::mem::replace(&mut *core.drivers.timers.borrow_mut(), Wheel::new(now_tick));
    drop(timers);
    core.drivers.io.clear_wakers();
    for item in core.shared.remote.close() {
        match item {
            Remote::Task(t) => core.remote_task(t),
            Remote::Call(f, _) => drop(f),
            // Reports made on other threads while the loop closed still reach its handler.
            Remote::Report(context) => core.call_exception_handler(*context),
        }
    }
    drop(core.shared.take_ready(core.on_loop()));
    for t in registered(core) {
        // SAFETY: registered, hence alive; owner thread.
        let h = unsafe { t.header() };
        let local = h.local.replace(0);
        h.set(ORPHANED);
        // Other threads, or handles on this one, may use the task after the runtime is gone.
        h.pin_loop();
        if h.state.orphan(local) {
            let slot = h.slot.get();
            core.shared.unregister(core.on_loop(), slot);
            // SAFETY: owner thread; `orphan` said nobody references the task.
            unsafe { free(t) };
        }
    }
}
