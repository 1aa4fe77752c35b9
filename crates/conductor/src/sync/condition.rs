//! `Condition`: asyncio's `Condition`, with the lock and the data it protects in one value.
//!
//! A waiter registers in the condition's queue *before* it releases the lock, so a notifier (who
//! must hold the lock) cannot miss it. `notify` unlinks the first `n` waiters; an unlinked waiter
//! then re-acquires the lock (queueing fairly behind the lock's other waiters) and returns its
//! guard. A waiter dropped after it was notified and before `wait` returned (not run yet, or
//! waiting for the lock again) passes its notification to the next waiter (asyncio 3.13).

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::mutex::{Mutex, MutexGuard};
use super::permits::{Acquire, TryAcquireError};
use super::wait_queue::{WaitQueue, WakeList};
use super::{const_fn, lock};
use crate::loom::sync::Mutex as StdMutex;

/// A condition variable for tasks (asyncio's `Condition`), which owns its lock and the value
/// the lock protects (`T = ()` for asyncio's plain condition).
///
/// [`acquire`](Self::acquire) gives a [`ConditionGuard`]; with it a task reads and writes the
/// value, [`wait`](ConditionGuard::wait)s for a notification (releasing the lock meanwhile and
/// getting it back before `wait` returns), or [`notify`](ConditionGuard::notify)s waiters.
/// asyncio's `RuntimeError` for waiting or notifying without the lock cannot happen: those are
/// methods of the guard.
///
/// Waiters are notified in the order they started waiting.
///
/// ```
/// use std::sync::Arc;
/// use conductor::sync::Condition;
/// # conductor::run(async {
/// let cond = Arc::new(Condition::new(Vec::<u32>::new()));
/// let c = cond.clone();
/// let consumer = conductor::spawn(async move {
///     let mut items = c.acquire().await.wait_for(|items| !items.is_empty()).await;
///     items.pop().unwrap()
/// });
/// conductor::yield_now().await;
/// let mut items = cond.acquire().await;
/// items.push(7);
/// items.notify(1);
/// drop(items);
/// assert_eq!(consumer.await.unwrap(), 7);
/// # });
/// ```
///
/// # Cancellation
/// asyncio's `wait()` re-acquires the lock even when cancelled, so that the `async with` block
/// around it can release it. Here [`wait`](ConditionGuard::wait) takes the guard by value and
/// gives it back when it returns. A task cancelled inside `wait` is dropped there, and so is the
/// guard, so it can no more touch the value than release a lock it does not hold: nothing needs
/// re-acquiring. Under [`catch_cancel`](crate::catch_cancel) the same holds: the `Err(Cancelled)`
/// comes without a guard, and the cleanup code calls `acquire` again if it needs the value.
pub struct Condition<T: ?Sized = ()> {
    waiters: StdMutex<WaitQueue<()>>,
    mutex: Mutex<T>,
}

impl<T> Condition<T> {
    const_fn! {
        /// A condition protecting `value` (`Condition::new(())`, or `Condition::default()`, is
        /// asyncio's `Condition()`).
        ///
        /// ```
        /// let cond = conductor::sync::Condition::new(0u8);
        /// assert!(!cond.locked());
        /// ```
        #[cfg_attr(feature = "tracing", track_caller)]
        pub fn new(value: T) -> Condition<T> {
            Condition {
                waiters: StdMutex::new(WaitQueue::new()),
                mutex: Mutex::typed(value, "Condition"),
            }
        }
    }

    /// The value, taking the condition apart.
    ///
    /// ```
    /// assert_eq!(conductor::sync::Condition::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.mutex.into_inner()
    }
}

impl<T: ?Sized> Condition<T> {
    /// Waits for the lock (asyncio's `async with cond:`); the guard releases it when dropped.
    /// Fair and cancel-safe, as [`Lock::acquire`](super::Lock::acquire).
    ///
    /// ```
    /// # conductor::run(async {
    /// let cond = conductor::sync::Condition::new(1);
    /// *cond.acquire().await += 1;
    /// assert_eq!(*cond.acquire().await, 2);
    /// # });
    /// ```
    pub async fn acquire(&self) -> ConditionGuard<'_, T> {
        ConditionGuard {
            guard: self.mutex.lock().await,
            cond: self,
        }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// # Errors
    /// [`TryAcquireError`] when the lock is held or tasks wait for it.
    ///
    /// ```
    /// let cond = conductor::sync::Condition::new(());
    /// let g = cond.try_acquire().unwrap();
    /// assert!(cond.try_acquire().is_err());
    /// # drop(g);
    /// ```
    pub fn try_acquire(&self) -> Result<ConditionGuard<'_, T>, TryAcquireError> {
        Ok(ConditionGuard {
            guard: self.mutex.try_lock()?,
            cond: self,
        })
    }

    /// Whether the lock is held (asyncio's `locked()`).
    ///
    /// ```
    /// let cond = conductor::sync::Condition::new(());
    /// let _g = cond.try_acquire().unwrap();
    /// assert!(cond.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.mutex.locked()
    }

    /// [`locked`](Self::locked) under the Rust convention's name (asyncio's is `locked`).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.locked()
    }

    /// Unlinks up to `n` waiters, in order, and wakes them; returns how many.
    fn notify_waiters(&self, n: usize) -> usize {
        let mut wakers = WakeList::new();
        let mut q = lock(&self.waiters);
        let mut woken = 0;
        while woken < n && !q.is_empty() {
            wakers.push_opt(q.pop_front());
            woken += 1;
        }
        drop(q);
        wakers.wake_all();
        woken
    }
}

