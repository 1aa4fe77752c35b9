//! What the loop running on this thread lends to the code it runs, each through its own narrow
//! accessor: the drivers (`clock`, `timers`, `io`, `pool`, behind [`Drivers`]), the task being
//! polled, and the cooperative budget.
//!
//! A leaf: it imports the drivers and nothing above them. The loop (`runtime`) owns the
//! [`Drivers`] and sets this thread's context for the duration of `block_on` (and of its
//! shutdown) with [`Enter`]; the task system and the user API read it. The loop itself and its
//! shared part are kept here only as erased pointers, which `runtime` alone casts back, so that
//! nothing below the loop can reach the rest of it.
//!
//! ```text
//!   user API (sleep, spawn, sockets, to_thread)
//!        │
//!   task system ── current task, budget ──┐
//!        │                                ▼
//!   the loop (runtime) ── sets ──► context ──► drivers (clock, wheel, selector, pool)
//! ```

use std::cell::{Cell, RefCell};
use std::ptr::{self, NonNull};
use std::task::{Context as TaskContext, Poll};

use crate::blocking::pool::Pool;
use crate::io::driver::Driver;
use crate::time::clock::Clock;
use crate::time::wheel::Wheel;

/// Runtime operations a task may do in one poll before it must yield (tokio uses the same).
pub(crate) const BUDGET: u32 = 128;

/// The drivers of one loop: what `sleep`, IO sources and `to_thread` reach, and nothing else;
/// and the loop's per-poll state for the task system (the task being polled, its budget), which
/// the loop keeps here so that a step sets it without a thread-local access.
pub(crate) struct Drivers {
    /// The loop's id, unique in the process: a timer or an IO source remembers it, so that it
    /// touches only the loop it was registered with.
    pub(crate) id: u64,
    pub(crate) clock: Clock,
    pub(crate) timers: RefCell<Wheel>,
    pub(crate) io: Driver,
    pub(crate) pool: Pool,
    /// The task being polled (a `task::TaskPtr`), erased.
    task: Cell<Option<NonNull<()>>>,
    budget: Cell<u32>,
    /// Times a task was made to yield because its budget was spent (`LoopStats`).
    forced_yields: Cell<u64>,
}

impl Drivers {
    pub(crate) fn new(id: u64, clock: Clock, timers: Wheel, io: Driver, pool: Pool) -> Drivers {
        Drivers {
            id,
            clock,
            timers: RefCell::new(timers),
            io,
            pool,
            task: Cell::new(None),
            budget: Cell::new(BUDGET),
            forced_yields: Cell::new(0),
        }
    }

    /// Starts a step of `task`: it becomes the one being polled, with a full budget. Returns
    /// the previous task, for [`end_step`](Self::end_step).
    #[inline]
    pub(crate) fn start_step(&self, task: NonNull<()>) -> Option<NonNull<()>> {
        self.budget.set(BUDGET);
        self.task.replace(Some(task))
    }

    /// Makes `prev` the task being polled again (`None` between steps).
    #[inline]
    pub(crate) fn end_step(&self, prev: Option<NonNull<()>>) {
        self.task.set(prev);
    }

    /// The budget left, to set aside while another task is stepped inside this one's poll.
    #[inline]
    pub(crate) fn budget(&self) -> u32 {
        self.budget.get()
    }

    #[inline]
    pub(crate) fn set_budget(&self, b: u32) {
        self.budget.set(b);
    }

    /// How many times a spent budget made a task yield.
    pub(crate) fn forced_yields(&self) -> u64 {
        self.forced_yields.get()
    }
}

struct Context {
    drivers: Cell<*const Drivers>,
    /// The loop (`runtime::core::Core`), erased.
    running: Cell<*const ()>,
    /// The loop's `runtime::shared::Shared`, erased: wakers compare it with their task's.
    shared: Cell<*const ()>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            drivers: Cell::new(ptr::null()),
            running: Cell::new(ptr::null()),
            shared: Cell::new(ptr::null()),
        }
    };
}

/// The running loop's drivers, if a loop runs on this thread.
#[inline]
pub(crate) fn with_drivers<R>(f: impl FnOnce(Option<&Drivers>) -> R) -> R {
    let drivers = CONTEXT.with(|c| c.drivers.get());
    // SAFETY: a non-null pointer was set by `Enter`, whose owner keeps the drivers alive and in
    // place (boxed with the loop) until the guard is dropped, which resets the pointer.
    f(unsafe { drivers.as_ref() })
}

