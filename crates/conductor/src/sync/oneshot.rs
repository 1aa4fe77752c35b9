//! A channel for one value: the Rust form of an asyncio `Future` that one task resolves and
//! another awaits.
//!
//! Lock-free: one state word and three cells (the value, the receiver's waker, the sender's
//! waker). Every bit has one writer, which always knows the bit's current value: `COMPLETE` is
//! set once, by the sender (sending, or dropped without sending); `CLOSED` once, by the receiver
//! (closed or dropped); `RX_WAKER` and `TX_WAKER` only by their own side. So every update is a
//! `fetch_add` or `fetch_sub` of bits known to be clear or set: one `lock xadd`, no
//! compare-exchange loop. The bits say who may touch which cell:
//! - `value` is written by the sender before it sets `COMPLETE` (release). Whichever of
//!   `COMPLETE` and `CLOSED` was set first decides who owns it then: the sender sees `CLOSED` in
//!   what its RMW returns and takes the value back; the receiver, whose own RMW set `CLOSED`,
//!   remembers whether it came first, and reads the value only after seeing `COMPLETE` (acquire)
//!   when it did not.
//! - `rx_waker` belongs to the receiver while `RX_WAKER` is clear, and to the sender for good
//!   once the sender's RMW that set `COMPLETE` saw `RX_WAKER` set: the sender then takes the
//!   waker out and wakes it by value, so the waker's reference travels with the wake and is never
//!   dropped later on the sender's thread (for a task of another thread's loop that would be a
//!   second trip through its remote queue). **Invariant: the receiver touches the cell only
//!   while `RX_WAKER` is clear, or once it saw `COMPLETE` in the RMW that set `RX_WAKER`** (the
//!   sender, finished, then never touches it), so the sender's ownership excludes it.
//!   To look at or replace its waker the receiver first clears `RX_WAKER`; if that RMW shows
//!   `COMPLETE`, the cell is the sender's and the receiver takes the value instead. After writing
//!   the cell, the receiver sets `RX_WAKER`; if that RMW shows `COMPLETE`, the sender did not see
//!   the waker, so the receiver takes it back (dropping it on its own thread) and the value too.
//!   Closing clears `RX_WAKER` in the RMW that sets `CLOSED`: before `COMPLETE`, the receiver
//!   drops its waker itself.
//! - `tx_waker` is the same arrangement between the sender (waiting in `closed`) and the
//!   receiver's `CLOSED`; the sender clears `TX_WAKER` in the RMW that sets `COMPLETE`.
//!
//! So a waker is in a cell only while its flag is set and the other side has not finished, and
//! none is left for `Inner`'s drop on whichever thread lets go last.
//!
//! A sender dropped without sending sets `COMPLETE` with no value: the receiver gets
//! [`RecvError`]. Sending is one load and one `fetch_add`; receiving a value already there is one
//! load; a poll that finds its own waker registered (a spurious wake-up) costs two RMWs, the
//! price of never reading a cell the sender may be taking.

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