impl<T: Default> Default for Condition<T> {
    #[cfg_attr(feature = "tracing", track_caller)]
    fn default() -> Self {
        Condition::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.locked())
            .field("waiters", &lock(&self.waiters).len())
            .finish()
    }
}

/// The lock of a [`Condition`], held; gives access to the value, and waits and notifies.
///
/// ```
/// # conductor::run(async {
/// let cond = conductor::sync::Condition::new(String::new());
/// let mut text = cond.acquire().await; // a ConditionGuard
/// text.push_str("hi"); // the protected value
/// assert_eq!(text.notify_all(), 0);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a, T: ?Sized> {
    guard: MutexGuard<'a, T>,
    cond: &'a Condition<T>,
}

impl<'a, T: ?Sized> ConditionGuard<'a, T> {
    /// Releases the lock, waits to be notified, re-acquires the lock and returns the guard
    /// again (asyncio's `await cond.wait()`). See [`Condition`] for what cancellation does.
    ///
    /// ```
    /// use std::sync::Arc;
    /// # conductor::run(async {
    /// let cond = Arc::new(conductor::sync::Condition::new(false));
    /// let c = cond.clone();
    /// let waiter = conductor::spawn(async move {
    ///     let mut ready = c.acquire().await;
    ///     while !*ready {
    ///         ready = ready.wait().await;
    ///     }
    /// });
    /// conductor::yield_now().await;
    /// let mut ready = cond.acquire().await;
    /// *ready = true;
    /// ready.notify_all();
    /// drop(ready);
    /// waiter.await.unwrap();
    /// # });
    /// ```
    pub fn wait(self) -> ConditionWait<'a, T> {
        ConditionWait {
            cond: self.cond,
            state: State::Start(self.guard),
            #[cfg(feature = "tracing")]
            op: self
                .cond
                .mutex
                .raw()
                .permits()
                .console_resource()
                .map(|r| r.boxed_op("Condition::wait")),
        }
    }

    /// Waits until `predicate` holds for the value, checking it first and after each
    /// notification, with the lock held (asyncio's `wait_for`). Returns the guard.
    ///
    /// ```
    /// use std::sync::Arc;
    /// # conductor::run(async {
    /// let cond = Arc::new(conductor::sync::Condition::new(0));
    /// let c = cond.clone();
    /// let waiter = conductor::spawn(async move {
    ///     let n = c.acquire().await.wait_for(|n| *n >= 2).await;
    ///     *n
    /// });
    /// for _ in 0..2 {
    ///     conductor::yield_now().await;
    ///     let mut n = cond.acquire().await;
    ///     *n += 1;
    ///     n.notify_all();
    /// }
    /// assert_eq!(waiter.await.unwrap(), 2);
    /// # });
    /// ```
    pub async fn wait_for(
        self,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> ConditionGuard<'a, T> {
        let mut guard = self;
        while !predicate(&mut guard) {
            guard = guard.wait().await;
        }
        guard
    }

    /// Wakes up to `n` waiting tasks, the longest-waiting first (asyncio's `notify(n)`); returns
    /// how many. They run once this guard is released, as each must re-acquire the lock.
    ///
    /// ```
    /// # conductor::run(async {
    /// let cond = conductor::sync::Condition::new(());
    /// assert_eq!(cond.acquire().await.notify(1), 0, "nobody waits");
    /// # });
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        self.cond.notify_waiters(n)
    }

    /// Wakes every waiting task (asyncio's `notify_all()`); returns how many.
    ///
    /// ```
    /// # conductor::run(async {
    /// let cond = conductor::sync::Condition::new(());
    /// assert_eq!(cond.acquire().await.notify_all(), 0);
    /// # });
    /// ```
    pub fn notify_all(&self) -> usize {
        self.cond.notify_waiters(usize::MAX)
    }

    /// Releases the lock now; the same as dropping the guard.
    ///
    /// ```
    /// # conductor::run(async {
    /// let cond = conductor::sync::Condition::new(());
    /// cond.acquire().await.release();
    /// assert!(!cond.locked());
    /// # });
    /// ```
    pub fn release(self) {}
}

impl<T: ?Sized> Deref for ConditionGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for ConditionGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for ConditionGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.guard, f)
    }
}

