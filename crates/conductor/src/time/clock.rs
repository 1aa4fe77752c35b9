//! The loop clock (asyncio's `loop.time()`): real, or paused for tests.
//!
//! A paused clock moves only when told (`advance`) or when the loop has nothing to do but wait
//! for a timer, in which case it jumps straight to that timer. Tests that sleep for an hour then
//! finish at once and give the same result on every run.
//!
//! Loop time is a count of nanoseconds, `u64`, and the loop starts at [`ORIGIN_NS`] (about 2^63 ns),
//! not at 0: deadlines up to 292 years before the loop started keep their order (asyncio orders
//! `call_at(now - 2)` before `call_at(now - 1)` however far back), and the clock runs 292 years
//! after it. Conversions saturate: an instant further back is the clock's 0 (such deadlines
//! tie and run in the order they were scheduled).

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The loop's start on its own clock, in nanoseconds: about 2^63, on a whole millisecond (the
/// timer wheel's tick), so that a paused clock's timers fire exactly at their deadlines.
pub(crate) const ORIGIN_NS: u64 = (1 << 63) / 1_000_000 * 1_000_000;

/// Nanoseconds in `d`, saturating (a `Duration` holds up to 2^64 seconds).
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) struct Clock {
    /// The instant at `ORIGIN_NS`.
    base: Instant,
    paused: bool,
    /// The loop time, when paused.
    offset: Cell<u64>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Self {
        Clock {
            base: Instant::now(),
            paused,
            offset: Cell::new(ORIGIN_NS),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// The loop time: `ORIGIN_NS` when the loop started, in nanoseconds.
    pub(crate) fn now_ns(&self) -> u64 {
        if self.paused {
            self.offset.get()
        } else {
            ORIGIN_NS.saturating_add(nanos(self.base.elapsed()))
        }
    }

    pub(crate) fn now(&self) -> Instant {
        if self.paused {
            self.instant(self.offset.get())
        } else {
            Instant::now()
        }
    }

    /// The instant of loop time `ns`; [`ns_of`](Self::ns_of) gives `ns` back.
    pub(crate) fn instant(&self, ns: u64) -> Instant {
        match ns.checked_sub(ORIGIN_NS) {
            Some(after) => self.base + Duration::from_nanos(after),
            // Instants before boot exist on Linux; where they do not, the earliest one is kept.
            None => {
                let before = Duration::from_nanos(ORIGIN_NS - ns);
                self.base.checked_sub(before).unwrap_or(self.base)
            }
        }
    }

    /// `at` on the loop clock, saturating at 0 and at `u64::MAX`.
    pub(crate) fn ns_of(&self, at: Instant) -> u64 {
        match at.checked_duration_since(self.base) {
            Some(after) => ORIGIN_NS.saturating_add(nanos(after)),
            None => ORIGIN_NS.saturating_sub(nanos(self.base.duration_since(at))),
        }
    }

    /// Moves a paused clock forward to `ns` (never backward). No effect on a real clock.
    pub(crate) fn advance_to(&self, ns: u64) {
        if self.paused && ns > self.offset.get() {
            self.offset.set(ns);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_before_the_start_keep_their_order() {
        let c = Clock::new(true);
        let now = c.now();
        let a = c.ns_of(now - Duration::from_secs(1));
        let b = c.ns_of(now - Duration::from_secs(2));
        assert!(b < a && a < c.now_ns());
        assert_eq!(c.ns_of(c.instant(a)), a);
    }
}
