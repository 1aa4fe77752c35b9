//! A channel that holds one value, which receivers watch for changes.
//!
//! The value is behind a reader-writer lock; the state word holds a version, bumped by every
//! send while the write lock is held (so a reader sees the value and its version together), and
//! the bits `CLOSED` (the sender is gone) and `WAITERS`. A receiver remembers the version it saw
//! last; it waits in a FIFO, announcing itself in `WAITERS` with a compare-exchange that checks
//! the version has not moved, so a send either sees it or it sees the send. A send with nobody
//! waiting is a write lock and one `fetch_add`; `has_changed` is one load.

use std::fmt;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

pub use super::error::{RecvError, SendError};
use super::lock;
use super::wait_queue::{WaitQueue, WakeList};
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::loom::sync::{Arc, Mutex, RwLock};
#[cfg(loom)]
use loom::sync::RwLockReadGuard;
#[cfg(not(loom))]
use std::sync::RwLockReadGuard;

const CLOSED: usize = 1;
const WAITERS: usize = 2;
const VERSION: usize = 4;

/// A channel holding `init`: the [`Sender`] replaces the value, and each [`Receiver`] reads the
/// latest and can wait for the next change.
///
/// ```
/// use conductor::sync::watch;
/// # conductor::run(async {
/// let (tx, mut rx) = watch::channel("starting");
/// conductor::spawn(async move {
///     tx.send("ready").unwrap();
/// })
/// .detach();
/// rx.changed().await.unwrap();
/// assert_eq!(*rx.borrow_and_update(), "ready");
/// # });
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        waiters: Mutex::new(Waiters {
            rx: WaitQueue::new(),
            tx: WaitQueue::new(),
            receivers: 1,
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            seen: 0,
            slot: None,
        },
    )
}

struct Shared<T> {
    value: RwLock<T>,
    state: AtomicUsize,
    waiters: Mutex<Waiters>,
}

struct Waiters {
    /// Receivers waiting for a change.
    rx: WaitQueue<()>,
    /// The sender waiting in `closed`.
    tx: WaitQueue<()>,
    receivers: usize,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cold]
    fn wake_receivers(&self) {
        let mut wakers = WakeList::new();
        let mut w = lock(&self.waiters);
        w.rx.drain_into(&mut wakers);
        self.state.fetch_and(!WAITERS, Release);
        drop(w);
        wakers.wake_all();
    }
}

/// Replaces the value of a [`channel`]; dropping it closes the channel.
///
/// ```
/// let (tx, rx) = conductor::sync::watch::channel("v1");
/// tx.send("v2").unwrap();
/// assert_eq!(*rx.borrow(), "v2");
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Replaces the value and notifies the receivers.
    ///
    /// # Errors
    /// [`SendError`], with the value (which is not stored), when there is no receiver.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert_eq!(*rx.borrow(), 1);
    /// drop(rx);
    /// assert!(tx.send(2).is_err());
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value whether or not anyone receives, and returns the old one.
    ///
    /// ```
    /// let (tx, _rx) = conductor::sync::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut value = Some(value);
        self.send_modify(|v| std::mem::replace(v, value.take().expect("called once")))
    }

    /// Changes the value in place and notifies the receivers; returns what `modify` returns.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify<R>(&self, modify: impl FnOnce(&mut T) -> R) -> R {
        let mut value = self
            .shared
            .value
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let out = modify(&mut value);
        // Bumped under the write lock: a reader holding the read lock sees a value and the
        // version that goes with it.
        let prev = self.shared.state.fetch_add(VERSION, AcqRel);
        drop(value);
        if prev & WAITERS != 0 {
            self.shared.wake_receivers();
        }
        out
    }

    /// The current value (a read lock: do not hold it across an `.await`).
    ///
    /// ```
    /// let (tx, _rx) = conductor::sync::watch::channel('a');
    /// assert_eq!(*tx.borrow(), 'a');
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// A new receiver; the current value counts as seen by it.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::watch::channel(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        lock(&self.shared.waiters).receivers += 1;
        Receiver {
            seen: self.shared.state.load(Acquire) & !(CLOSED | WAITERS),
            shared: self.shared.clone(),
            slot: None,
        }
    }

    /// How many receivers there are.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::watch::channel(0);
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.waiters).receivers
    }

    /// Whether every receiver was dropped.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::watch::channel(0);
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is dropped.
    ///
    /// ```
    /// # conductor::run(async {
    /// let (tx, rx) = conductor::sync::watch::channel(0);
    /// conductor::spawn(async move { drop(rx) }).detach();
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            slot: None,
        }
        .await
    }
}

/// The future of [`Sender::closed`].
struct Closed<'a, T> {
    shared: &'a Shared<T>,
    slot: Option<usize>,
}

