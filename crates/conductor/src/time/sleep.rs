//! `sleep` and `sleep_until`: a future that completes at a deadline on the loop clock.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::wheel::{Key, Payload};
use crate::context;
use crate::context::Drivers;

/// Waits until `duration` has passed on the loop clock (asyncio's `asyncio.sleep(delay)`).
///
/// As in asyncio, the clock starts when the sleep is first awaited, and a zero duration yields to
/// the loop exactly once (like `asyncio.sleep(0)`).
///
/// ```
/// use std::time::Duration;
/// conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
///     let start = conductor::now();
///     conductor::sleep(Duration::from_secs(3600)).await; // instant under a paused clock
///     assert_eq!(conductor::now() - start, Duration::from_secs(3600));
/// });
/// ```
#[cfg_attr(feature = "tracing", track_caller)]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Deadline::After(duration))
}

/// Waits until `deadline` (an instant of the loop clock, see [`now`](crate::now)).
#[cfg_attr(feature = "tracing", track_caller)]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(Deadline::At(deadline))
}

/// [`sleep_until`] made for a caller that noted where its user called it (an `Interval` made
/// by `interval()`): tokio-console shows the timer there.
#[cfg(feature = "tracing")]
pub(crate) fn sleep_until_at(deadline: Instant, at: &std::panic::Location<'_>) -> Sleep {
    Sleep::made_at(Deadline::At(deadline), at)
}

#[derive(Clone, Copy, Debug)]
enum Deadline {
    /// Relative to the first poll.
    After(Duration),
    At(Instant),
    /// Nanoseconds on the clock of the loop `loop_id`.
    Resolved {
        loop_id: u64,
        ns: u64,
    },
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// `Send + Sync`: it holds its loop's id and a timer key, no pointer, so it fits APIs that
/// require it (hyper's `Timer`). It must still be polled on the loop it was first polled on;
/// dropped on another thread, its timer fires harmlessly on its loop.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Deadline,
    entry: Option<Key>,
    done: bool,
    yielded: bool,
    /// The timer as tokio-console shows it (taken out while it is polled).
    #[cfg(feature = "tracing")]
    console: Option<Box<crate::console::Timer>>,
}

impl Sleep {
    #[cfg(not(feature = "tracing"))]
    fn new(deadline: Deadline) -> Self {
        Sleep {
            deadline,
            entry: None,
            done: false,
            yielded: false,
        }
    }

    #[cfg(feature = "tracing")]
    #[track_caller]
    fn new(deadline: Deadline) -> Self {
        Sleep::made_at(deadline, std::panic::Location::caller())
    }

    /// A sleep whose timer tokio-console shows as made at `at`.
    #[cfg(feature = "tracing")]
    fn made_at(deadline: Deadline, at: &std::panic::Location<'_>) -> Self {
        Sleep {
            deadline,
            entry: None,
            done: false,
            yielded: false,
            console: crate::console::Timer::new(
                at,
                match deadline {
                    Deadline::After(d) => Some(d.as_millis() as u64),
                    _ => None,
                },
            ),
        }
    }

    /// The deadline, once known (a `sleep(d)` learns it when first polled).
    pub fn deadline(&self) -> Option<Instant> {
        match self.deadline {
            Deadline::After(_) => None,
            Deadline::At(at) => Some(at),
            Deadline::Resolved { ns, .. } => {
                context::with_drivers(|c| c.map(|c| c.clock.instant(ns)))
            }
        }
    }

    /// Whether the deadline has passed (and the sleep was polled since).
    pub fn is_elapsed(&self) -> bool {
        self.done
    }

