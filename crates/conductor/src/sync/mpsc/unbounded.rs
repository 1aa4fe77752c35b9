//! The sender of an unbounded channel.

use std::fmt;

use super::{Chan, SendError};
use crate::loom::sync::Arc;

/// Sends values into an [`unbounded_channel`](super::unbounded_channel); clone it for more
/// producers. The channel closes when the last sender is dropped.
///
/// ```
/// let (tx, mut rx) = conductor::sync::mpsc::unbounded_channel();
/// let tx2 = tx.clone();
/// tx.send(1).unwrap();
/// tx2.send(2).unwrap();
/// assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(1), Ok(2)));
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Self {
        UnboundedSender { chan }
    }

    /// Sends `value` at once (the buffer has no limit).
    ///
    /// # Errors
    /// [`SendError`], with the value, when the receiver was dropped or closed.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::mpsc::unbounded_channel();
    /// assert!(tx.send(1).is_ok());
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan
            .queue
            .put_nowait(value)
            .map_err(|e| SendError(e.into_inner()))
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// ```
    /// # conductor::run(async {
    /// let (tx, mut rx) = conductor::sync::mpsc::unbounded_channel::<u8>();
    /// rx.close();
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.chan.rx_closed.wait().await
    }

    /// Whether the receiver was dropped or closed.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::mpsc::unbounded_channel::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.rx_closed.is_set()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .finish_non_exhaustive()
    }
}