impl<T> std::future::Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut w = lock(&this.shared.waiters);
        if let Some(key) = this.slot.take() {
            w.tx.remove(key);
        }
        if w.receivers == 0 {
            return Poll::Ready(());
        }
        this.slot = Some(w.tx.push_back((), cx.waker()));
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.slot.take() {
            lock(&self.shared.waiters).tx.remove(key);
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let prev = self.shared.state.fetch_or(CLOSED, AcqRel);
        if prev & WAITERS != 0 {
            self.shared.wake_receivers();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("value", &*self.borrow())
            .finish()
    }
}

/// Reads the value of a [`channel`] and waits for changes; clone it for more receivers. Also a
/// `Stream` that yields the value after each change it sees, and ends when the sender is
/// dropped.
///
/// ```
/// # conductor::run(async {
/// let (tx, mut rx) = conductor::sync::watch::channel(0);
/// conductor::spawn(async move { tx.send(1).unwrap() }).detach();
/// rx.changed().await.unwrap();
/// assert_eq!(*rx.borrow_and_update(), 1);
/// # });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version seen last.
    seen: usize,
    slot: Option<usize>,
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen (a read lock: do not hold it across an
    /// `.await`).
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// The current value, marking it seen.
    ///
    /// ```
    /// let (tx, mut rx) = conductor::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        // The version cannot move while we hold the read lock.
        self.seen = self.shared.state.load(Acquire) & !(CLOSED | WAITERS);
        Ref { guard }
    }

    /// Whether a value was sent since this receiver last marked one seen.
    ///
    /// # Errors
    /// [`RecvError`] when the sender was dropped (and nothing new is there).
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::watch::channel(1);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let s = self.shared.state.load(Acquire);
        let changed = s & !(CLOSED | WAITERS) != self.seen;
        if !changed && s & CLOSED != 0 {
            return Err(RecvError);
        }
        Ok(changed)
    }

    /// Waits until a value is sent that this receiver has not seen, and marks it seen. Returns
    /// at once if one already was. Cancel-safe.
    ///
    /// # Errors
    /// [`RecvError`] when the sender was dropped and no unseen value is left.
    ///
    /// ```
    /// # conductor::run(async {
    /// let (tx, mut rx) = conductor::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.changed().await.unwrap();
    /// drop(tx);
    /// assert!(rx.changed().await.is_err());
    /// # });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        std::future::poll_fn(|cx| self.poll_changed(cx)).await
    }

    fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        if self.slot.is_none() {
            ready!(crate::context::poll_budget(cx));
        }
        let mut w = lock(&self.shared.waiters);
        if let Some(key) = self.slot.take() {
            w.rx.remove(key);
        }
        let mut s = self.shared.state.load(Acquire);
        loop {
            let version = s & !(CLOSED | WAITERS);
            if version != self.seen {
                self.seen = version;
                return Poll::Ready(Ok(()));
            }
            if s & CLOSED != 0 {
                return Poll::Ready(Err(RecvError));
            }
            if s & WAITERS != 0 {
                break;
            }
            match self
                .shared
                .state
                .compare_exchange(s, s | WAITERS, AcqRel, Acquire)
            {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        self.slot = Some(w.rx.push_back((), cx.waker()));
        Poll::Pending
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        lock(&self.shared.waiters).receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
            slot: None,
        }
    }
}

impl<T: Clone> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        match ready!(this.poll_changed(cx)) {
            Ok(()) => Poll::Ready(Some(this.borrow_and_update().clone())),
            Err(RecvError) => Poll::Ready(None),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        let mut w = lock(&self.shared.waiters);
        if let Some(key) = self.slot.take() {
            w.rx.remove(key);
        }
        w.receivers -= 1;
        if w.receivers == 0 {
            w.tx.drain_into(&mut wakers);
        }
        drop(w);
        wakers.wake_all();
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("value", &*self.borrow())
            .finish()
    }
}

/// A read lock on a watch channel's value.
///
/// ```
/// let (tx, rx) = conductor::sync::watch::channel(String::from("hello"));
/// let value: conductor::sync::watch::Ref<'_, String> = rx.borrow();
/// assert_eq!(value.len(), 5);
/// drop(value); // release the read lock before sending
/// tx.send(String::new()).unwrap();
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::block_on;
    use loom::thread;

    #[test]
    fn a_send_racing_changed_is_never_missed() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let sender = thread::spawn(move || {
                tx.send(1).unwrap();
                tx // keep the channel open until joined
            });
            block_on(rx.changed()).unwrap();
            assert_eq!(*rx.borrow_and_update(), 1);
            drop(sender.join().unwrap());
        });
    }

    #[test]
    fn dropping_the_sender_wakes_a_waiting_receiver() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let sender = thread::spawn(move || drop(tx));
            assert_eq!(block_on(rx.changed()), Err(RecvError));
            sender.join().unwrap();
        });
    }
}