/// The running loop's clock's time; outside a loop, `Instant::now()`.
#[inline]
pub(crate) fn now() -> std::time::Instant {
    with_drivers(|d| d.map_or_else(std::time::Instant::now, |d| d.clock.now()))
}

/// Whether any loop runs on this thread.
#[inline]
pub(crate) fn in_loop() -> bool {
    CONTEXT.with(|c| !c.drivers.get().is_null())
}

/// The running loop (erased; `runtime::core` casts it back), or null.
#[inline]
pub(crate) fn running_loop() -> *const () {
    CONTEXT.with(|c| c.running.get())
}

/// Whether `shared` (a loop's shared part, erased) is that of the loop running on this thread.
#[inline]
pub(crate) fn is_running_loop(shared: *const ()) -> bool {
    CONTEXT.with(|c| ptr::eq(c.shared.get(), shared))
}

/// The task being polled on this thread (erased; `task` casts it back).
#[inline]
pub(crate) fn current_task() -> Option<NonNull<()>> {
    with_drivers(|d| d?.task.get())
}

/// Spends one unit of the running task's budget; when none is left, wakes the task and asks it
/// to yield. Outside a loop it always proceeds.
#[inline]
pub(crate) fn poll_budget(cx: &mut TaskContext<'_>) -> Poll<()> {
    with_drivers(|d| {
        let Some(d) = d else {
            return Poll::Ready(());
        };
        let b = d.budget.get();
        if b == 0 {
            d.forced_yields.set(d.forced_yields.get() + 1);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        d.budget.set(b - 1);
        Poll::Ready(())
    })
}

/// Marks a loop as this thread's running loop until dropped; the previous context comes back
/// then (a loop dropped inside another loop's task enters for its close).
pub(crate) struct Enter {
    drivers: *const Drivers,
    running: *const (),
    shared: *const (),
}

impl Enter {
    /// # Safety
    /// `drivers` stays alive and in place until the guard is dropped, on this thread; `running`
    /// and `shared` are the loop owning them, alive as long.
    pub(crate) unsafe fn new(drivers: &Drivers, running: *const (), shared: *const ()) -> Enter {
        CONTEXT.with(|c| Enter {
            drivers: c.drivers.replace(drivers),
            running: c.running.replace(running),
            shared: c.shared.replace(shared),
        })
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CONTEXT.with(|c| {
            c.drivers.set(self.drivers);
            c.running.set(self.running);
            c.shared.set(self.shared);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn outside_a_loop_the_budget_always_proceeds() {
        let mut cx = TaskContext::from_waker(Waker::noop());
        for _ in 0..BUDGET * 2 {
            assert!(poll_budget(&mut cx).is_ready());
        }
        assert!(!in_loop());
        assert!(current_task().is_none());
    }

    #[test]
    fn a_step_gets_a_full_budget_and_leaving_the_loop_restores_the_context() {
        let (io, _waker) = Driver::new().unwrap();
        let clock = Clock::new(true);
        let timers = Wheel::new(clock.now_ns() / crate::time::wheel::TICK_NS);
        let pool = Pool::new("test", 1, std::time::Duration::from_secs(1), None, |_| {});
        let drivers = Drivers::new(7, clock, timers, io, pool);
        let mut cx = TaskContext::from_waker(Waker::noop());
        {
            // SAFETY: `drivers` outlives the guard; the erased pointers are never cast back here.
            let _enter = unsafe { Enter::new(&drivers, ptr::null(), ptr::null()) };
            assert!(in_loop());
            with_drivers(|d| assert_eq!(d.map(|d| d.id), Some(7)));
            for _ in 0..BUDGET {
                assert!(poll_budget(&mut cx).is_ready());
            }
            assert!(poll_budget(&mut cx).is_pending(), "the budget is spent");
            let task = NonNull::<u8>::dangling().cast::<()>();
            assert_eq!(drivers.start_step(task), None);
            assert!(
                poll_budget(&mut cx).is_ready(),
                "a step starts with a full budget"
            );
            assert_eq!(current_task(), Some(task));
            drivers.end_step(None);
        }
        assert!(!in_loop());
        assert!(current_task().is_none(), "outside a loop no task runs");
    }
}
