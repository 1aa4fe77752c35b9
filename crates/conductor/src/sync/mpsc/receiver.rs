//! The receiver of a bounded or unbounded channel.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::{Chan, TryRecvError};
use crate::loom::sync::Arc;
use crate::sync::GetError;

/// Receives the values of a [`channel`](super::channel) or an
/// [`unbounded_channel`](super::unbounded_channel), in the order they were sent; also a
/// `Stream` of them, which ends when the channel is closed and drained.
///
/// ```
/// use futures_core::Stream;
/// # conductor::run(async {
/// let (tx, rx) = conductor::sync::mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// drop(tx);
/// let mut stream = std::pin::pin!(rx);
/// let mut got = Vec::new();
/// while let Some(v) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
///     got.push(v);
/// }
/// assert_eq!(got, [1]);
/// # });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
    /// Our place among the queue's getters while a receive waits.
    slot: Option<usize>,
    /// The receives as tokio-console shows them: one long-lived op, made at the first.
    #[cfg(feature = "tracing")]
    op: Option<Box<crate::console::AsyncOp>>,
}

impl<T> Receiver<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Self {
        Receiver {
            chan,
            slot: None,
            #[cfg(feature = "tracing")]
            op: None,
        }
    }

    /// The next value, waiting for one; `None` once every sender is dropped (or the receiver
    /// closed) and the buffer is drained. Cancel-safe: a cancelled `recv` takes no value.
    ///
    /// ```
    /// # conductor::run(async {
    /// let (tx, mut rx) = conductor::sync::mpsc::channel(2);
    /// tx.send("hi").await.unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv().await, Some("hi"));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The polling form of [`recv`](Self::recv).
    ///
    /// ```
    /// # conductor::run(async {
    /// let (tx, mut rx) = conductor::sync::mpsc::unbounded_channel();
    /// tx.send(3).unwrap();
    /// assert_eq!(std::future::poll_fn(|cx| rx.poll_recv(cx)).await, Some(3));
    /// # });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        #[cfg(feature = "tracing")]
        if self.op.is_some() || crate::console::on() {
            return self.poll_recv_traced(cx);
        }
        self.chan.queue.poll_get(cx, &mut self.slot).map(|r| r.ok())
    }

    /// [`poll_recv`](Self::poll_recv) inside its tokio-console op (made at the first receive a
    /// subscriber sees); out of line, so that the plain path stays small.
    #[cfg(feature = "tracing")]
    #[inline(never)]
    fn poll_recv_traced(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if self.op.is_none() {
            self.op = self.chan.queue.console_op("Receiver::recv");
        }
        let (queue, slot) = (&self.chan.queue, &mut self.slot);
        let Some(op) = &self.op else {
            return queue.poll_get(cx, slot).map(|r| r.ok());
        };
        let r = op.poll("poll_recv", || queue.poll_get(cx, slot).map(|r| r.ok()));
        if r.is_ready() {
            queue.report();
        }
        r
    }

    /// The next value if one is buffered.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`], or [`TryRecvError::Closed`] once the channel is closed
    /// and drained.
    ///
    /// ```
    /// use conductor::sync::mpsc::{unbounded_channel, TryRecvError};
    /// let (tx, mut rx) = unbounded_channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.queue.get_nowait().map_err(|e| match e {
            GetError::QueueEmpty => TryRecvError::Empty,
            GetError::QueueShutDown => TryRecvError::Closed,
        })
    }

    /// Closes the channel from the receiving side: sends fail from now on, and the values
    /// already buffered can still be received.
    ///
    /// ```
    /// # conductor::run(async {
    /// let (tx, mut rx) = conductor::sync::mpsc::channel(2);
    /// tx.send(1).await.unwrap();
    /// rx.close();
    /// assert!(tx.send(2).await.is_err());
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub fn close(&mut self) {
        self.chan.close_rx(false);
    }

    /// How many values are buffered.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::mpsc::unbounded_channel();
    /// tx.send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.queue.qsize()
    }

    /// Whether no value is buffered.
    ///
    /// ```
    /// let (_tx, rx) = conductor::sync::mpsc::unbounded_channel::<u8>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.chan.queue.empty()
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(key) = self.slot.take() {
            self.chan.queue.cancel_get(key);
        }
        // Buffered values are dropped now, and every send fails from now on.
        self.chan.close_rx(true);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("buffered", &self.len())
            .finish()
    }
}
