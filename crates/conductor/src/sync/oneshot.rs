//! A channel for one value: the Rust form of an asyncio `Future` that one task resolves and
//! another awaits.
//!
//! Lock-free: one state word and three cells (the value, the receiver's waker, the sender's
//! waker). Every bit has one writer, which always knows the bit's current value: `COMPLETE` is
//! set once, by the sender (sending, or dropped without sending); `CLOSED` once, by the receiver
//! (closed or dropped); `RX_WAKER` and `TX_WAKER` only by their own side. So every update is a
//! `fetch_add` or `fetch_sub` of a bit known to be clear or set: one `lock xadd`, no
//! compare-exchange loop. The bits say who may touch which cell:
//! - `value` is written by the sender before it sets `COMPLETE` (release). Whichever of
//!   `COMPLETE` and `CLOSED` was set first decides who owns it then: the sender sees `CLOSED` in
//!   what its RMW returns and takes the value back; the receiver, whose own RMW set `CLOSED`,
//!   remembers whether it came first, and reads the value only after seeing `COMPLETE` (acquire)
//!   when it did not.
//! - `rx_waker` is written by the receiver only while `RX_WAKER` is clear; the sender reads it
//!   only if the RMW that set `COMPLETE` saw `RX_WAKER` set. To replace its waker the receiver
//!   first clears `RX_WAKER`; if that RMW shows `COMPLETE`, the sender may be reading the cell,
//!   so the receiver leaves it alone and takes the value instead. After writing the cell, the
//!   receiver sets `RX_WAKER`; if that RMW shows `COMPLETE`, the sender did not see the waker,
//!   so the receiver takes the value now.
//! - `tx_waker` is the same arrangement between the sender (waiting in `closed`) and the
//!   receiver's `CLOSED`.
//!
//! A sender dropped without sending sets `COMPLETE` with no value: the receiver gets
//! [`RecvError`]. Sending is one `fetch_add`; receiving a value already there is one load.

// The `unsafe` of this module: the value and wakers in `UnsafeCell`s, handed over by the state word.
#![allow(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

pub use super::error::{RecvError, TryRecvError};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::Arc;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

const RX_WAKER: usize = 0b0001;
const COMPLETE: usize = 0b0010;
const CLOSED: usize = 0b0100;
const TX_WAKER: usize = 0b1000;

/// A channel for one value: [`Sender::send`] resolves the [`Receiver`], which is a future.
///
/// ```
/// # conductor::run(async {
/// let (tx, rx) = conductor::sync::oneshot::channel();
/// conductor::spawn(async move {
///     tx.send(6 * 7).unwrap();
/// })
/// .detach();
/// assert_eq!(rx.await, Ok(42));
/// # });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver {
            inner: Some(inner),
            closed: None,
        },
    )
}

struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the state protocol (module doc) gives each cell one accessor at a time, or only
// readers; the value moves from the sender's thread to the receiver's but is never shared, so
// `T: Send` suffices. Wakers are `Send + Sync`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// Takes the value once `COMPLETE` was seen.
    ///
    /// # Safety
    /// The caller is the receiver and saw `COMPLETE` with acquire ordering.
    unsafe fn take_value(&self) -> Option<T> {
        // SAFETY: after `COMPLETE` the sender no longer touches `value`, and its write happened
        // before the release that set `COMPLETE`, which the caller acquired; the receiver is
        // unique (`&mut Receiver`).
        self.value.with_mut(|v| unsafe { (*v).take() })
    }

    /// Wakes the waker in `cell`, which the caller may read (see the module doc).
    ///
    /// # Safety
    /// The caller's RMW saw the cell's flag set while setting the bit that keeps the other side
    /// from writing the cell again.
    unsafe fn wake(cell: &UnsafeCell<Option<Waker>>) {
        // SAFETY: per the caller, the other side only reads the cell from now on.
        cell.with(|w| unsafe {
            if let Some(w) = &*w {
                w.wake_by_ref();
            }
        });
    }

    /// Whether the waker in `cell` would wake `waker`'s task.
    ///
    /// # Safety
    /// The caller owns the cell's flag (it is set, and only the caller clears it), so the other
    /// side at most reads the cell.
    unsafe fn will_wake(cell: &UnsafeCell<Option<Waker>>, waker: &Waker) -> bool {
        // SAFETY: only readers meanwhile, per the caller.
        cell.with(|w| unsafe { (*w).as_ref().is_some_and(|w| w.will_wake(waker)) })
    }

    /// Registers `waker` in `cell` under `flag`, given the state `s` just loaded; returns the
    /// state seen when the flag was set (or when the registration was abandoned because `done`
    /// was set).
    fn register(
        &self,
        s: usize,
        cell: &UnsafeCell<Option<Waker>>,
        flag: usize,
        done: usize,
        waker: &Waker,
    ) -> usize {
        if s & flag != 0 {
            // SAFETY: only this side clears `flag`, so the other side only reads the cell.
            if unsafe { Self::will_wake(cell, waker) } {
                return s;
            }
            // `flag` is set, and only we change it: subtracting clears it.
            let prev = self.state.fetch_sub(flag, AcqRel);
            if prev & done != 0 {
                // The other side saw our flag when it finished and may be reading the cell.
                return prev;
            }
        }
        // SAFETY: `flag` is clear and only this side sets it; the other side reads the cell
        // only after an RMW that sees `flag` set, which comes after our `fetch_add` below.
        cell.with_mut(|w| unsafe { *w = Some(waker.clone()) });
        // `flag` is clear, and only we change it: adding sets it.
        self.state.fetch_add(flag, AcqRel)
    }
}

