//! `Barrier`: asyncio's `Barrier` (3.11), with its four states.
//!
//! asyncio's barrier is a state machine run under a `Condition`: *filling* (tasks arrive and
//! wait), *draining* (the last arrival released them; they leave one by one, and newcomers wait
//! for the next round), *resetting* (a `reset` while tasks waited: they leave with
//! `BrokenBarrierError`), and *broken* (after `abort`). The same machine runs here under a std
//! mutex, held only for the few instructions of each transition; every transition wakes all
//! waiters, which re-check the state, as asyncio's `notify_all` does.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::lock;
use super::wait_queue::{WaitQueue, WakeList};
use crate::loom::sync::Mutex;

/// A meeting point for a fixed number of tasks (asyncio's `Barrier(parties)`): each task's
/// [`wait`](Self::wait) returns once `parties` tasks are waiting, all at once, each with a
/// distinct index in `0..parties` (its arrival order).
///
/// [`abort`](Self::abort) breaks the barrier: waiting and later tasks get
/// [`BrokenBarrierError`] until [`reset`](Self::reset). A task cancelled while it waits leaves
/// the barrier without breaking it, as in asyncio.
///
/// ```
/// use std::sync::Arc;
/// use conductor::sync::Barrier;
/// # conductor::run(async {
/// let barrier = Arc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         conductor::spawn(async move { b.wait().await.unwrap() })
///     })
///     .collect();
/// let mut indices = Vec::new();
/// for t in tasks {
///     indices.push(t.await.unwrap());
/// }
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// # });
/// ```
pub struct Barrier {
    parties: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Filling,
    Draining,
    Resetting,
    Broken,
}

struct Inner {
    phase: Phase,
    /// Tasks inside the barrier: waiting while filling, not yet left while draining/resetting.
    count: usize,
    waiters: WaitQueue<()>,
}

impl Inner {
    /// asyncio's `notify_all`: every waiter re-checks the state.
    fn notify_all(&mut self, wakers: &mut WakeList) {
        self.waiters.drain_into(wakers);
    }

    /// asyncio's `_exit`: a task leaves; the last one out ends a drain or a reset.
    fn exit(&mut self, wakers: &mut WakeList) {
        self.count -= 1;
        if self.count == 0 {
            if matches!(self.phase, Phase::Resetting | Phase::Draining) {
                self.phase = Phase::Filling;
            }
            self.notify_all(wakers);
        }
    }
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    /// When `parties` is 0 (asyncio's `ValueError: parties must be > 0`).
    ///
    /// ```
    /// assert_eq!(conductor::sync::Barrier::new(2).parties(), 2);
    /// ```
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "Barrier::new: parties must be > 0");
        Barrier {
            parties,
            inner: Mutex::new(Inner {
                phase: Phase::Filling,
                count: 0,
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// Waits until `parties` tasks wait, then returns this task's index (`0..parties`, in
    /// arrival order; asyncio's `await barrier.wait()` and `async with barrier as index`).
    /// While the barrier drains the previous round, new arrivals wait for the next one.
    ///
    /// # Errors
    /// [`BrokenBarrierError`] when the barrier is broken ([`abort`](Self::abort)) or reset
    /// while this task waits.
    ///
    /// ```
    /// # conductor::run(async {
    /// let barrier = conductor::sync::Barrier::new(1);
    /// assert_eq!(barrier.wait().await, Ok(0)); // one party: passes at once
    /// # });
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            step: Step::Arriving,
            slot: None,
        }
    }

    /// Empties the barrier (asyncio's `reset()`, here not a coroutine: it takes no lock a task
    /// could hold). Tasks waiting now get [`BrokenBarrierError`]; the barrier fills again once
    /// they have left. A broken barrier is mended.
    ///
    /// ```
    /// let barrier = conductor::sync::Barrier::new(2);
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// ```
    pub fn reset(&self) {
        let mut wakers = WakeList::new();
        let mut inner = lock(&self.inner);
        if inner.count > 0 {
            inner.phase = Phase::Resetting;
        } else {
            inner.phase = Phase::Filling;
        }
        inner.notify_all(&mut wakers);
        drop(inner);
        wakers.wake_all();
    }

    /// Breaks the barrier (asyncio's `abort()`): waiting tasks, and tasks that call
    /// [`wait`](Self::wait) until the next [`reset`](Self::reset), get [`BrokenBarrierError`].
    ///
    /// ```
    /// # conductor::run(async {
    /// let barrier = conductor::sync::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// assert!(barrier.wait().await.is_err());
    /// # });
    /// ```
    pub fn abort(&self) {
        let mut wakers = WakeList::new();
        let mut inner = lock(&self.inner);
        inner.phase = Phase::Broken;
        inner.notify_all(&mut wakers);
        drop(inner);
        wakers.wake_all();
    }

    /// The number of tasks needed to pass (asyncio's `parties`).
    ///
    /// ```
    /// assert_eq!(conductor::sync::Barrier::new(5).parties(), 5);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// Tasks waiting for the barrier to fill (asyncio's `n_waiting`; 0 while draining).
    ///
    /// ```
    /// assert_eq!(conductor::sync::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        let inner = lock(&self.inner);
        match inner.phase {
            Phase::Filling => inner.count,
            _ => 0,
        }
    }

    /// Whether the barrier is broken (asyncio's `broken`).
    ///
    /// ```
    /// assert!(!conductor::sync::Barrier::new(2).broken());
    /// ```
    pub fn broken(&self) -> bool {
        lock(&self.inner).phase == Phase::Broken
    }

    /// [`broken`](Self::broken) under the Rust convention's name (asyncio's is `broken`).
    #[inline]
    pub fn is_broken(&self) -> bool {
        self.broken()
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = lock(&self.inner);
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("state", &inner.phase)
            .field("count", &inner.count)
            .finish()
    }
}

