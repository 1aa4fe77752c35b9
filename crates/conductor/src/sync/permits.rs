//! A fair pool of permits: the core of [`Lock`](super::Lock), [`Mutex`](super::Mutex),
//! [`Semaphore`](super::Semaphore) and [`BoundedSemaphore`](super::BoundedSemaphore).
//!
//! The state word is `available << 1 | WAITERS`. Invariants:
//! 1. `WAITERS` is set exactly when the wait queue has a linked waiter; it changes only under the
//!    queue's mutex.
//! 2. While `WAITERS` is set, permits are taken only under the mutex, by the waiter at the front:
//!    the fast path requires `WAITERS` clear. Releases add to the word at any time (one
//!    `fetch_add`); a release that sees `WAITERS` takes the mutex and hands permits out in order.
//! 3. A waiter is *given* its permits: they leave the word, and its slot leaves the queue,
//!    before it is woken. It then owns them: it uses them when its future runs, or releases them
//!    if it is dropped first.
//! 4. Waiters hold FIFO tickets, and permits are given strictly in queue order, so `granted` (the
//!    ticket of the last waiter given permits) only grows, and a live waiter was given its
//!    permits exactly when `granted` has reached its ticket. A woken waiter learns it from one
//!    load, without the mutex.
//!
//! So a newcomer cannot barge past a waiter (2), even one already woken but not yet run (3), and
//! a cancelled waiter never loses a permit (3). The uncontended acquire is one compare-exchange,
//! the uncontended release one `fetch_add`; neither allocates.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::wait_queue::{WaitQueue, WakeList};
use super::{const_fn, lock};
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

const WAITERS: usize = 1;
const SHIFT: u32 = 1;

/// The largest number of permits a pool holds.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

pub(crate) struct Permits {
    state: AtomicUsize,
    /// The ticket of the last waiter given its permits (invariant 4).
    granted: AtomicUsize,
    waiters: Mutex<Waiters>,
    /// The pool as tokio-console shows it (a `Lock`, a `Semaphore`...).
    #[cfg(feature = "tracing")]
    console: crate::console::LazyResource,
}

struct Waiters {
    queue: WaitQueue<Waiter>,
    next_ticket: usize,
}

struct Waiter {
    need: usize,
    ticket: usize,
}

/// Whether ticket `a` comes at or after ticket `b` (tickets wrap around; fewer than
/// `usize::MAX / 2` waiters are ever queued at once).
fn reached(a: usize, b: usize) -> bool {
    (a.wrapping_sub(b) as isize) >= 0
}

impl Permits {
    const_fn! {
        /// A pool of `permits`, for the primitive `concrete_type` (its name in tokio-console).
        #[cfg_attr(feature = "tracing", track_caller)]
        pub(crate) fn new(permits: usize, concrete_type: &'static str) -> Permits {
            assert!(permits <= MAX_PERMITS, "a semaphore holds at most MAX_PERMITS permits");
            #[cfg(not(feature = "tracing"))]
            let _ = concrete_type;
            Permits {
                state: AtomicUsize::new(permits << SHIFT),
                granted: AtomicUsize::new(0),
                waiters: Mutex::new(Waiters {
                    queue: WaitQueue::new(),
                    next_ticket: 1,
                }),
                #[cfg(feature = "tracing")]
                console: crate::console::LazyResource::new(concrete_type),
            }
        }
    }

    /// Permits nobody holds (permits already given to a woken waiter are not counted).
    pub(crate) fn available(&self) -> usize {
        self.state.load(Acquire) >> SHIFT
    }

    /// Whether a task waits for permits.
    pub(crate) fn has_waiters(&self) -> bool {
        self.state.load(Acquire) & WAITERS != 0
    }

    /// Takes `n` permits if they are free and nobody waits (no barging).
    #[inline]
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        let mut cur = self.state.load(Relaxed);
        loop {
            if cur & WAITERS != 0 || cur >> SHIFT < n {
                return false;
            }
            match self
                .state
                .compare_exchange_weak(cur, cur - (n << SHIFT), Acquire, Relaxed)
            {
                Ok(_) => {
                    #[cfg(feature = "tracing")]
                    self.report();
                    return true;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// A future that resolves once `n` permits are ours.
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            permits: self,
            need: n,
            waiting: None,
            #[cfg(feature = "tracing")]
            op: self.console_op(),
        }
    }

    /// Returns `n` permits that were acquired: they go to the waiters first, in order.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        // Release: the next holder sees what this one wrote. Whether we see WAITERS or not, the
        // compare-exchange that set it is ordered with this add (one modification order), so a
        // waiter either saw these permits when it enqueued or is found by `hand_over`.
        let prev = self.state.fetch_add(n << SHIFT, Release);
        if prev & WAITERS != 0 {
            self.hand_over();
        }
        #[cfg(feature = "tracing")]
        self.report();
    }

