//! A fair pool of permits: the core of [`Lock`](super::Lock), [`Mutex`](super::Mutex),
//! [`Semaphore`](super::Semaphore) and [`BoundedSemaphore`](super::BoundedSemaphore).
//!
//! The state word is `available << 1 | WAITERS`. Invariants:
//! 1. `WAITERS` is set exactly when the wait queue has a linked waiter; it changes only under the
//!    queue's mutex.
//! 2. While `WAITERS` is set, permits are taken only under the mutex, by the waiter at the front:
//!    the fast path requires `WAITERS` clear. Releases add to the word at any time (one
//!    `fetch_add`); a release that sees `WAITERS` takes the mutex and hands permits out in order.
//! 3. A waiter is *given* its permits: they leave the word before it is unlinked. It then owns
//!    them: it uses them when its future runs, or releases them if it is dropped first.
//!
//! So a newcomer cannot barge past a waiter (2), even one already woken but not yet run (3), and
//! a cancelled waiter never loses a permit (3). The uncontended acquire is one compare-exchange,
//! the uncontended release one `fetch_add`; neither allocates.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::wait_queue::{WaitQueue, WakeList};
use super::{const_fn, lock};
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::loom::sync::Mutex;

const WAITERS: usize = 1;
const SHIFT: u32 = 1;

/// The largest number of permits a pool holds.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

pub(crate) struct Permits {
    state: AtomicUsize,
    /// Each waiter's value is the number of permits it needs.
    waiters: Mutex<WaitQueue<usize>>,
}

impl Permits {
    const_fn! {
        pub(crate) fn new(permits: usize) -> Permits {
            assert!(permits <= MAX_PERMITS, "a semaphore holds at most MAX_PERMITS permits");
            Permits {
                state: AtomicUsize::new(permits << SHIFT),
                waiters: Mutex::new(WaitQueue::new()),
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
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    /// A future that resolves once `n` permits are ours.
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            permits: self,
            need: n,
            slot: None,
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
    }

    /// Adds `n` new permits unless the total available would exceed `bound`.
    pub(crate) fn add(&self, n: usize, bound: usize) -> Result<(), ()> {
        let mut cur = self.state.load(Relaxed);
        loop {
            let avail = cur >> SHIFT;
            if avail.checked_add(n).map_or(true, |t| t > bound) {
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
    fn grant_locked(&self, q: &mut WaitQueue<usize>, wakers: &mut WakeList) {
        while let Some(front) = q.front() {
            let need = *q.value(front);
            // Concurrent changes only add permits (invariant 2), so what we see stays there.
            if self.state.load(Acquire) >> SHIFT < need {
                return;
            }
            self.state.fetch_sub(need << SHIFT, AcqRel);
            wakers.push_opt(q.pop_front());
        }
        self.state.fetch_and(!WAITERS, Release);
    }

    fn poll_acquire(
        &self,
        cx: &mut Context<'_>,
        need: usize,
        slot: &mut Option<usize>,
    ) -> Poll<()> {
        match *slot {
            None => {
                // An acquire that always succeeds at once must still let other tasks run.
                ready!(crate::runtime::budget::poll_proceed(cx));
                if self.try_acquire(need) {
                    return Poll::Ready(());
                }
                self.enqueue(cx, need, slot)
            }
            Some(key) => {
                let mut q = lock(&self.waiters);
                if q.is_linked(key) {
                    q.set_waker(key, cx.waker());
                    return Poll::Pending;
                }
                // Chosen: the permits were given to us (invariant 3).
                q.remove(key);
                *slot = None;
                Poll::Ready(())
            }
        }
    }

    #[cold]
    fn enqueue(&self, cx: &mut Context<'_>, need: usize, slot: &mut Option<usize>) -> Poll<()> {
        let mut q = lock(&self.waiters);
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
        *slot = Some(q.push_back(need, cx.waker()));
        Poll::Pending
    }

    /// A waiting future was dropped: its slot goes, and permits it was given go to the next.
    #[cold]
    fn cancel(&self, key: usize) {
        let mut wakers = WakeList::new();
        let mut q = lock(&self.waiters);
        let (linked, need) = q.remove(key);
        if !linked {
            // Woken but dropped before it ran (its task was cancelled): pass the permits on.
            self.state.fetch_add(need << SHIFT, Release);
        }
        // The front may have changed (or the queue emptied, which clears WAITERS).
        self.grant_locked(&mut q, &mut wakers);
        drop(q);
        wakers.wake_all();
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
    slot: Option<usize>,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.permits.poll_acquire(cx, this.need, &mut this.slot)
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.slot.take() {
            self.permits.cancel(key);
        }
    }
}

/// The error of a `try_` acquire: the lock is held, or the permits are taken, or other tasks
/// already wait for them (taking them would barge past those tasks).
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
            let p = Arc::new(Permits::new(1));
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
            let p = Arc::new(Permits::new(0));
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
            let p = Arc::new(Permits::new(0));
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
