//! `timeout`, `timeout_at`, `wait_for`, and the `Timeout` future under them and under the
//! reschedulable scopes of `scope`.
//!
//! On expiry a timeout does what asyncio's does: it cancels the work inside it, lets that work
//! catch the cancellation and clean up (with awaits), and then reports `TimedOut`. If the work
//! inside catches the cancellation and returns a value, that value is returned (asyncio 3.12's
//! `wait_for`). Cancellations of the whole task pass through a timeout untouched.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::scope::TimeoutHandle;
use super::sleep::{Sleep, sleep, sleep_until};
use crate::cancel::{BY_TIMEOUT, Delivered, LazyScope};
use crate::context;

/// The work did not finish in time (asyncio's `TimeoutError`).
///
/// Its [`source`](std::error::Error::source) is the [`Cancelled`](crate::Cancelled) that the
/// timeout delivered to the work, as asyncio's `TimeoutError.__cause__` is the
/// `CancelledError`. That cancellation never carries a message (asyncio's timeout cancels
/// without one), so every cause is the same value and `TimedOut` stays a unit struct: `Copy`,
/// and compared with `==` in tests.
///
/// ```
/// use std::error::Error;
/// use std::time::Duration;
/// use conductor::{sleep, timeout, Cancelled, TimedOut};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let r = timeout(Duration::from_secs(1), sleep(Duration::from_secs(5))).await;
/// assert_eq!(r, Err(TimedOut));
/// assert!(r.unwrap_err().source().unwrap().is::<Cancelled>());
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for TimedOut {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&BY_TIMEOUT)
    }
}

impl From<TimedOut> for std::io::Error {
    fn from(_: TimedOut) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, TimedOut)
    }
}

/// Runs `future` for at most `duration` (asyncio's `async with asyncio.timeout(delay)`).
///
/// As in asyncio, the work starts even when the deadline has already passed (a zero duration): it
/// runs to its first suspension and is cancelled there, and work that finishes without
/// suspending returns its value. [`wait_for`] with a zero timeout never starts the work.
///
/// ```
/// use std::time::Duration;
/// use conductor::{sleep, timeout, TimedOut};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// assert_eq!(timeout(Duration::from_secs(1), async { 7 }).await, Ok(7));
/// assert_eq!(timeout(Duration::from_secs(1), sleep(Duration::from_secs(5))).await, Err(TimedOut));
/// # });
/// ```
#[cfg_attr(feature = "tracing", track_caller)]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(sleep(duration), future.into_future(), None)
}

/// Runs `future` until `deadline` at most (asyncio's `asyncio.timeout_at(when)`).
#[cfg_attr(feature = "tracing", track_caller)]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(sleep_until(deadline), future.into_future(), None)
}

/// asyncio's `wait_for(aw, timeout)`: [`timeout`] with asyncio's argument order, except for a
/// zero timeout: then `future` is never polled (asyncio cancels the coroutine before its first
/// step), and `Err(TimedOut)` comes after one yield to the loop.
///
/// asyncio also returns the result of an awaitable that is already done (a finished task); a
/// Rust future cannot tell whether it is done without being polled, and polling starts an
/// `async` block. For a [`Task`](crate::Task), use [`timeout`]: polling a task handle runs none
/// of the task's code, so `timeout(Duration::ZERO, task)` gives a done task's value and cancels
/// and awaits a pending one, as asyncio's `wait_for(task, 0)`.
///
/// ```
/// use std::time::Duration;
/// use conductor::{wait_for, TimedOut};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let mut started = false;
/// let r = wait_for(async { started = true }, Duration::ZERO).await;
/// assert_eq!(r, Err(TimedOut));
/// assert!(!started);
/// # });
/// ```
#[cfg_attr(feature = "tracing", track_caller)]
pub fn wait_for<F: IntoFuture>(future: F, duration: Duration) -> Timeout<F::IntoFuture> {
    let mut t = timeout(duration, future);
    t.never_start = duration.is_zero();
    t
}