    /// Adds `n` new permits unless the total available would exceed `bound`.
    pub(crate) fn add(&self, n: usize, bound: usize) -> Result<(), ()> {
        let mut cur = self.state.load(Relaxed);
        loop {
            let avail = cur >> SHIFT;
            if avail.checked_add(n).is_none_or(|t| t > bound) {
                return Err(());
            }
            match self
                .state
                .compare_exchange_weak(cur, cur + (n << SHIFT), Release, Relaxed)
            {
                Ok(prev) => {
                    if prev & WAITERS != 0 {
                        self.hand_over();
                    }
                    #[cfg(feature = "tracing")]
                    self.report();
                    return Ok(());
                }
                Err(actual) => cur = actual,
            }
        }
    }

    #[cold]
    fn hand_over(&self) {
        let mut wakers = WakeList::new();
        let mut q = lock(&self.waiters);
        self.grant_locked(&mut q, &mut wakers);
        drop(q);
        wakers.wake_all();
    }

    /// Under the mutex: gives permits to the waiters at the front while the word has enough
    /// for the first of them; clears `WAITERS` once nobody is left.
    fn grant_locked(&self, w: &mut Waiters, wakers: &mut WakeList) {
        while let Some(front) = w.queue.front() {
            let need = w.queue.value(front).need;
            // Concurrent changes only add permits (invariant 2), so what we see stays there.
            if self.state.load(Acquire) >> SHIFT < need {
                return;
            }
            self.state.fetch_sub(need << SHIFT, AcqRel);
            let (waiter, waker) = w.queue.remove_front().expect("the front exists");
            self.granted.store(waiter.ticket, Release);
            wakers.push_opt(waker);
        }
        self.state.fetch_and(!WAITERS, Release);
    }

    fn is_granted(&self, ticket: usize) -> bool {
        reached(self.granted.load(Acquire), ticket)
    }

    fn poll_acquire(
        &self,
        cx: &mut Context<'_>,
        need: usize,
        waiting: &mut Option<(usize, usize)>,
    ) -> Poll<()> {
        match *waiting {
            None => {
                // An acquire that always succeeds at once must still let other tasks run.
                ready!(crate::context::poll_budget(cx));
                if self.try_acquire(need) {
                    return Poll::Ready(());
                }
                self.enqueue(cx, need, waiting)
            }
            Some((key, ticket)) => {
                // Given its permits: the slot is gone already (invariant 3).
                if self.is_granted(ticket) {
                    *waiting = None;
                    return Poll::Ready(());
                }
                let mut w = lock(&self.waiters);
                if self.is_granted(ticket) {
                    *waiting = None;
                    return Poll::Ready(());
                }
                w.queue.set_waker(key, cx.waker());
                Poll::Pending
            }
        }
    }

    #[cold]
    fn enqueue(
        &self,
        cx: &mut Context<'_>,
        need: usize,
        waiting: &mut Option<(usize, usize)>,
    ) -> Poll<()> {
        let mut w = lock(&self.waiters);
        let mut cur = self.state.load(Acquire);
        // Take the permits if a release freed them meanwhile and nobody waits; otherwise
        // announce a waiter, in the same compare-exchange so that no release slips between.
        while cur & WAITERS == 0 {
            let take = cur >> SHIFT >= need;
            let next = if take {
                cur - (need << SHIFT)
            } else {
                cur | WAITERS
            };
            match self.state.compare_exchange(cur, next, AcqRel, Acquire) {
                Ok(_) if take => return Poll::Ready(()),
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        let ticket = w.next_ticket;
        w.next_ticket = ticket.wrapping_add(1);
        let key = w.queue.push_back(Waiter { need, ticket }, cx.waker());
        *waiting = Some((key, ticket));
        Poll::Pending
    }

    /// A waiting future was dropped: its slot goes, and permits it was given go to the next.
    #[cold]
    fn cancel(&self, key: usize, ticket: usize, need: usize) {
        let mut wakers = WakeList::new();
        let mut w = lock(&self.waiters);
        if self.is_granted(ticket) {
            // Woken but dropped before it ran (its task was cancelled): pass the permits on.
            self.state.fetch_add(need << SHIFT, Release);
        } else {
            w.queue.remove(key);
        }
        // The front may have changed (or the queue emptied, which clears WAITERS).
        self.grant_locked(&mut w, &mut wakers);
        drop(w);
        wakers.wake_all();
    }
}

/// tokio-console's view: the state of a lock (`locked`) or a semaphore (`permits`), and an
/// async op per acquire, as tokio's `Mutex` and `Semaphore` report them.
#[cfg(feature = "tracing")]
impl Permits {
    fn report_to(&self, r: &crate::console::Resource) {
        use crate::console::state_update;
        let available = self.available() as u64;
        match self.console.concrete_type() {
            "Lock" | "Mutex" | "Condition" => state_update!(r, locked = available == 0),
            _ => state_update!(r, permits = available, permits.op = "override"),
        }
    }

    /// Reports the state, when a subscriber listens.
    #[inline]
    fn report(&self) {
        if let Some(r) = self.console.get(|_| {}) {
            self.report_to(r);
        }
    }

    /// The pool's resource (made now if a subscriber listens), for the ops of a primitive
    /// around it (a `Condition`'s wait).
    pub(crate) fn console_resource(&self) -> Option<&crate::console::Resource> {
        self.console.get(|r| self.report_to(r))
    }

    fn console_op(&self) -> Option<Box<crate::console::AsyncOp>> {
        let r = self.console_resource()?;
        Some(r.boxed_op(match self.console.concrete_type() {
            "Lock" => "Lock::acquire",
            "Mutex" => "Mutex::lock",
            "Condition" => "Condition::acquire",
            "BoundedSemaphore" => "BoundedSemaphore::acquire",
            _ => "Semaphore::acquire",
        }))
    }
}

impl fmt::Debug for Permits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.load(Relaxed);
        f.debug_struct("Permits")
            .field("available", &(s >> SHIFT))
            .field("waiters", &(s & WAITERS != 0))
            .finish()
    }
}

