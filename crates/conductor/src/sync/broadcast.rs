//! A multi-producer, multi-consumer channel where every receiver sees every value.
//!
//! The last `capacity` values are kept in a ring, each numbered by its position in the stream
//! of sent values. A receiver keeps the position of the next value it wants: behind the ring, it
//! lagged and skips ahead (reporting how many it missed); inside, it clones the value; past the
//! end, it waits. A send never waits: it overwrites the oldest value. All of it is under one std
//! mutex, held for a few instructions (and a `clone`).

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

pub use super::error::SendError;

use super::lock;
use super::wait_queue::{WaitQueue, WakeList};
use crate::loom::sync::{Arc, Mutex};

/// A channel whose receivers each get a clone of every value sent after they subscribed. The
/// `capacity` most recent values are kept for receivers that are behind; a receiver further
/// behind gets [`RecvError::Lagged`] and resumes at the oldest value kept.
///
/// # Panics
/// When `capacity` is 0.
///
/// ```
/// use conductor::sync::broadcast;
/// # conductor::run(async {
/// let (tx, mut rx1) = broadcast::channel(16);
/// let mut rx2 = tx.subscribe();
/// tx.send("hello").unwrap();
/// assert_eq!(rx1.recv().await, Ok("hello"));
/// assert_eq!(rx2.recv().await, Ok("hello"));
/// drop(tx);
/// assert_eq!(rx1.recv().await, Err(broadcast::RecvError::Closed));
/// # });
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast::channel: capacity must be at least 1"
    );
    let shared = Arc::new(Shared {
        capacity,
        inner: Mutex::new(Inner {
            ring: VecDeque::with_capacity(capacity),
            head: 0,
            senders: 1,
            receivers: 1,
            waiters: WaitQueue::new(),
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            next: 0,
            slot: None,
        },
    )
}

struct Shared<T> {
    capacity: usize,
    inner: Mutex<Inner<T>>,
}

impl<T> Receiver<T> {
    /// A new receiver of `shared` that gets the values sent from now on.
    fn from_tail(shared: &Arc<Shared<T>>) -> Self {
        let mut inner = lock(&shared.inner);
        inner.receivers += 1;
        Receiver {
            shared: shared.clone(),
            next: inner.tail(),
            slot: None,
        }
    }
}

struct Inner<T> {
    ring: VecDeque<T>,
    /// The position of `ring[0]` in the stream of sent values.
    head: u64,
    senders: usize,
    receivers: usize,
    waiters: WaitQueue<()>,
}

impl<T> Inner<T> {
    fn tail(&self) -> u64 {
        self.head + self.ring.len() as u64
    }
}

/// Sends values to every [`Receiver`]; clone it for more producers.
///
/// ```
/// let (tx, mut rx) = conductor::sync::broadcast::channel(4);
/// let tx2 = tx.clone();
/// tx.send(1).unwrap();
/// tx2.send(2).unwrap();
/// assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(1), Ok(2)));
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Clone> Sender<T> {
    /// Sends `value` to every receiver; returns how many there are. Never waits: the oldest
    /// value is dropped when the ring is full.
    ///
    /// # Errors
    /// [`SendError`], with the value, when there is no receiver.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::broadcast::channel(4);
    /// assert_eq!(tx.send(1), Ok(1));
    /// drop(rx);
    /// assert!(tx.send(2).is_err());
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = WakeList::new();
        let mut inner = lock(&self.shared.inner);
        if inner.receivers == 0 {
            return Err(SendError(value));
        }
        inner.ring.push_back(value);
        let overwritten = if inner.ring.len() > self.shared.capacity {
            inner.head += 1;
            inner.ring.pop_front()
        } else {
            None
        };
        inner.waiters.drain_into(&mut wakers);
        let receivers = inner.receivers;
        drop(inner);
        drop(overwritten);
        wakers.wake_all();
        Ok(receivers)
    }

    /// A new receiver, which gets the values sent from now on.
    ///
    /// ```
    /// let (tx, _rx) = conductor::sync::broadcast::channel::<u8>(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::from_tail(&self.shared)
    }
}

impl<T> Sender<T> {
    /// How many receivers there are.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::broadcast::channel::<u8>(1);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.inner).receivers
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared.inner).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        let mut inner = lock(&self.shared.inner);
        inner.senders -= 1;
        if inner.senders == 0 {
            // Closed: waiting receivers drain what is left, then get `Closed`.
            inner.waiters.drain_into(&mut wakers);
        }
        drop(inner);
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

/// Receives every value sent after it subscribed; also a `Stream` of them (with lag reports)
/// that ends when every sender is dropped.
///
/// ```
/// # conductor::run(async {
/// let (tx, mut rx) = conductor::sync::broadcast::channel(4);
/// conductor::spawn(async move { tx.send("news").unwrap() }).detach();
/// assert_eq!(rx.recv().await, Ok("news"));
/// # });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position of the next value to receive.
    next: u64,
    slot: Option<usize>,
}

