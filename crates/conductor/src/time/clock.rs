//! The loop clock (asyncio's `loop.time()`): real, or paused for tests.
//!
//! A paused clock moves only when told (`advance`) or when the loop has nothing to do but wait
//! for a timer, in which case it jumps straight to that timer. Tests that sleep for an hour then
//! finish at once and give the same result on every run.

use std::cell::Cell;
use std::time::{Duration, Instant};

pub(crate) struct Clock {
    base: Instant,
    paused: bool,
    /// Nanoseconds since `base`, when paused.
    offset: Cell<u64>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Self {
        Clock {
            base: Instant::now(),
            paused,
            offset: Cell::new(0),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// Nanoseconds since the loop started.
    pub(crate) fn now_ns(&self) -> u64 {
        if self.paused {
            self.offset.get()
        } else {
            u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
        }
    }

    pub(crate) fn now(&self) -> Instant {
        if self.paused {
            self.instant(self.offset.get())
        } else {
            Instant::now()
        }
    }

    pub(crate) fn instant(&self, ns: u64) -> Instant {
        self.base + Duration::from_nanos(ns)
    }

    /// `at` on the loop clock; instants before the loop started map to 0.
    pub(crate) fn ns_of(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Moves a paused clock forward to `ns` (never backward). No effect on a real clock.
    pub(crate) fn advance_to(&self, ns: u64) {
        if self.paused && ns > self.offset.get() {
            self.offset.set(ns);
        }
    }
}
