//! `call_soon`, `call_later`, `call_at`: plain callbacks on the loop, with cancellable handles.

use std::panic::Location;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::core::with_core;
use super::ready::{Callback, Runnable};
use crate::time::clock::saturating_add;
use crate::time::wheel::{Expiry, Key, Payload};

/// Runs `f` on this thread's loop at its next iteration, after what is already queued
/// (asyncio's `loop.call_soon`).
///
/// # Panics
/// Outside a running conductor loop.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// # conductor::run(async {
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let (a, b) = (log.clone(), log.clone());
/// conductor::call_soon(move || a.borrow_mut().push("first"));
/// conductor::call_soon(move || b.borrow_mut().push("second")).cancel();
/// conductor::yield_now().await;
/// assert_eq!(*log.borrow(), ["first"]);
/// # });
/// ```
#[track_caller]
pub fn call_soon(f: impl FnOnce() + 'static) -> CallbackHandle {
    let cb = Callback::new(Box::new(f));
    with_core(|core| {
        let core = core.expect("conductor::call_soon called outside a running conductor loop");
        core.push_ready(Runnable::callback(cb.clone()));
    });
    CallbackHandle { cb }
}

/// Queues `f` if a loop runs here; drops it otherwise (a loop that is gone runs nothing). A
/// panic in `f` is reported as a callback scheduled at `at`.
pub(crate) fn call_soon_internal(f: Box<dyn FnOnce()>, at: &'static Location<'static>) {
    with_core(|core| {
        if let Some(core) = core {
            core.push_ready(Runnable::callback(Callback::scheduled_at(f, at)));
        }
    });
}

/// A `call_later` callback's timer came due: it joins the ready queue of the running loop (the
/// one that fires its timers).
impl Expiry for Callback {
    fn expire(self: Rc<Self>) {
        with_core(|core| {
            if let Some(core) = core {
                core.push_ready(Runnable::callback(self));
            }
        });
    }
}

/// Runs `f` once `delay` has passed on the loop clock (asyncio's `loop.call_later`). Callbacks
/// due at the same time run in the order they were scheduled. A delay past the end of the loop
/// clock (292 years; `Duration::MAX`) means never, as asyncio's `math.inf`.
///
/// # Panics
/// Outside a running conductor loop.
#[track_caller]
pub fn call_later(delay: Duration, f: impl FnOnce() + 'static) -> TimerHandle {
    call_at(saturating_add(crate::context::now(), delay), f)
}

/// Runs `f` at `when` on the loop clock (asyncio's `loop.call_at`). A time in the past means
/// "as soon as possible, in deadline order".
///
/// # Panics
/// Outside a running conductor loop.
#[track_caller]
pub fn call_at(when: Instant, f: impl FnOnce() + 'static) -> TimerHandle {
    let cb = Callback::new(Box::new(f));
    let (loop_id, key) = with_core(|core| {
        let core = core.expect("conductor::call_at called outside a running conductor loop");
        let ns = core.drivers.clock.ns_of(when);
        let key = core
            .drivers
            .timers
            .borrow_mut()
            .insert(ns, Payload::Expiry(cb.clone()));
        (core.id, key)
    });
    TimerHandle {
        cb,
        when,
        loop_id,
        key,
    }
}

/// A callback queued by [`call_soon`] (asyncio's `Handle`).
pub struct CallbackHandle {
    cb: Rc<Callback>,
}

impl CallbackHandle {
    /// Prevents the callback from running, if it has not run yet.
    pub fn cancel(&self) {
        self.cb.cancel();
    }

    /// Whether [`cancel`](Self::cancel) stopped the callback.
    pub fn cancelled(&self) -> bool {
        self.cb.is_cancelled()
    }

    /// [`cancelled`](Self::cancelled) under the Rust convention's name (asyncio's is `cancelled`).
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled()
    }
}

/// A callback scheduled by [`call_later`] or [`call_at`] (asyncio's `TimerHandle`).
pub struct TimerHandle {
    cb: Rc<Callback>,
    when: Instant,
    loop_id: u64,
    key: Key,
}

impl TimerHandle {
    /// Prevents the callback from running, and removes its timer.
    pub fn cancel(&self) {
        self.cb.cancel();
        with_core(|core| {
            if let Some(core) = core.filter(|c| c.id == self.loop_id) {
                let payload = core.drivers.timers.borrow_mut().cancel(self.key);
                drop(payload);
            }
        });
    }

    /// Whether [`cancel`](Self::cancel) stopped the callback.
    pub fn cancelled(&self) -> bool {
        self.cb.is_cancelled()
    }

    /// [`cancelled`](Self::cancelled) under the Rust convention's name (asyncio's is `cancelled`).
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled()
    }

    /// When the callback is scheduled to run.
    pub fn when(&self) -> Instant {
        self.when
    }
}
