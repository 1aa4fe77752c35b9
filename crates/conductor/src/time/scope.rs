//! `timeout_scope` and `timeout_scope_at`: asyncio's `async with asyncio.timeout(d) as cm` and
//! `asyncio.timeout_at(when)`, whose handle (`cm`) the work inside can inspect and move, and the
//! code after the block can still read.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::clock::saturating_add;
use super::timeout::{TimedOut, Timeout, timer_for};

/// A timeout that the work inside can inspect and move, as asyncio's
/// `async with asyncio.timeout(d) as cm: ... cm.reschedule(when)`.
///
/// `None` starts without a deadline. The body gets the scope's [`TimeoutHandle`];
/// [`TimeoutScope::handle`] gives it to the code around the scope too, to read `expired()` after
/// the block as asyncio's `cm.expired()`.
///
/// ```
/// use std::time::Duration;
/// use conductor::{catch_cancel, sleep, timeout_scope};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let out = timeout_scope(Some(Duration::from_millis(10)), |cm| async move {
///     cm.reschedule(None); // never mind the deadline
///     sleep(Duration::from_secs(1)).await;
///     "done"
/// })
/// .await;
/// assert_eq!(out, Ok("done"));
///
/// // The body catches the cancellation and finishes: no error, but the scope expired.
/// let scope = timeout_scope(Some(Duration::from_millis(10)), |_| async {
///     let _ = catch_cancel(sleep(Duration::from_secs(1))).await;
/// });
/// let cm = scope.handle();
/// assert_eq!(scope.await, Ok(()));
/// assert!(cm.expired());
/// # });
/// ```
#[cfg_attr(feature = "tracing", track_caller)]
pub fn timeout_scope<F, Fut>(duration: Option<Duration>, body: F) -> TimeoutScope<Fut::IntoFuture>
where
    F: FnOnce(TimeoutHandle) -> Fut,
    Fut: IntoFuture,
{
    timeout_scope_at(duration.map(|d| saturating_add(crate::now(), d)), body)
}

/// [`timeout_scope`] with a deadline (asyncio's `async with asyncio.timeout_at(when) as cm`);
/// `None` starts without one.
///
/// ```
/// use std::time::Duration;
/// use conductor::{sleep, timeout_scope_at, TimedOut};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let when = conductor::now() + Duration::from_secs(5);
/// let scope = timeout_scope_at(Some(when), |cm| async move {
///     assert_eq!(cm.when(), Some(when));
///     sleep(Duration::from_secs(60)).await
/// });
/// let cm = scope.handle();
/// assert_eq!(scope.await, Err(TimedOut));
/// assert!(cm.expired());
/// # });
/// ```
#[cfg_attr(feature = "tracing", track_caller)]
pub fn timeout_scope_at<F, Fut>(when: Option<Instant>, body: F) -> TimeoutScope<Fut::IntoFuture>
where
    F: FnOnce(TimeoutHandle) -> Fut,
    Fut: IntoFuture,
{
    let handle = TimeoutHandle {
        state: Arc::new(Mutex::new(HandleState {
            when,
            changed: false,
            expired: false,
            finished: false,
            waker: None,
        })),
    };
    let future = body(handle.clone()).into_future();
    TimeoutScope {
        timeout: Timeout::new(timer_for(when), future, Some(handle.clone())),
        handle,
    }
}

pin_project! {
    /// The future returned by [`timeout_scope`] and [`timeout_scope_at`]: a [`Timeout`] with
    /// a handle.
    #[must_use = "futures do nothing unless awaited"]
    pub struct TimeoutScope<F> {
        #[pin]
        timeout: Timeout<F>,
        handle: TimeoutHandle,
    }
}

impl<F> TimeoutScope<F> {
    /// The scope's handle (asyncio's `cm`), to keep for after the scope finished.
    pub fn handle(&self) -> TimeoutHandle {
        self.handle.clone()
    }
}

impl<F: Future> Future for TimeoutScope<F> {
    type Output = Result<F::Output, TimedOut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().timeout.poll(cx)
    }
}

/// Inspects and moves a [`timeout_scope`]'s deadline from inside it, and tells afterwards
/// whether it expired. `Send`: another thread may read or move the deadline too.
#[derive(Clone)]
pub struct TimeoutHandle {
    state: Arc<Mutex<HandleState>>,
}

struct HandleState {
    when: Option<Instant>,
    changed: bool,
    expired: bool,
    finished: bool,
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

    /// Moves the deadline (`None` removes it). Takes effect at once, even if earlier. Once the
    /// scope finished it has no effect (asyncio raises `RuntimeError` then).
    pub fn reschedule(&self, when: Option<Instant>) {
        let mut s = self.lock();
        if s.finished {
            return;
        }
        s.when = when;
        s.changed = true;
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }

    /// Whether the scope's timer fired (asyncio's `cm.expired()`): true from then on, also when
    /// the work inside caught the cancellation and finished.
    pub fn expired(&self) -> bool {
        self.lock().expired
    }

    /// [`expired`](Self::expired) under the Rust convention's name (asyncio's is `expired`).
    #[inline]
    pub fn is_expired(&self) -> bool {
        self.expired()
    }

    /// Records the polling waker; returns the new deadline if it was moved since.
    pub(super) fn poll_change(&self, waker: &Waker) -> Option<Option<Instant>> {
        let mut s = self.lock();
        match &s.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => s.waker = Some(waker.clone()),
        }
        std::mem::take(&mut s.changed).then_some(s.when)
    }

    pub(super) fn set_expired(&self) {
        self.lock().expired = true;
    }

    /// The scope finished (or was dropped): later reschedules are ignored.
    pub(super) fn finish(&self) {
        let mut s = self.lock();
        s.finished = true;
        s.waker = None;
    }
}

impl fmt::Debug for TimeoutHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        f.debug_struct("TimeoutHandle")
            .field("when", &s.when)
            .field("expired", &s.expired)
            .field("finished", &s.finished)
            .finish()
    }
}