    /// Moves the deadline; the sleep waits again even if it had completed.
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel_entry();
        *self = Sleep::new(Deadline::At(deadline));
    }

    /// The deadline on `core`'s clock, and whether the sleep must only yield (a zero duration).
    /// Reads the clock only for a relative deadline: a deadline already past goes to the timer
    /// queue like any other and fires at the next iteration, which is the same single yield.
    fn resolve(&mut self, core: &Drivers) -> (u64, bool) {
        let (ns, zero) = match self.deadline {
            Deadline::After(Duration::ZERO) => (core.clock.now_ns(), true),
            Deadline::After(d) => (core.clock.after(d), false),
            Deadline::At(at) => (core.clock.ns_of(at), false),
            Deadline::Resolved { loop_id, ns } if loop_id == core.id => return (ns, false),
            Deadline::Resolved { .. } => {
                panic!("a conductor Sleep was polled on two different event loops")
            }
        };
        self.deadline = Deadline::Resolved {
            loop_id: core.id,
            ns,
        };
        (ns, zero)
    }

    /// Polls with the running loop (shared by `Timeout` and `Interval`). Each `Pending` notes
    /// debug mode's await point itself, where the deadline is at hand.
    pub(crate) fn poll_at(&mut self, core: &Drivers, cx: &mut Context<'_>) -> Poll<()> {
        #[cfg(feature = "tracing")]
        if let Some(console) = self.console.take() {
            // Inside the timer's spans; the nested call finds no console and polls.
            let r = console.poll(|| self.poll_at(core, cx));
            self.console = Some(console);
            return r;
        }
        if self.done {
            return Poll::Ready(());
        }
        if let Some(key) = self.entry {
            let mut timers = core.timers.borrow_mut();
            let Deadline::Resolved { ns, .. } = self.deadline else {
                unreachable!("a registered sleep has a resolved deadline")
            };
            // Checked against the wheel's clock, not the entry: a woken sleeper does not touch
            // its (possibly reused) timer slot.
            if !timers.is_due(ns) && timers.is_pending(key) {
                timers.set_waker(key, cx.waker());
                note_sleep(core, ns);
                return Poll::Pending;
            }
            self.entry = None;
            self.done = true;
            return Poll::Ready(());
        }
        if self.yielded {
            self.done = true;
            return Poll::Ready(());
        }
        let (deadline, zero) = self.resolve(core);
        if zero {
            // asyncio's sleep(0): one yield, no timer.
            self.yielded = true;
            cx.waker().wake_by_ref();
            note_sleep(core, deadline);
            return Poll::Pending;
        }
        let payload = Payload::Waker(Some(cx.waker().clone()));
        self.entry = Some(core.timers.borrow_mut().insert(deadline, payload));
        note_sleep(core, deadline);
        Poll::Pending
    }

    /// Whether the timer has fired on `core`: the loop took it from the wheel (asyncio's timer
    /// callback ran), or the sleep completed. A deadline that has passed but not yet been
    /// reached by the loop has not fired.
    pub(crate) fn has_fired(&self, core: &Drivers) -> bool {
        if self.done {
            return true;
        }
        match (self.entry, self.deadline) {
            (Some(key), Deadline::Resolved { loop_id, .. }) if loop_id == core.id => {
                !core.timers.borrow().is_pending(key)
            }
            _ => false,
        }
    }

    fn cancel_entry(&mut self) {
        let Some(key) = self.entry.take() else { return };
        let Deadline::Resolved { loop_id, .. } = self.deadline else {
            return;
        };
        context::with_drivers(|c| {
            if let Some(core) = c.filter(|c| c.id == loop_id) {
                // Dropped outside the borrow: a waker's drop may reach the loop.
                let payload = core.timers.borrow_mut().cancel(key);
                drop(payload);
            }
            // Elsewhere (the loop is gone, or another one runs) the entry fires harmlessly.
        });
    }
}

/// Debug mode's await point: the task sleeps until `ns` on `core`'s clock.
#[inline]
fn note_sleep(core: &Drivers, ns: u64) {
    crate::trace::note(|| {
        let now = core.clock.now_ns();
        let at = core.clock.now() + Duration::from_nanos(ns.saturating_sub(now));
        crate::trace::Point::new("sleep").deadline(at)
    });
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        context::with_drivers(|core| {
            let core = core.expect("conductor::sleep polled outside a running conductor loop");
            self.poll_at(core, cx)
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel_entry();
    }
}
