//! `timeout`, `timeout_at`, `wait_for` and the reschedulable `timeout_scope` (asyncio's
//! `asyncio.timeout()` context manager).
//!
//! On expiry a timeout does what asyncio's does: it cancels the work inside it, lets that work
//! catch the cancellation and clean up (with awaits), and then reports `TimedOut`. If the work
//! inside catches the cancellation and returns a value, that value is returned (asyncio 3.12's
//! `wait_for`). Cancellations of the whole task pass through a timeout untouched.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::clock::saturating_add;
use super::sleep::{sleep, sleep_until, Sleep};
use crate::cancel::{Delivered, LazyScope, BY_TIMEOUT};
use crate::runtime::context;

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
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(sleep(duration), future.into_future(), None)
}

/// Runs `future` until `deadline` at most (asyncio's `asyncio.timeout_at(when)`).
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
pub fn wait_for<F: IntoFuture>(future: F, duration: Duration) -> Timeout<F::IntoFuture> {
    let mut t = timeout(duration, future);
    t.never_start = duration.is_zero();
    t
}

/// A timeout that the work inside can inspect and move, as asyncio's
/// `async with asyncio.timeout(d) as cm: ... cm.reschedule(when)`.
///
/// `None` starts without a deadline.
///
/// ```
/// use std::time::Duration;
/// use conductor::{sleep, timeout_scope};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let out = timeout_scope(Some(Duration::from_millis(10)), |cm| async move {
///     cm.reschedule(None); // never mind the deadline
///     sleep(Duration::from_secs(1)).await;
///     "done"
/// })
/// .await;
/// assert_eq!(out, Ok("done"));
/// # });
/// ```
pub fn timeout_scope<F, Fut>(duration: Option<Duration>, body: F) -> Timeout<Fut::IntoFuture>
where
    F: FnOnce(TimeoutHandle) -> Fut,
    Fut: IntoFuture,
{
    let when = duration.map(|d| saturating_add(crate::now(), d));
    let handle = TimeoutHandle {
        state: Arc::new(Mutex::new(HandleState {
            when,
            changed: false,
            expired: false,
            waker: None,
        })),
    };
    let timer = match when {
        Some(at) => sleep_until(at),
        None => sleep(Duration::MAX),
    };
    let future = body(handle.clone()).into_future();
    Timeout::new(timer, future, Some(handle))
}

/// Inspects and moves a [`timeout_scope`]'s deadline from inside it.
#[derive(Clone)]
pub struct TimeoutHandle {
    state: Arc<Mutex<HandleState>>,
}

struct HandleState {
    when: Option<Instant>,
    changed: bool,
    expired: bool,
    waker: Option<Waker>,
}

impl TimeoutHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HandleState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The deadline, or `None` when there is none.
    pub fn when(&self) -> Option<Instant> {
        self.lock().when
    }

    /// Moves the deadline (`None` removes it). Takes effect at once, even if earlier.
    pub fn reschedule(&self, when: Option<Instant>) {
        let mut s = self.lock();
        s.when = when;
        s.changed = true;
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }

    /// Whether the deadline passed and the timeout fired.
    pub fn expired(&self) -> bool {
        self.lock().expired
    }
}

pin_project! {
    /// The future returned by [`timeout`], [`timeout_at`], [`wait_for`] and [`timeout_scope`].
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
        }
    }
}

impl<F> Timeout<F> {
    fn new(timer: Sleep, inner: F, handle: Option<TimeoutHandle>) -> Self {
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
        if let Some(handle) = this.handle.as_ref() {
            let mut s = handle.lock();
            s.waker = Some(cx.waker().clone());
            if std::mem::take(&mut s.changed) && !*this.expired {
                *this.timer = match s.when {
                    Some(at) => sleep_until(at),
                    None => sleep(Duration::MAX),
                };
            }
        }
        // An awaitable that is already done wins over a timeout that is already due
        // (asyncio's wait_for with timeout <= 0).
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
    if context::with_core(|c| c.is_some_and(|c| timer.has_fired(c))) {
        h.lock().expired = true;
    }
}

fn poll_timer(timer: &mut Sleep, cx: &mut Context<'_>) -> bool {
    context::with_core(|core| match core {
        Some(core) => timer.poll_at(core, cx).is_ready(),
        None => false,
    })
}

/// Delivers the timeout's cancellation; returns true when nothing inside catches it.
fn expire(scope: &LazyScope, handle: &Option<TimeoutHandle>) -> bool {
    if let Some(h) = handle {
        h.lock().expired = true;
    }
    matches!(scope.deliver(), Delivered::AtTarget)
}

fn finish_timed_out<F, T>(
    mut inner: Pin<&mut Option<F>>,
    scope: &mut LazyScope,
    handle: &Option<TimeoutHandle>,
) -> Poll<Result<T, TimedOut>> {
    if let Some(h) = handle {
        h.lock().expired = true;
    }
    inner.set(None);
    scope.clear();
    Poll::Ready(Err(TimedOut))
}