impl<T: Clone> Receiver<T> {
    /// The next value, waiting for one. Cancel-safe: a cancelled `recv` skips nothing.
    ///
    /// # Errors
    /// [`RecvError::Lagged`] with the number of values missed, when this receiver fell more than
    /// `capacity` values behind (the next call returns the oldest value kept);
    /// [`RecvError::Closed`] when every sender was dropped and every value was received.
    ///
    /// ```
    /// use conductor::sync::broadcast::{channel, RecvError};
    /// # conductor::run(async {
    /// let (tx, mut rx) = channel(2);
    /// for i in 0..5 {
    ///     tx.send(i).unwrap();
    /// }
    /// assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
    /// assert_eq!(rx.recv().await, Ok(3));
    /// assert_eq!(rx.recv().await, Ok(4));
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        if self.slot.is_none() {
            ready!(crate::context::poll_budget(cx));
        }
        let mut inner = lock(&self.shared.inner);
        if let Some(key) = self.slot.take() {
            inner.waiters.remove(key);
        }
        match next_locked(&mut self.next, &inner) {
            Err(TryRecvError::Empty) => {
                self.slot = Some(inner.waiters.push_back((), cx.waker()));
                Poll::Pending
            }
            Err(TryRecvError::Lagged(n)) => Poll::Ready(Err(RecvError::Lagged(n))),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError::Closed)),
            Ok(v) => Poll::Ready(Ok(v)),
        }
    }

    /// The next value if one is there.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] when nothing new was sent, and `Lagged`/`Closed` as for
    /// [`recv`](Self::recv).
    ///
    /// ```
    /// use conductor::sync::broadcast::{channel, TryRecvError};
    /// let (tx, mut rx) = channel(4);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let inner = lock(&self.shared.inner);
        next_locked(&mut self.next, &inner)
    }

    /// A new receiver of the same channel, starting with the values sent from now on.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::broadcast::channel::<u8>(4);
    /// let _rx2 = rx.resubscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        Receiver::from_tail(&self.shared)
    }

    /// How many values this receiver has not received yet (at most the capacity).
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let inner = lock(&self.shared.inner);
        (inner.tail() - self.next.max(inner.head)) as usize
    }

    /// Whether this receiver has received every value.
    ///
    /// ```
    /// let (_tx, rx) = conductor::sync::broadcast::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value at position `next`, moving `next` on (or to the oldest value kept, if it lagged).
fn next_locked<T: Clone>(next: &mut u64, inner: &Inner<T>) -> Result<T, TryRecvError> {
    if *next < inner.head {
        let missed = inner.head - *next;
        *next = inner.head;
        return Err(TryRecvError::Lagged(missed));
    }
    if *next < inner.tail() {
        let value = inner.ring[(*next - inner.head) as usize].clone();
        *next += 1;
        return Ok(value);
    }
    if inner.senders == 0 {
        return Err(TryRecvError::Closed);
    }
    Err(TryRecvError::Empty)
}

impl<T: Clone> Stream for Receiver<T> {
    type Item = Result<T, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(match ready!(self.get_mut().poll_recv(cx)) {
            Ok(v) => Some(Ok(v)),
            Err(RecvError::Lagged(n)) => Some(Err(Lagged(n))),
            Err(RecvError::Closed) => None,
        })
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut inner = lock(&self.shared.inner);
        if let Some(key) = self.slot.take() {
            inner.waiters.remove(key);
        }
        inner.receivers -= 1;
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish()
    }
}

/// Why [`Receiver::recv`] returned no value.
///
/// ```
/// use conductor::sync::broadcast::{channel, RecvError};
/// # conductor::run(async {
/// let (tx, mut rx) = channel::<u8>(1);
/// drop(tx);
/// assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender was dropped, and every value kept was received.
    Closed,
    /// The receiver fell behind and missed this many values; it resumes at the oldest value
    /// still kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("the broadcast channel is closed"),
            RecvError::Lagged(n) => write!(f, "the receiver lagged and missed {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use conductor::sync::broadcast::{channel, TryRecvError};
/// let (tx, mut rx) = channel(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
/// assert_eq!(rx.try_recv(), Ok(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No new value was sent.
    Empty,
    /// Every sender was dropped, and every value kept was received.
    Closed,
    /// The receiver missed this many values (see [`RecvError::Lagged`]).
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no new value in the broadcast channel"),
            TryRecvError::Closed => f.write_str("the broadcast channel is closed"),
            TryRecvError::Lagged(n) => write!(f, "the receiver lagged and missed {n} values"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The item of a [`Receiver`]'s stream when it fell behind: how many values it missed.
///
/// ```
/// use conductor::sync::broadcast::{channel, Lagged};
/// use futures_core::Stream;
/// # conductor::run(async {
/// let (tx, rx) = channel(1);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// drop(tx);
/// let mut stream = std::pin::pin!(rx);
/// let mut got = Vec::new();
/// while let Some(item) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
///     got.push(item);
/// }
/// assert_eq!(got, [Err(Lagged(1)), Ok(2)]);
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lagged(pub u64);

impl fmt::Display for Lagged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the receiver lagged and missed {} values", self.0)
    }
}

impl std::error::Error for Lagged {}