// SAFETY: the state protocol (module doc) gives each cell one accessor at a time; the value
// moves from the sender's thread to the receiver's but is never shared, so `T: Send` suffices.
// Wakers are `Send + Sync`.
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

    /// Takes the waker out of `cell` and wakes it by value (its reference goes with the wake).
    ///
    /// # Safety
    /// The caller owns the cell: its RMW saw the cell's flag set while setting the bit that
    /// keeps the other side out of the cell for good.
    unsafe fn wake(cell: &UnsafeCell<Option<Waker>>) {
        // SAFETY: per the caller, nobody else touches the cell from now on.
        if let Some(w) = cell.with_mut(|w| unsafe { (*w).take() }) {
            w.wake();
        }
    }

    /// Drops the waker in `cell` here, on the thread of the side that owns it.
    ///
    /// # Safety
    /// The caller owns the cell: its flag is clear, or the other side finished without seeing
    /// it set.
    unsafe fn drop_waker(cell: &UnsafeCell<Option<Waker>>) {
        // SAFETY: per the caller, the other side never touches the cell.
        drop(cell.with_mut(|w| unsafe { (*w).take() }));
    }

    /// Sets `done` (`COMPLETE` or `CLOSED`, the caller's bit, clear until now) and clears the
    /// caller's own waker `flag` in the same RMW; drops the caller's waker in `cell` when the
    /// other side had not finished. Returns the state before.
    fn finish(&self, done: usize, cell: &UnsafeCell<Option<Waker>>, flag: usize) -> usize {
        // Only the caller writes `flag`, so even a relaxed load shows its current value.
        let own = self.state.load(Relaxed) & flag;
        // `done` is clear and `own` is set, and only the caller changes either: adding `done`
        // and subtracting `own` sets the one and clears the other.
        let prev = self.state.fetch_add(done.wrapping_sub(own), AcqRel);
        let other_done = if done == COMPLETE { CLOSED } else { COMPLETE };
        if own != 0 && prev & other_done == 0 {
            // SAFETY: the other side had not finished, so it never saw `flag` set while
            // finishing, and from now on it finds `flag` clear.
            unsafe { Self::drop_waker(cell) };
        }
        prev
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
            // `flag` is set, and only we change it: subtracting clears it. The cell is ours
            // again unless the other side finished first, having seen the flag.
            let prev = self.state.fetch_sub(flag, AcqRel);
            if prev & done != 0 {
                // The other side owns the cell (it took the waker out and woke it).
                return prev;
            }
        }
        // SAFETY: `flag` is clear and only this side sets it; the other side touches the cell
        // only after an RMW that sees `flag` set, which comes after our `fetch_add` below.
        cell.with_mut(|w| unsafe {
            if !(*w).as_ref().is_some_and(|w| w.will_wake(waker)) {
                *w = Some(waker.clone());
            }
        });
        // `flag` is clear, and only we change it: adding sets it.
        let prev = self.state.fetch_add(flag, AcqRel);
        if prev & done != 0 {
            // SAFETY: the other side finished before the flag was set, so it never touches the
            // cell: the waker is ours to drop, here rather than with `Inner` elsewhere.
            unsafe { Self::drop_waker(cell) };
        }
        prev
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
        // `COMPLETE` is set only here (or by our `Drop`, which no longer runs on `inner`).
        let prev = inner.finish(COMPLETE, &inner.tx_waker, TX_WAKER);
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
            // Dropped without sending: complete with no value.
            let prev = inner.finish(COMPLETE, &inner.tx_waker, TX_WAKER);
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
            // `CLOSED` is set once, here.
            let prev = inner.finish(CLOSED, &inner.rx_waker, RX_WAKER);
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
    use crate::loom::sync::atomic::Ordering::SeqCst;
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

    /// The receiver's waker is woken by value on the sender's thread (its reference goes with
    /// the wake) or dropped on the receiver's own thread: never woken by reference, never
    /// dropped unwoken by the sender's side, never left to `Inner`'s drop.
    #[test]
    fn the_receivers_waker_is_woken_by_value_or_dropped_at_home() {
        loom::model(|| {
            let (tx, mut rx) = channel();
            let log = WakerLog::new();
            let home = thread::current().id();
            let sender = thread::spawn(move || tx.send(3).unwrap());
            let waker = WakerLog::waker(&log);
            let mut cx = Context::from_waker(&waker);
            let first = Pin::new(&mut rx).poll(&mut cx);
            drop(waker);
            match first {
                Poll::Ready(v) => assert_eq!(v, Ok(3)),
                // Waits on another waker: the first is replaced (or the sender took it).
                Poll::Pending => assert_eq!(block_on(rx), Ok(3)),
            }
            sender.join().unwrap();
            let events = log.events.lock().unwrap();
            for (event, on) in events.iter() {
                match event {
                    Event::Wake => {}
                    Event::Drop => assert_eq!(*on, home, "dropped unwoken on the sender's thread"),
                    Event::WakeByRef => panic!("woken by reference: {events:?}"),
                }
            }
            // Every clone the channel took was consumed: by a wake or a drop.
            let clones = events
                .iter()
                .filter(|(e, _)| *e != Event::WakeByRef)
                .count();
            assert_eq!(clones, log.clones.load(SeqCst) + 1, "{events:?}");
        });
    }

    /// A receiver dropped while its waker is registered drops the waker itself, unless the
    /// sender got there first and woke it.
    #[test]
    fn a_dropped_receiver_takes_its_waker_home() {
        loom::model(|| {
            let (tx, mut rx) = channel::<u8>();
            let log = WakerLog::new();
            let home = thread::current().id();
            let waker = WakerLog::waker(&log);
            assert!(
                Pin::new(&mut rx)
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
            drop(waker);
            let sender = thread::spawn(move || drop(tx));
            drop(rx);
            sender.join().unwrap();
            let events = log.events.lock().unwrap();
            assert_eq!(events.len(), 2, "{events:?}"); // ours and the channel's clone
            for (event, on) in events.iter() {
                assert!(
                    *event == Event::Wake || *on == home,
                    "dropped unwoken abroad: {events:?}"
                );
            }
        });
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Event {
        Wake,
        WakeByRef,
        Drop,
    }

    /// Records what happens to each waker made by [`WakerLog::waker`], and on which thread.
    struct WakerLog {
        clones: crate::loom::sync::atomic::AtomicUsize,
        events: crate::loom::sync::Mutex<Vec<(Event, thread::ThreadId)>>,
    }

    impl WakerLog {
        fn new() -> Arc<Self> {
            Arc::new(WakerLog {
                clones: crate::loom::sync::atomic::AtomicUsize::new(0),
                events: crate::loom::sync::Mutex::new(Vec::new()),
            })
        }

        fn record(&self, e: Event) {
            self.events
                .lock()
                .unwrap()
                .push((e, thread::current().id()));
        }

        fn waker(this: &Arc<Self>) -> Waker {
            // SAFETY: the vtable's functions treat `data` as an `Arc<WakerLog>` reference, one
            // per waker, as `raw` makes it.
            unsafe { Waker::from_raw(Self::raw(this.clone())) }
        }

        fn raw(this: Arc<Self>) -> std::task::RawWaker {
            std::task::RawWaker::new(Arc::into_raw(this).cast(), &LOG_VTABLE)
        }
    }

    static LOG_VTABLE: std::task::RawWakerVTable =
        std::task::RawWakerVTable::new(log_clone, log_wake, log_wake_by_ref, log_drop);

    /// # Safety
    /// `data` is a waker's `Arc<WakerLog>` reference (see [`WakerLog::raw`]).
    unsafe fn log_of(data: *const ()) -> Arc<WakerLog> {
        // SAFETY: per the caller; the waker's reference moves into the returned `Arc`.
        unsafe { Arc::from_raw(data.cast()) }
    }

    unsafe fn log_clone(data: *const ()) -> std::task::RawWaker {
        // SAFETY: a waker's data, kept alive by forgetting the borrowed reference again.
        let log = std::mem::ManuallyDrop::new(unsafe { log_of(data) });
        log.clones.fetch_add(1, SeqCst);
        WakerLog::raw(Arc::clone(&log))
    }

    unsafe fn log_wake(data: *const ()) {
        // SAFETY: the woken waker's reference, consumed here.
        unsafe { log_of(data) }.record(Event::Wake);
    }

    unsafe fn log_wake_by_ref(data: *const ()) {
        // SAFETY: borrowed: forgotten again below.
        let log = std::mem::ManuallyDrop::new(unsafe { log_of(data) });
        log.record(Event::WakeByRef);
    }

    unsafe fn log_drop(data: *const ()) {
        // SAFETY: the dropped waker's reference, released here.
        unsafe { log_of(data) }.record(Event::Drop);
    }

    fn noop_waker() -> Waker {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        Waker::from(std::sync::Arc::new(Noop))
    }
}