/// Sends the value of a [`channel`].
///
/// ```
/// # conductor::run(async {
/// let (tx, rx) = conductor::sync::oneshot::channel();
/// conductor::spawn(async move { tx.send("result").unwrap() }).detach();
/// assert_eq!(rx.await, Ok("result"));
/// # });
/// ```
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waking the receiver (asyncio's `future.set_result(value)`).
    ///
    /// # Errors
    /// The value comes back when the receiver was dropped or closed.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::oneshot::channel::<u8>();
    /// drop(rx);
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("the sender sends once");
        // SAFETY: `COMPLETE` is not set (only we set it), so the receiver does not read the cell.
        inner.value.with_mut(|v| unsafe { *v = Some(value) });
        // `COMPLETE` is clear and set only here (or by our `Drop`, which no longer runs on
        // `inner`): adding sets it.
        let prev = inner.state.fetch_add(COMPLETE, AcqRel);
        if prev & CLOSED != 0 {
            // The receiver closed first: it will not read the value, which is ours again.
            // SAFETY: a receiver whose close came before `COMPLETE` never touches the cell.
            let value = inner.value.with_mut(|v| unsafe { (*v).take() });
            return Err(value.expect("the value was just written"));
        }
        if prev & RX_WAKER != 0 {
            // SAFETY: we set `COMPLETE` while `RX_WAKER` was set.
            unsafe { Inner::<T>::wake(&inner.rx_waker) };
        }
        Ok(())
    }

    /// Whether the receiver was dropped or closed: a send would fail.
    ///
    /// ```
    /// let (tx, rx) = conductor::sync::oneshot::channel::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        let inner = self.inner.as_ref().expect("the sender is live");
        inner.state.load(Acquire) & CLOSED != 0
    }

    /// Waits until the receiver is dropped or closed: the result is no longer wanted (asyncio:
    /// the future was cancelled).
    ///
    /// ```
    /// # conductor::run(async {
    /// let (mut tx, rx) = conductor::sync::oneshot::channel::<u8>();
    /// conductor::spawn(async move { drop(rx) }).detach();
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// The polling form of [`closed`](Self::closed).
    ///
    /// ```
    /// # conductor::run(async {
    /// let (mut tx, rx) = conductor::sync::oneshot::channel::<u8>();
    /// drop(rx);
    /// std::future::poll_fn(|cx| tx.poll_closed(cx)).await;
    /// # });
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner.as_ref().expect("the sender is live");
        let s = inner.state.load(Acquire);
        if s & CLOSED != 0 {
            return Poll::Ready(());
        }
        let seen = inner.register(s, &inner.tx_waker, TX_WAKER, CLOSED, cx.waker());
        if seen & CLOSED != 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // Dropped without sending: complete with no value (set once: adding sets it).
            let prev = inner.state.fetch_add(COMPLETE, AcqRel);
            if prev & RX_WAKER != 0 {
                // SAFETY: we set `COMPLETE` while `RX_WAKER` was set.
                unsafe { Inner::<T>::wake(&inner.rx_waker) };
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

/// Receives the value of a [`channel`]: a future of `Result<T, RecvError>`.
///
/// ```
/// # conductor::run(async {
/// let (tx, rx) = conductor::sync::oneshot::channel::<u8>();
/// drop(tx); // dropped without sending
/// assert!(rx.await.is_err());
/// # });
/// ```
pub struct Receiver<T> {
    inner: Option<Arc<Inner<T>>>,
    /// Set by `close`: whether `CLOSED` was set before `COMPLETE` (the value, if any comes,
    /// stays the sender's).
    closed: Option<ClosedFirst>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct ClosedFirst(bool);

impl<T> Receiver<T> {
    /// Refuses the value: later sends fail and give it back. A value sent before is still
    /// received.
    ///
    /// ```
    /// # conductor::run(async {
    /// let (tx, mut rx) = conductor::sync::oneshot::channel::<u8>();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// assert!(rx.await.is_err());
    /// # });
    /// ```
    pub fn close(&mut self) {
        if self.closed.is_some() {
            return;
        }
        if let Some(inner) = &self.inner {
            // `CLOSED` is set once, here: adding sets it.
            let prev = inner.state.fetch_add(CLOSED, AcqRel);
            let first = prev & COMPLETE == 0;
            self.closed = Some(ClosedFirst(first));
            if first && prev & TX_WAKER != 0 {
                // SAFETY: we set `CLOSED` while `TX_WAKER` was set.
                unsafe { Inner::<T>::wake(&inner.tx_waker) };
            }
        }
    }

    /// Whether the sender has sent or gone (the value, if any, is waiting), without taking
    /// anything; false once the value was received.
    pub(crate) fn is_complete(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.state.load(Acquire) & COMPLETE != 0)
    }

    /// Whether this receiver closed before a value (or the sender's drop) arrived: then it
    /// never reads the value cell.
    fn closed_first(&self) -> bool {
        self.closed == Some(ClosedFirst(true))
    }

    /// The value if it was sent, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] while nothing was sent, [`TryRecvError::Closed`] when the
    /// sender was dropped without sending, the receiver was closed, or the value was taken.
    ///
    /// ```
    /// use conductor::sync::oneshot::{channel, TryRecvError};
    /// let (tx, mut rx) = channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send('x').unwrap();
    /// assert_eq!(rx.try_recv(), Ok('x'));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let closed_first = self.closed_first();
        let Some(inner) = &self.inner else {
            return Err(TryRecvError::Closed);
        };
        let s = inner.state.load(Acquire);
        let out = if closed_first {
            Err(TryRecvError::Closed)
        } else if s & COMPLETE != 0 {
            // SAFETY: we are the receiver, did not close first, and saw `COMPLETE` (acquire).
            unsafe { inner.take_value() }.ok_or(TryRecvError::Closed)
        } else {
            return Err(TryRecvError::Empty);
        };
        self.inner = None;
        out
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let closed_first = self.closed_first();
        let inner = self
            .inner
            .as_ref()
            .expect("oneshot::Receiver polled after it completed");
        let complete = if closed_first {
            false
        } else {
            let s = inner.state.load(Acquire);
            let seen = if s & COMPLETE != 0 {
                s
            } else {
                inner.register(s, &inner.rx_waker, RX_WAKER, COMPLETE, cx.waker())
            };
            if seen & COMPLETE == 0 {
                return Poll::Pending;
            }
            true
        };
        // Completing without waiting: spend the budget (a loop over ready receivers yields).
        ready!(crate::context::poll_budget(cx));
        let value = if complete {
            // SAFETY: we are the receiver, did not close first, and saw `COMPLETE` through an
            // acquire load or RMW.
            unsafe { inner.take_value() }
        } else {
            None
        };
        self.inner = None;
        Poll::Ready(value.ok_or(RecvError))
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::block_on;
    use loom::thread;

    #[test]
    fn send_racing_recv_delivers_the_value() {
        loom::model(|| {
            let (tx, rx) = channel();
            let sender = thread::spawn(move || tx.send(7).unwrap());
            assert_eq!(block_on(rx), Ok(7));
            sender.join().unwrap();
        });
    }

    #[test]
    fn a_dropped_sender_wakes_the_receiver() {
        loom::model(|| {
            let (tx, rx) = channel::<u8>();
            let sender = thread::spawn(move || drop(tx));
            assert_eq!(block_on(rx), Err(RecvError));
            sender.join().unwrap();
        });
    }

    #[test]
    fn a_receiver_replacing_its_waker_races_the_send() {
        loom::model(|| {
            let (tx, mut rx) = channel();
            let sender = thread::spawn(move || tx.send(1).unwrap());
            // Register one waker, then another (the task moved): the sender may be completing
            // meanwhile, reading the first.
            let noop = noop_waker();
            let mut cx = Context::from_waker(&noop);
            if let Poll::Ready(v) = Pin::new(&mut rx).poll(&mut cx) {
                assert_eq!(v, Ok(1));
            } else {
                assert_eq!(block_on(rx), Ok(1));
            }
            sender.join().unwrap();
        });
    }

    #[test]
    fn close_racing_send_either_delivers_or_returns_the_value() {
        loom::model(|| {
            let (tx, mut rx) = channel();
            let sender = thread::spawn(move || tx.send(String::from("v")));
            rx.close();
            // Reads while the sender may still be sending (or taking its value back).
            let got = rx.try_recv();
            let sent = sender.join().unwrap();
            match (got, sent) {
                (Ok(v), Ok(())) => assert_eq!(v, "v"),
                (Err(TryRecvError::Closed), Err(v)) => assert_eq!(v, "v"),
                (got, sent) => panic!("inconsistent: received {got:?}, sent {sent:?}"),
            }
        });
    }

    #[test]
    fn closed_wakes_the_sender() {
        loom::model(|| {
            let (mut tx, rx) = channel::<u8>();
            let receiver = thread::spawn(move || drop(rx));
            block_on(tx.closed());
            receiver.join().unwrap();
        });
    }

    fn noop_waker() -> Waker {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        Waker::from(std::sync::Arc::new(Noop))
    }
}
