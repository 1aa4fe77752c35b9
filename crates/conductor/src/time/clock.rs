//! The loop clock (asyncio's `loop.time()`): real, or paused for tests.
//!
//! A paused clock moves only when told (`advance`) or when the loop has nothing to do but wait
//! for a timer, in which case it jumps straight to that timer. Tests that sleep for an hour then
//! finish at once and give the same result on every run.
//!
//! Loop time is a count of nanoseconds, `u64`, and the loop starts at [`ORIGIN_NS`] (about 2^63 ns),
//! not at 0: deadlines up to 292 years before the loop started keep their order (asyncio orders
//! `call_at(now - 2)` before `call_at(now - 1)` however far back), and the clock runs 292 years
//! after it. Every conversion saturates: an instant further back is the clock's 0 (such deadlines
//! tie and run in the order they were scheduled), one further ahead is [`NEVER`], and a timer at
//! `NEVER` never fires (asyncio's `math.inf`). [`saturating_add`] is the one way the crate adds a
//! user's `Duration` to an `Instant`, and [`Clock::after`] the one way it adds one to the loop
//! time, so `Duration::MAX` means "never" everywhere and panics nowhere.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The loop's start on its own clock, in nanoseconds: about 2^63, on a whole millisecond (the
/// timer wheel's tick), so that a paused clock's timers fire exactly at their deadlines.
pub(crate) const ORIGIN_NS: u64 = (1 << 63) / 1_000_000 * 1_000_000;

/// The end of the loop clock: a deadline there never comes.
pub(crate) const NEVER: u64 = u64::MAX;
/// What [`saturating_add`] adds at most: from any instant of the last 292 years, this reaches
/// past the end of the loop clock.
const END: Duration = Duration::from_nanos(u64::MAX);

/// Nanoseconds in `d`, saturating (a `Duration` holds up to 2^64 seconds).
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `from + d`, saturating: past the end of the loop clock (292 years after the loop's start),
/// the result is an instant that the loop reads as [`NEVER`]. `Instant + Duration` panics on
/// overflow ("overflow when adding duration to instant"); every deadline the crate computes
/// from a user's `Duration` goes through here instead.
pub(crate) fn saturating_add(from: Instant, d: Duration) -> Instant {
    if d <= END
        && let Some(at) = from.checked_add(d)
    {
        return at;
    }
    // Linux and macOS count `Instant` in i64 seconds, so `END` always fits; the halving only
    // guards a platform whose `Instant` ends sooner.
    let mut d = d.min(END);
    loop {
        if let Some(at) = from.checked_add(d) {
            return at;
        }
        d /= 2;
    }
}

/// The monotonic clock (`Instant`'s own, `CLOCK_MONOTONIC`) in nanoseconds, read without
/// `Instant`'s checked subtraction: the loop clock reads it on every timer it arms. libc's, not
/// rustix's: rustix parses the vDSO itself, and that read faults under valgrind.
#[cfg(target_os = "linux")]
#[inline]
#[allow(unsafe_code)]
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec`; CLOCK_MONOTONIC exists on every Linux, so
    // the call cannot fail (and on failure `ts` stays zero, which only stalls the clock).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

pub(crate) struct Clock {
    /// The instant at `ORIGIN_NS`.
    base: Instant,
    /// `monotonic_ns()` read just after `base`: loop time is measured from it, so a deadline
    /// given as an `Instant` fires a few nanoseconds late at worst, never early.
    #[cfg(target_os = "linux")]
    base_ns: u64,
    paused: bool,
    /// The loop time, when paused.
    offset: Cell<u64>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Self {
        let base = Instant::now();
        Clock {
            base,
            #[cfg(target_os = "linux")]
            base_ns: monotonic_ns(),
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
            ORIGIN_NS.saturating_add(self.elapsed_ns())
        }
    }

    /// Real nanoseconds since `base`.
    #[cfg(target_os = "linux")]
    #[inline]
    fn elapsed_ns(&self) -> u64 {
        monotonic_ns().saturating_sub(self.base_ns)
    }

    #[cfg(not(target_os = "linux"))]
    fn elapsed_ns(&self) -> u64 {
        nanos(self.base.elapsed())
    }

    pub(crate) fn now(&self) -> Instant {
        if self.paused {
            self.instant(self.offset.get())
        } else {
            Instant::now()
        }
    }

    /// The loop time `d` from now, saturating at [`NEVER`].
    pub(crate) fn after(&self, d: Duration) -> u64 {
        self.now_ns().saturating_add(nanos(d))
    }

    /// The instant of loop time `ns`; [`ns_of`](Self::ns_of) gives `ns` back.
    pub(crate) fn instant(&self, ns: u64) -> Instant {
        match ns.checked_sub(ORIGIN_NS) {
            Some(after) => saturating_add(self.base, Duration::from_nanos(after)),
            // Instants before boot exist on Linux; where they do not, the earliest one is kept.
            None => {
                let before = Duration::from_nanos(ORIGIN_NS - ns);
                self.base.checked_sub(before).unwrap_or(self.base)
            }
        }
    }

    /// `at` on the loop clock, saturating at 0 and at [`NEVER`].
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

    #[test]
    fn the_end_of_time_saturates_to_never() {
        let c = Clock::new(true);
        assert_eq!(c.after(Duration::MAX), NEVER);
        let far = saturating_add(c.now(), Duration::MAX);
        assert_eq!(c.ns_of(far), NEVER);
        assert_eq!(c.ns_of(c.instant(NEVER)), NEVER);
        c.advance_to(NEVER);
        assert_eq!(c.after(Duration::from_secs(1)), NEVER);
        assert_eq!(c.ns_of(saturating_add(c.now(), Duration::MAX)), NEVER);
    }
}