pin_project! {
    /// The future returned by [`timeout`], [`timeout_at`] and [`wait_for`] (and inside a
    /// [`TimeoutScope`](super::TimeoutScope)).
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        inner: Option<F>,
        timer: Sleep,
        scope: LazyScope,
        handle: Option<TimeoutHandle>,
        polled: bool,
        expired: bool,
        // `wait_for` with a zero timeout: the inner future is dropped unpolled.
        never_start: bool,
    }

    impl<F> PinnedDrop for Timeout<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Only a scope dropped before it finished: a finished one keeps what it reported.
            if this.inner.is_some() {
                mark_fired(this.timer, this.handle, *this.expired);
            }
            if let Some(h) = this.handle.as_ref() {
                h.finish();
            }
        }
    }
}

impl<F> Timeout<F> {
    pub(super) fn new(timer: Sleep, inner: F, handle: Option<TimeoutHandle>) -> Self {
        Timeout {
            inner: Some(inner),
            timer,
            scope: LazyScope::default(),
            handle,
            polled: false,
            expired: false,
            never_start: false,
        }
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimedOut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let first = !*this.polled;
        *this.polled = true;
        if this.scope.take_mark().is_some() {
            // The cancellation we caused came back up uncaught (or was re-raised).
            return finish_timed_out(this.inner, this.scope, this.handle);
        }
        if *this.never_start {
            // The timer is a zero sleep: one yield, then the work is dropped unstarted.
            if !poll_timer(this.timer, cx) {
                return Poll::Pending;
            }
            return finish_timed_out(this.inner, this.scope, this.handle);
        }
        this.scope.set_waker(cx.waker());
        if let Some(handle) = this.handle.as_ref()
            && let Some(when) = handle.poll_change(cx.waker())
            && !*this.expired
        {
            *this.timer = timer_for(when);
        }
        // The work starts even when the deadline already passed, as in asyncio's
        // `async with timeout(0)`: work done at its first poll wins.
        if !first && !*this.expired && poll_timer(this.timer, cx) {
            *this.expired = true;
            if expire(this.scope, this.handle) {
                return finish_timed_out(this.inner, this.scope, this.handle);
            }
        }
        let inner = this
            .inner
            .as_mut()
            .as_pin_mut()
            .expect("Timeout polled after it completed");
        let polled = this.scope.within(|| inner.poll(cx));
        if let Poll::Ready(v) = polled {
            this.inner.set(None);
            this.scope.clear();
            if let Some(h) = this.handle.as_ref() {
                h.finish();
            }
            return Poll::Ready(Ok(v));
        }
        if first && poll_timer(this.timer, cx) {
            *this.expired = true;
            if expire(this.scope, this.handle) {
                return finish_timed_out(this.inner, this.scope, this.handle);
            }
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

/// A scope dropped before it saw its own timer fire (an outer scope with the same deadline
/// expired first and dropped it) still expired: asyncio's timer callbacks both ran.
fn mark_fired(timer: &Sleep, handle: &Option<TimeoutHandle>, expired: bool) {
    let Some(h) = handle.as_ref().filter(|_| !expired) else {
        return;
    };
    if context::with_drivers(|c| c.is_some_and(|c| timer.has_fired(c))) {
        h.set_expired();
    }
}

/// The timer for a deadline, `None` being none (a sleep that never fires).
#[cfg_attr(feature = "tracing", track_caller)]
pub(super) fn timer_for(when: Option<Instant>) -> Sleep {
    match when {
        Some(at) => sleep_until(at),
        None => sleep(Duration::MAX),
    }
}

fn poll_timer(timer: &mut Sleep, cx: &mut Context<'_>) -> bool {
    context::with_drivers(|core| match core {
        Some(core) => timer.poll_at(core, cx).is_ready(),
        None => false,
    })
}

/// Delivers the timeout's cancellation; returns true when nothing inside catches it.
fn expire(scope: &LazyScope, handle: &Option<TimeoutHandle>) -> bool {
    if let Some(h) = handle {
        h.set_expired();
    }
    matches!(scope.deliver(), Delivered::AtTarget)
}

fn finish_timed_out<F, T>(
    mut inner: Pin<&mut Option<F>>,
    scope: &mut LazyScope,
    handle: &Option<TimeoutHandle>,
) -> Poll<Result<T, TimedOut>> {
    if let Some(h) = handle {
        h.set_expired();
        h.finish();
    }
    inner.set(None);
    scope.clear();
    Poll::Ready(Err(TimedOut))
}