/// Waits for permits; dropping it gives back permits it was handed (see the module doc).
pub(crate) struct Acquire<'a> {
    permits: &'a Permits,
    need: usize,
    /// Our slot in the queue and our ticket, while we wait.
    waiting: Option<(usize, usize)>,
    /// The acquire as tokio-console shows it.
    #[cfg(feature = "tracing")]
    op: Option<Box<crate::console::AsyncOp>>,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        #[cfg(feature = "tracing")]
        let r = match &this.op {
            Some(op) => {
                let r = op.poll("poll", || {
                    this.permits.poll_acquire(cx, this.need, &mut this.waiting)
                });
                if r.is_ready() {
                    this.permits.report();
                }
                r
            }
            None => this.permits.poll_acquire(cx, this.need, &mut this.waiting),
        };
        #[cfg(not(feature = "tracing"))]
        let r = this.permits.poll_acquire(cx, this.need, &mut this.waiting);
        if r.is_pending() {
            let need = this.need;
            crate::trace::note(|| {
                crate::trace::Point::new("acquire")
                    .detail(format!("lock or semaphore, {need} permit(s)"))
            });
        }
        r
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some((key, ticket)) = self.waiting.take() {
            self.permits.cancel(key, ticket, self.need);
        }
    }
}

/// The error of a `try_` acquire: the lock is held, or the permits are taken, or other tasks
/// already wait for them (taking them would barge past those tasks).
///
/// ```
/// let sem = conductor::sync::Semaphore::new(0);
/// assert_eq!(sem.try_acquire().unwrap_err(), conductor::sync::TryAcquireError);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryAcquireError;

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "would have to wait: the lock is held or the permits are taken, \
             or other tasks are waiting for them first (await the acquire instead)",
        )
    }
}

impl std::error::Error for TryAcquireError {}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;
    use crate::sync::block_on;
    use loom::thread;

    #[test]
    fn a_release_racing_an_enqueue_is_never_lost() {
        loom::model(|| {
            let p = Arc::new(Permits::new(1, "Semaphore"));
            assert!(p.try_acquire(1));
            let p2 = p.clone();
            let releaser = thread::spawn(move || p2.release(1));
            // Waits in the queue or takes the permit on the way: either way it must end up
            // with it (a lost wake-up deadlocks the model).
            block_on(p.acquire(1));
            releaser.join().unwrap();
            assert_eq!(p.available(), 0);
            assert!(!p.has_waiters());
        });
    }

    #[test]
    fn two_waiters_each_get_a_permit_once() {
        loom::model(|| {
            let p = Arc::new(Permits::new(0, "Semaphore"));
            let (p1, p2) = (p.clone(), p.clone());
            let a = thread::spawn(move || block_on(p1.acquire(1)));
            let b = thread::spawn(move || block_on(p2.acquire(1)));
            p.release(1);
            p.release(1);
            a.join().unwrap();
            b.join().unwrap();
            assert_eq!(p.available(), 0);
            assert!(!p.has_waiters());
        });
    }

    #[test]
    fn a_dropped_waiter_passes_its_permit_on() {
        loom::model(|| {
            let p = Arc::new(Permits::new(0, "Semaphore"));
            let p1 = p.clone();
            let waiter = thread::spawn(move || {
                // Enqueues (no permit yet), then gives up: cancelled.
                let mut acq = p1.acquire(1);
                let waker = futures_noop_waker();
                let mut cx = Context::from_waker(&waker);
                let got = Pin::new(&mut acq).poll(&mut cx).is_ready();
                drop(acq);
                if got {
                    p1.release(1);
                }
            });
            p.release(1);
            waiter.join().unwrap();
            // Whether the waiter got the permit, was handed it, or never enqueued, it is back.
            assert_eq!(p.available(), 1);
            assert!(!p.has_waiters());
        });
    }

    fn futures_noop_waker() -> std::task::Waker {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        std::task::Waker::from(std::sync::Arc::new(Noop))
    }
}
