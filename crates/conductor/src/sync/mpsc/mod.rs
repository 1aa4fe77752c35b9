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

pub use super::error::{SendError, TryRecvError, TrySendError};
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
#[cfg_attr(feature = "tracing", track_caller)]
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
#[cfg_attr(feature = "tracing", track_caller)]
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
    /// tokio-console shows the channel as one resource, `mpsc::Channel`, where the user made it.
    #[cfg_attr(feature = "tracing", track_caller)]
    fn new(maxsize: usize) -> Arc<Self> {
        Arc::new(Chan {
            queue: Queue::typed(maxsize, "mpsc::Channel"),
            senders: AtomicUsize::new(1),
            rx_closed: Event::internal(),
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
