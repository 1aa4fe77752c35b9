//! The channels' errors, one type per shape of failure, shared by `mpsc`, `oneshot` and `watch`
//! (each module re-exports the ones it returns, so `mpsc::SendError` and `watch::SendError` are
//! one type). `broadcast` adds its own `RecvError`/`TryRecvError`, which can also say how many
//! values a lagging receiver missed.

use std::fmt;

/// No receiver is left (every one was dropped, or the receiver closed itself); the value comes
/// back, unsent.
///
/// ```
/// let (tx, rx) = conductor::sync::mpsc::unbounded_channel();
/// drop(rx);
/// let conductor::sync::SendError(back) = tx.send('v').unwrap_err();
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
        f.write_str("the channel has no receiver left (the value comes back in the error)")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why a non-blocking send ([`mpsc::Sender::try_send`](super::mpsc::Sender::try_send)) did not
/// send; the value comes back.
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
    /// No receiver is left.
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
            TrySendError::Closed(_) => f.write_str("the channel has no receiver left"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// Nothing more will come: the sender was dropped (a `oneshot`'s without sending; a `watch`'s
/// after its last value was seen), or the receiver closed itself.
///
/// ```
/// # conductor::run(async {
/// let (tx, rx) = conductor::sync::oneshot::channel::<u8>();
/// drop(tx);
/// assert_eq!(rx.await, Err(conductor::sync::RecvError));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the channel is closed: its sender was dropped and nothing more will come")
    }
}

impl std::error::Error for RecvError {}

/// Why a non-blocking receive (`try_recv`) returned no value.
///
/// ```
/// use conductor::sync::mpsc::{unbounded_channel, TryRecvError};
/// let (tx, mut rx) = unbounded_channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing is there now (await the receive to wait for it).
    Empty,
    /// Nothing is there, and nothing will come: every sender was dropped, the receiver was
    /// closed, or (`oneshot`) the value was already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the channel is empty (await recv() to wait)"),
            TryRecvError::Closed => f.write_str("the channel is empty and closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}