/// The future of [`Barrier::wait`].
///
/// ```
/// # conductor::run(async {
/// let barrier = conductor::sync::Barrier::new(1);
/// let wait: conductor::sync::BarrierWait<'_> = barrier.wait(); // nothing happens until awaited
/// assert_eq!(wait.await, Ok(0));
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    step: Step,
    slot: Option<usize>,
}

#[derive(Clone, Copy)]
enum Step {
    /// asyncio's `_block`: waiting to enter while the barrier drains or resets.
    Arriving,
    /// Inside, with this index, waiting for the barrier to fill.
    Inside(usize),
    Done,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrierError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let barrier = this.barrier;
        let mut wakers = WakeList::new();
        let mut inner = lock(&barrier.inner);
        if let Some(key) = this.slot.take() {
            inner.waiters.remove(key);
        }
        let out = match this.step {
            Step::Arriving => match inner.phase {
                Phase::Draining | Phase::Resetting => None,
                Phase::Broken => Some(Err(BrokenBarrierError)),
                Phase::Filling => {
                    let index = inner.count;
                    inner.count += 1;
                    if index + 1 == barrier.parties {
                        // The last arrival releases everyone, and leaves at once.
                        inner.phase = Phase::Draining;
                        inner.notify_all(&mut wakers);
                        inner.exit(&mut wakers);
                        Some(Ok(index))
                    } else {
                        this.step = Step::Inside(index);
                        None
                    }
                }
            },
            Step::Inside(index) => match inner.phase {
                Phase::Filling => None,
                Phase::Draining => {
                    inner.exit(&mut wakers);
                    Some(Ok(index))
                }
                Phase::Resetting | Phase::Broken => {
                    inner.exit(&mut wakers);
                    Some(Err(BrokenBarrierError))
                }
            },
            Step::Done => panic!("BarrierWait polled after it completed"),
        };
        match out {
            None => this.slot = Some(inner.waiters.push_back((), cx.waker())),
            Some(_) => this.step = Step::Done,
        }
        drop(inner);
        wakers.wake_all();
        out.map_or(Poll::Pending, Poll::Ready)
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if self.slot.is_none() && !matches!(self.step, Step::Inside(_)) {
            return;
        }
        let mut wakers = WakeList::new();
        let mut inner = lock(&self.barrier.inner);
        if let Some(key) = self.slot.take() {
            inner.waiters.remove(key);
        }
        if let Step::Inside(_) = self.step {
            // Cancelled inside: leave, as asyncio's `finally: self._count -= 1; self._exit()`.
            inner.exit(&mut wakers);
        }
        drop(inner);
        wakers.wake_all();
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait").finish_non_exhaustive()
    }
}

/// The barrier was broken by [`Barrier::abort`], or reset while this task waited (asyncio's
/// `BrokenBarrierError`).
///
/// ```
/// let barrier = conductor::sync::Barrier::new(2);
/// barrier.abort();
/// # conductor::run(async move {
/// assert_eq!(barrier.wait().await, Err(conductor::sync::BrokenBarrierError));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier was aborted or reset while waiting (call reset() to reuse it)")
    }
}

impl std::error::Error for BrokenBarrierError {}
