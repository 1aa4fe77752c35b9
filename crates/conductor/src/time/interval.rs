//! `interval`: ticks at a fixed period (asyncio has no such helper; this is the usual Rust one).

use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::clock::saturating_add;
use super::sleep::Sleep;
use crate::context;

/// What an [`Interval`] does when ticks were missed (the loop was busy past one or more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, then keep the original schedule.
    #[default]
    Burst,
    /// Fire once, then count the period from now.
    Delay,
    /// Fire once, then resume at the next multiple of the period on the original schedule.
    Skip,
}

/// Ticks every `period`, the first tick at once. A period past the end of the loop clock
/// (`Duration::MAX`) ticks once, then never again.
///
/// # Panics
/// When `period` is zero.
///
/// ```
/// use std::time::Duration;
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let start = conductor::now();
/// let mut every = conductor::interval(Duration::from_millis(10));
/// for _ in 0..3 {
///     every.tick().await;
/// }
/// assert_eq!(conductor::now() - start, Duration::from_millis(20));
/// # });
/// ```
#[cfg_attr(feature = "tracing", track_caller)]
pub fn interval(period: Duration) -> Interval {
    interval_inner(None, period)
}

/// Ticks every `period`, the first tick at `start`.
#[cfg_attr(feature = "tracing", track_caller)]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    interval_inner(Some(start), period)
}

#[cfg_attr(feature = "tracing", track_caller)]
fn interval_inner(start: Option<Instant>, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "interval period must be non-zero");
    Interval {
        period,
        next: start,
        timer: None,
        missed: MissedTickBehavior::default(),
        #[cfg(feature = "tracing")]
        made_at: std::panic::Location::caller(),
    }
}

/// The timer of the tick due at `due`.
#[cfg(not(feature = "tracing"))]
fn timer_until(_: &Interval, due: Instant) -> Sleep {
    super::sleep::sleep_until(due)
}

/// The timer of the tick due at `due`, shown by tokio-console where the interval was made.
#[cfg(feature = "tracing")]
fn timer_until(interval: &Interval, due: Instant) -> Sleep {
    super::sleep::sleep_until_at(due, interval.made_at)
}

/// A periodic timer; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    /// The next tick's instant; `None` until the first tick (which is "now").
    next: Option<Instant>,
    timer: Option<Sleep>,
    missed: MissedTickBehavior,
    /// Where `interval` was called: tokio-console shows its timers there.
    #[cfg(feature = "tracing")]
    made_at: &'static std::panic::Location<'static>,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let now = crate::now();
        let due = *self.next.get_or_insert(now);
        if due > now {
            if self.timer.is_none() {
                self.timer = Some(timer_until(self, due));
            }
            let timer = self.timer.as_mut().expect("the tick's timer was just made");
            let ready = context::with_drivers(|c| {
                let core = c.expect("Interval polled outside a running conductor loop");
                timer.poll_at(core, cx).is_ready()
            });
            if !ready {
                return Poll::Pending;
            }
        }
        self.timer = None;
        let now = crate::now();
        let mut next = saturating_add(due, self.period);
        if next <= now {
            next = match self.missed {
                MissedTickBehavior::Burst => next,
                MissedTickBehavior::Delay => saturating_add(now, self.period),
                MissedTickBehavior::Skip => {
                    let behind = (now - due).as_nanos() / self.period.as_nanos();
                    let steps = u32::try_from(behind + 1).unwrap_or(u32::MAX);
                    saturating_add(due, self.period.saturating_mul(steps))
                }
            };
        }
        self.next = Some(next);
        Poll::Ready(due)
    }

    /// Chooses what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.timer = None;
        self.next = Some(saturating_add(crate::now(), self.period));
    }
}