/// The future of [`ConditionGuard::wait`]; resolves to the guard.
///
/// ```
/// use std::sync::Arc;
/// # conductor::run(async {
/// let cond = Arc::new(conductor::sync::Condition::new(0));
/// let c = cond.clone();
/// let waiter = conductor::spawn(async move {
///     let guard = c.acquire().await;
///     let wait: conductor::sync::ConditionWait<'_, i32> = guard.wait();
///     let n = wait.await; // the guard again, with the lock held
///     *n
/// });
/// conductor::yield_now().await;
/// let mut n = cond.acquire().await;
/// *n = 5;
/// n.notify(1);
/// drop(n);
/// assert_eq!(waiter.await.unwrap(), 5);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct ConditionWait<'a, T: ?Sized> {
    cond: &'a Condition<T>,
    state: State<'a, T>,
    /// The wait as tokio-console shows it.
    #[cfg(feature = "tracing")]
    op: Option<Box<crate::console::AsyncOp>>,
}

enum State<'a, T: ?Sized> {
    /// Not polled yet: still holding the lock.
    Start(MutexGuard<'a, T>),
    /// Registered in the condition's queue under this key; the lock is released.
    Waiting(usize),
    /// Notified: waiting for the lock again.
    Reacquiring(Acquire<'a>),
    Done,
}

impl<'a, T: ?Sized> Future for ConditionWait<'a, T> {
    type Output = ConditionGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every field is `Unpin` (the acquire future keeps its place by key, not by address).
        let this = &mut *self;
        #[cfg(feature = "tracing")]
        if let Some(op) = this.op.take() {
            // Inside the op's spans; the nested call finds no op and polls.
            let r = op.poll("poll", || Pin::new(&mut *this).poll(cx));
            this.op = Some(op);
            return r;
        }
        let cond = this.cond;
        loop {
            match &mut this.state {
                State::Start(_) => {
                    // Register before releasing the lock, so no notification can be missed.
                    let key = lock(&cond.waiters).push_back((), cx.waker());
                    // Dropping the guard releases the lock.
                    this.state = State::Waiting(key);
                    return Poll::Pending;
                }
                State::Waiting(key) => {
                    let key = *key;
                    let mut q = lock(&cond.waiters);
                    if q.is_linked(key) {
                        q.set_waker(key, cx.waker());
                        return Poll::Pending;
                    }
                    q.remove(key);
                    drop(q);
                    this.state = State::Reacquiring(cond.mutex.raw().permits().acquire(1));
                }
                State::Reacquiring(acquire) => {
                    ready!(Pin::new(acquire).poll(cx));
                    this.state = State::Done;
                    return Poll::Ready(ConditionGuard {
                        guard: MutexGuard::acquired(&cond.mutex),
                        cond,
                    });
                }
                State::Done => panic!("ConditionWait polled after it completed"),
            }
        }
    }
}

impl<T: ?Sized> Drop for ConditionWait<'_, T> {
    fn drop(&mut self) {
        // A waiter that was notified but goes away before `wait` returned its guard passes the
        // notification to the next waiter, so `notify(1)` still wakes someone who will act on
        // it (asyncio 3.13, gh-112202). That is every state after the notification: chosen but
        // not run yet (`Waiting`, unlinked), and waiting for the lock again (`Reacquiring`).
        let notified = match std::mem::replace(&mut self.state, State::Done) {
            State::Waiting(key) => {
                let (linked, ()) = lock(&self.cond.waiters).remove(key);
                !linked
            }
            State::Reacquiring(acquire) => {
                // First the lock: a lock already handed to this waiter goes to the lock's next
                // waiter through the acquire future.
                drop(acquire);
                true
            }
            // `Start` releases the lock through its guard; `Done` consumed its notification.
            State::Start(_) | State::Done => false,
        };
        if notified {
            self.cond.notify_waiters(1);
        }
    }
}

impl<T: ?Sized> fmt::Debug for ConditionWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Start(_) => "start",
            State::Waiting(_) => "waiting",
            State::Reacquiring(_) => "reacquiring",
            State::Done => "done",
        };
        f.debug_struct("ConditionWait")
            .field("state", &state)
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;
    use crate::sync::block_on;
    use loom::thread;

    #[test]
    fn a_notification_sent_after_the_flag_is_set_reaches_the_waiter() {
        loom::model(|| {
            let cond = Arc::new(Condition::new(false));
            let c2 = cond.clone();
            let notifier = thread::spawn(move || {
                let mut ready = block_on(c2.acquire());
                *ready = true;
                ready.notify_all();
            });
            // Either the flag is already set, or the waiter is registered before the notifier
            // can take the lock: a missed notification deadlocks the model.
            let ready = block_on(async { cond.acquire().await.wait_for(|r| *r).await });
            assert!(*ready);
            drop(ready);
            notifier.join().unwrap();
        });
    }
}
