//! Multi-producer, single-consumer channels, bounded ([`channel`]) and unbounded
//! ([`unbounded_channel`]).
//!
//! A channel is a [`Queue`](super::Queue) with ownership-based closing: the queue is shut down
//! (without `immediate`) when the last sender is dropped, so the receiver drains what is left and
//! then gets `None`; and shut down with `immediate` when the receiver is dropped, so the buffered
//! values are dropped and every send fails, giving its value back. [`Receiver::close`] stops the
//! sends but lets the receiver drain. Senders waiting for room are woken in order, as the queue's
//! putters are; the receiver is a `Stream`.

mod bounded;
mod receiver;
mod unbounded;

use std::fmt;

pub use bounded::Sender;
pub use receiver::Receiver;
pub use unbounded::UnboundedSender;

use super::{Event, Queue};
use crate::loom::sync::Arc;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

/// The receiver of an [`unbounded_channel`]: the same type as a bounded channel's.
///
/// ```
/// use conductor::sync::mpsc::{unbounded_channel, UnboundedReceiver};
/// let (tx, rx) = unbounded_channel::<u8>();
/// let mut rx: UnboundedReceiver<u8> = rx;
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub type UnboundedReceiver<T> = Receiver<T>;

/// A channel that buffers up to `buffer` values: [`Sender::send`] waits while it is full.
///
/// # Panics
/// When `buffer` is 0.
///
/// ```
/// use conductor::sync::mpsc;
/// # conductor::run(async {
/// let (tx, mut rx) = mpsc::channel(8);
/// for id in 0..3 {
///     let tx = tx.clone();
///     conductor::spawn(async move { tx.send(id).await.unwrap() }).detach();
/// }
/// drop(tx); // the channel closes when the spawned senders are done
/// let mut got = Vec::new();
/// while let Some(id) = rx.recv().await {
///     got.push(id);
/// }
/// got.sort();
/// assert_eq!(got, [0, 1, 2]);
/// # });
/// ```
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        buffer > 0,
        "mpsc::channel: the buffer must hold at least one value"
    );
    let chan = Chan::new(buffer);
    (Sender::new(chan.clone()), Receiver::new(chan))
}

/// A channel without a limit: [`UnboundedSender::send`] never waits.
///
/// ```
/// use conductor::sync::mpsc;
/// # conductor::run(async {
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// tx.send("a").unwrap();
/// tx.send("b").unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some("a"));
/// assert_eq!(rx.recv().await, Some("b"));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, Receiver<T>) {
    let chan = Chan::new(0);
    (UnboundedSender::new(chan.clone()), Receiver::new(chan))
}

/// What the senders and the receiver share.
struct Chan<T> {
    queue: Queue<T>,
    senders: AtomicUsize,
    /// Set when the receiver is closed or dropped (for `Sender::closed`).
    rx_closed: Event,
}

impl<T> Chan<T> {
    fn new(maxsize: usize) -> Arc<Self> {
        Arc::new(Chan {
            queue: Queue::new(maxsize),
            senders: AtomicUsize::new(1),
            rx_closed: Event::new(),
        })
    }

    fn add_sender(&self) {
        self.senders.fetch_add(1, Relaxed);
    }

    fn drop_sender(&self) {
        // AcqRel: the last sender's drop comes after every other sender's sends.
        if self.senders.fetch_sub(1, AcqRel) == 1 {
            self.queue.shutdown(false);
        }
    }

    fn close_rx(&self, drop_buffered: bool) {
        self.queue.shutdown(drop_buffered);
        self.rx_closed.set();
    }
}

/// The receiver was dropped or closed; the value comes back.
///
/// ```
/// let (tx, rx) = conductor::sync::mpsc::unbounded_channel();
/// drop(rx);
/// let conductor::sync::mpsc::SendError(back) = tx.send('v').unwrap_err();
/// assert_eq!(back, 'v');
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the channel's receiver was dropped or closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Sender::try_send`] did not send; the value comes back.
///
/// ```
/// use conductor::sync::mpsc::{channel, TrySendError};
/// let (tx, rx) = channel(1);
/// tx.try_send(1).unwrap();
/// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
/// drop(rx);
/// assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The buffer is full.
    Full(T),
    /// The receiver was dropped or closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::mpsc::channel(1);
    /// drop(rx);
    /// assert_eq!(tx.try_send(5).unwrap_err().into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(t) | TrySendError::Closed(t) => t,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("the channel is full (await send() to wait)"),
            TrySendError::Closed(_) => f.write_str("the channel's receiver was dropped or closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use conductor::sync::mpsc::{unbounded_channel, TryRecvError};
/// let (tx, mut rx) = unbounded_channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value is buffered now.
    Empty,
    /// No value is buffered, and none will come: every sender was dropped, or the receiver
    /// was closed.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the channel is empty"),
            TryRecvError::Disconnected => f.write_str("the channel is empty and closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}
