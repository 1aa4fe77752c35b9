//! The sender of a bounded channel.

use std::fmt;

use super::{Chan, SendError, TrySendError};
use crate::loom::sync::Arc;
use crate::sync::{PutError, QueueShutDown};

/// Sends values into a [`channel`](super::channel); clone it for more producers. The channel
/// closes when the last sender is dropped.
///
/// ```
/// # conductor::run(async {
/// let (tx, mut rx) = conductor::sync::mpsc::channel(1);
/// let tx2 = tx.clone();
/// conductor::spawn(async move { tx2.send("from a task").await.unwrap() }).detach();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some("from a task"));
/// assert_eq!(rx.recv().await, None); // every sender is gone
/// # });
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Self {
        Sender { chan }
    }

    /// Sends `value`, waiting while the buffer is full. Cancel-safe: a send cancelled while it
    /// waits drops its value, unsent, and passes a free slot it was woken for to the next sender.
    ///
    /// # Errors
    /// [`SendError`], with the value, when the receiver was dropped or closed.
    ///
    /// ```
    /// # conductor::run(async {
    /// let (tx, mut rx) = conductor::sync::mpsc::channel(1);
    /// tx.send(1).await.unwrap();
    /// assert_eq!(rx.recv().await, Some(1));
    /// drop(rx);
    /// assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    /// # });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan
            .queue
            .put_as(value, "Sender::send")
            .await
            .map_err(|QueueShutDown(v)| SendError(v))
    }

    /// Sends `value` if the buffer has room.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    ///
    /// ```
    /// use conductor::sync::mpsc::{channel, TrySendError};
    /// let (tx, _rx) = channel(1);
    /// tx.try_send(1).unwrap();
    /// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.queue.put_nowait(value).map_err(|e| match e {
            PutError::QueueFull(v) => TrySendError::Full(v),
            PutError::QueueShutDown(v) => TrySendError::Closed(v),
        })
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// ```
    /// # conductor::run(async {
    /// let (tx, rx) = conductor::sync::mpsc::channel::<u8>(1);
    /// conductor::spawn(async move { drop(rx) }).detach();
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.chan.rx_closed.wait().await
    }

    /// Whether the receiver was dropped or closed.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::mpsc::channel::<u8>(1);
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.rx_closed.is_set()
    }

    /// Free room in the buffer now.
    ///
    /// ```
    /// let (tx, _rx) = conductor::sync::mpsc::channel(4);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.queue.maxsize() - self.chan.queue.qsize().min(self.chan.queue.maxsize())
    }

    /// The size of the buffer.
    ///
    /// ```
    /// let (tx, _rx) = conductor::sync::mpsc::channel::<u8>(4);
    /// assert_eq!(tx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.queue.maxsize()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender").finish_non_exhaustive()
    }
}
