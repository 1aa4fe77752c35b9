//! asyncio's `Queue`, `PriorityQueue` and `LifoQueue`: one implementation, generic over the
//! [`Storage`] that orders the items.
//!
//! Everything is under one std mutex (held for a few instructions, never across an await or a
//! wake-up), with three FIFOs of waiters: getters, putters and joiners. The rules are asyncio's:
//! - each put wakes the first getter, each get the first putter; the item stays in the queue
//!   until the woken task takes it (so `qsize` counts it meanwhile, as asyncio prints);
//! - a woken getter (putter) dropped before it ran passes its wake-up to the next one if an item
//!   (a free slot) is still there, so a cancelled `get` or `put` loses nothing;
//! - `join` waits for the count of unfinished items (put minus `task_done`) to reach zero, and a
//!   joiner woken then returns even if new items arrived before it ran (asyncio's `Event`);
//! - `shutdown` (3.13) fails puts at once; gets drain the items first unless `immediate`.

mod error;
mod storage;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

pub use error::{GetError, PutError, QueueShutDown, TaskDoneTooOften};
pub use storage::{Fifo, Lifo, Priority, Storage};

use super::lock;
use super::wait_queue::{WaitQueue, WakeList};
use crate::loom::sync::Mutex;

/// A FIFO queue for tasks (asyncio's `Queue`).
///
/// ```
/// use std::sync::Arc;
/// use conductor::sync::Queue;
/// # conductor::run(async {
/// let queue = Arc::new(Queue::new(2)); // at most 2 items; 0 means unbounded
/// let q = queue.clone();
/// let consumer = conductor::spawn(async move {
///     let mut got = Vec::new();
///     while let Ok(item) = q.get().await {
///         got.push(item);
///         q.task_done().unwrap();
///     }
///     got // get fails once the queue is shut down and drained
/// });
/// for i in 0..5 {
///     queue.put(i).await.unwrap(); // waits while the queue is full
/// }
/// queue.join().await; // every item was got and marked done
/// queue.shutdown(false);
/// assert_eq!(consumer.await.unwrap(), [0, 1, 2, 3, 4]);
/// # });
/// ```
pub type Queue<T> = GenericQueue<Fifo<T>>;

/// A queue that hands out the smallest item first (asyncio's `PriorityQueue`).
///
/// ```
/// let q = conductor::sync::PriorityQueue::new(0);
/// for (priority, job) in [(2, "later"), (0, "now"), (1, "soon")] {
///     q.put_nowait((priority, job)).unwrap();
/// }
/// assert_eq!(q.get_nowait().unwrap(), (0, "now"));
/// assert_eq!(q.get_nowait().unwrap(), (1, "soon"));
/// ```
pub type PriorityQueue<T> = GenericQueue<Priority<T>>;

/// A queue that hands out the most recent item first (asyncio's `LifoQueue`).
///
/// ```
/// let q = conductor::sync::LifoQueue::new(0);
/// q.put_nowait(1).unwrap();
/// q.put_nowait(2).unwrap();
/// assert_eq!(q.get_nowait().unwrap(), 2);
/// ```
pub type LifoQueue<T> = GenericQueue<Lifo<T>>;

/// The queue behind [`Queue`], [`PriorityQueue`] and [`LifoQueue`], with the order of its
/// [`Storage`]. `Send + Sync`: share it between tasks (and loops) in an `Arc`.
///
/// ```
/// use conductor::sync::{Fifo, GenericQueue, Queue};
/// // `Queue<T>` is `GenericQueue<Fifo<T>>`: two names for one type.
/// let q: GenericQueue<Fifo<u8>> = Queue::new(2);
/// q.put_nowait(1).unwrap();
/// assert_eq!(q.qsize(), 1);
/// ```
pub struct GenericQueue<S: Storage> {
    maxsize: usize,
    inner: Mutex<Inner<S>>,
    /// The queue as tokio-console shows it.
    #[cfg(feature = "tracing")]
    console: crate::console::LazyResource,
}

struct Inner<S> {
    items: S,
    /// Items put and not yet marked done (asyncio's `_unfinished_tasks`).
    unfinished: usize,
    shutdown: bool,
    getters: WaitQueue<()>,
    putters: WaitQueue<()>,
    joiners: WaitQueue<()>,
}

impl<S: Storage> GenericQueue<S> {
    /// A queue holding at most `maxsize` items; `0` means no limit (asyncio's
    /// `Queue(maxsize=0)`).
    ///
    /// ```
    /// let q = conductor::sync::Queue::<u8>::new(3);
    /// assert_eq!(q.maxsize(), 3);
    /// ```
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn new(maxsize: usize) -> Self {
        GenericQueue::typed(maxsize, "Queue")
    }

    /// A queue that tokio-console names `concrete_type` (a channel's).
    #[cfg_attr(feature = "tracing", track_caller)]
    pub(crate) fn typed(maxsize: usize, concrete_type: &'static str) -> Self {
        #[cfg(not(feature = "tracing"))]
        let _ = concrete_type;
        GenericQueue {
            #[cfg(feature = "tracing")]
            console: crate::console::LazyResource::new(concrete_type),
            maxsize,
            inner: Mutex::new(Inner {
                items: S::default(),
                unfinished: 0,
                shutdown: false,
                getters: WaitQueue::new(),
                putters: WaitQueue::new(),
                joiners: WaitQueue::new(),
            }),
        }
    }

    /// The most items the queue holds; 0 for no limit.
    ///
    /// ```
    /// assert_eq!(conductor::sync::Queue::<u8>::new(0).maxsize(), 0);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// How many items the queue holds (asyncio's `qsize()`), counting those that a woken
    /// getter has not taken yet.
    ///
    /// ```
    /// let q = conductor::sync::Queue::new(0);
    /// q.put_nowait('a').unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        lock(&self.inner).items.len()
    }

    /// [`qsize`](Self::qsize) under the Rust convention's name (asyncio's is `qsize`).
    #[inline]
    pub fn len(&self) -> usize {
        self.qsize()
    }

    /// Whether the queue holds no item.
    ///
    /// ```
    /// assert!(conductor::sync::Queue::<u8>::new(0).empty());
    /// ```
    pub fn empty(&self) -> bool {
        lock(&self.inner).items.is_empty()
    }

    /// [`empty`](Self::empty) under the Rust convention's name (asyncio's is `empty`).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.empty()
    }

    /// Whether the queue holds `maxsize` items (never, without a limit).
    ///
    /// ```
    /// let q = conductor::sync::Queue::new(1);
    /// q.put_nowait(()).unwrap();
    /// assert!(q.full());
    /// ```
    pub fn full(&self) -> bool {
        self.is_full_locked(&lock(&self.inner))
    }

    /// [`full`](Self::full) under the Rust convention's name (asyncio's is `full`).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.full()
    }

    fn is_full_locked(&self, inner: &Inner<S>) -> bool {
        self.maxsize > 0 && inner.items.len() >= self.maxsize
    }

    /// Puts an item, waiting while the queue is full (asyncio's `await put(item)`).
    ///
    /// Cancel-safe: if the task is cancelled while it waits, the item is dropped with the
    /// future, unqueued, and a free slot it was woken for goes to the next putter.
    ///
    /// # Errors
    /// [`QueueShutDown`], with the item, when the queue is shut down (at once, or while
    /// waiting).
    ///
    /// ```
    /// # conductor::run(async {
    /// let q = conductor::sync::Queue::new(0);
    /// q.put(1).await.unwrap();
    /// assert_eq!(q.get().await, Ok(1));
    /// # });
    /// ```
    pub fn put(&self, item: S::Item) -> Put<'_, S> {
        self.put_as(item, "Queue::put")
    }

    /// [`put`](Self::put), named `source` in tokio-console (a channel's `Sender::send`).
    pub(crate) fn put_as(&self, item: S::Item, source: &'static str) -> Put<'_, S> {
        #[cfg(not(feature = "tracing"))]
        let _ = source;
        Put {
            queue: self,
            item: Some(item),
            slot: None,
            #[cfg(feature = "tracing")]
            op: self.console_op(source),
        }
    }

    /// Puts an item if the queue is not full.
    ///
    /// # Errors
    /// [`PutError::QueueFull`] or [`PutError::QueueShutDown`], with the item.
    ///
    /// ```
    /// use conductor::sync::{PutError, Queue};
    /// let q = Queue::new(1);
    /// assert!(q.put_nowait(1).is_ok());
    /// assert!(matches!(q.put_nowait(2), Err(PutError::QueueFull(2))));
    /// ```
    pub fn put_nowait(&self, item: S::Item) -> Result<(), PutError<S::Item>> {
        let mut inner = lock(&self.inner);
        if inner.shutdown {
            return Err(PutError::QueueShutDown(item));
        }
        if self.is_full_locked(&inner) {
            return Err(PutError::QueueFull(item));
        }
        let getter = Self::push_locked(&mut inner, item);
        drop(inner);
        wake(getter);
        #[cfg(feature = "tracing")]
        self.report();
        Ok(())
    }

    /// [`put_nowait`](Self::put_nowait) under the Rust convention's name for a non-blocking form.
    ///
    /// # Errors
    /// As [`put_nowait`](Self::put_nowait).
    #[inline]
    pub fn try_put(&self, item: S::Item) -> Result<(), PutError<S::Item>> {
        self.put_nowait(item)
    }

    /// Adds `item` and chooses the first getter, whose waker is returned.
    fn push_locked(inner: &mut Inner<S>, item: S::Item) -> Option<Waker> {
        inner.items.push(item);
        inner.unfinished += 1;
        inner.getters.pop_front()
    }

    /// Removes and returns an item, waiting while the queue is empty (asyncio's
    /// `await get()`).
    ///
    /// Cancel-safe: a cancelled `get` takes no item, and a wake-up it had been given goes to
    /// the next getter.
    ///
    /// # Errors
    /// [`QueueShutDown`] when the queue is shut down and empty (items left at a non-immediate
    /// shutdown are still handed out first).
    ///
    /// ```
    /// # conductor::run(async {
    /// let q = conductor::sync::Queue::new(0);
    /// q.put_nowait("x").unwrap();
    /// assert_eq!(q.get().await, Ok("x"));
    /// # });
    /// ```
    pub fn get(&self) -> Get<'_, S> {
        Get {
            queue: self,
            slot: None,
            #[cfg(feature = "tracing")]
            op: self.console_op("Queue::get"),
        }
    }

    /// Removes and returns an item if there is one.
    ///
    /// # Errors
    /// [`GetError::QueueEmpty`], or [`GetError::QueueShutDown`] when the queue is also shut
    /// down.
    ///
    /// ```
    /// use conductor::sync::{GetError, Queue};
    /// let q = Queue::<u8>::new(0);
    /// assert_eq!(q.get_nowait(), Err(GetError::QueueEmpty));
    /// q.shutdown(false);
    /// assert_eq!(q.get_nowait(), Err(GetError::QueueShutDown));
    /// ```
    pub fn get_nowait(&self) -> Result<S::Item, GetError> {
        let mut inner = lock(&self.inner);
        match inner.items.pop() {
            Some(item) => {
                let putter = inner.putters.pop_front();
                drop(inner);
                wake(putter);
                #[cfg(feature = "tracing")]
                self.report();
                Ok(item)
            }
            None if inner.shutdown => Err(GetError::QueueShutDown),
            None => Err(GetError::QueueEmpty),
        }
    }

    /// [`get_nowait`](Self::get_nowait) under the Rust convention's name for a non-blocking form.
    ///
    /// # Errors
    /// As [`get_nowait`](Self::get_nowait).
    #[inline]
    pub fn try_get(&self) -> Result<S::Item, GetError> {
        self.get_nowait()
    }

    /// Marks one item got from the queue as processed (asyncio's `task_done()`); when every
    /// item put has been marked, [`join`](Self::join) returns.
    ///
    /// # Errors
    /// [`TaskDoneTooOften`] when called more times than items were put.
    ///
    /// ```
    /// let q = conductor::sync::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.get_nowait().unwrap();
    /// assert!(q.task_done().is_ok());
    /// assert!(q.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneTooOften> {
        let mut wakers = WakeList::new();
        let mut inner = lock(&self.inner);
        if inner.unfinished == 0 {
            return Err(TaskDoneTooOften);
        }
        inner.unfinished -= 1;
        if inner.unfinished == 0 {
            inner.joiners.drain_into(&mut wakers);
        }
        drop(inner);
        wakers.wake_all();
        Ok(())
    }

    /// Waits until every item put has been marked with [`task_done`](Self::task_done)
    /// (asyncio's `await join()`); returns at once when none is unfinished.
    ///
    /// ```
    /// # conductor::run(async {
    /// let q = conductor::sync::Queue::<u8>::new(0);
    /// q.join().await; // nothing was put
    /// # });
    /// ```
    pub fn join(&self) -> Join<'_, S> {
        Join {
            queue: self,
            slot: None,
        }
    }

    /// Shuts the queue down (asyncio 3.13's `shutdown(immediate)`): puts fail from now on with
    /// [`QueueShutDown`], including those waiting; gets return the remaining items, then fail.
    /// With `immediate`, the remaining items are dropped at once (each counting as done, so
    /// [`join`](Self::join) can return) and gets fail at once.
    ///
    /// ```
    /// # conductor::run(async {
    /// let q = conductor::sync::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.shutdown(false);
    /// assert!(q.put(2).await.is_err());
    /// assert_eq!(q.get().await, Ok(1)); // drains first
    /// assert!(q.get().await.is_err());
    /// # });
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let mut wakers = WakeList::new();
        let mut inner = lock(&self.inner);
        inner.shutdown = true;
        let dropped = if immediate {
            let items = std::mem::take(&mut inner.items);
            inner.unfinished = inner.unfinished.saturating_sub(items.len());
            if inner.unfinished == 0 {
                inner.joiners.drain_into(&mut wakers);
            }
            Some(items)
        } else {
            None
        };
        // Every waiting getter and putter re-checks, and fails (or, getters, drains).
        inner.getters.drain_into(&mut wakers);
        inner.putters.drain_into(&mut wakers);
        drop(inner);
        // Items are dropped outside the lock: their destructors may use the queue.
        drop(dropped);
        wakers.wake_all();
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    ///
    /// ```
    /// let q = conductor::sync::Queue::<u8>::new(0);
    /// q.shutdown(true);
    /// assert!(q.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        lock(&self.inner).shutdown
    }

    pub(crate) fn poll_get(
        &self,
        cx: &mut Context<'_>,
        slot: &mut Option<usize>,
    ) -> Poll<Result<S::Item, QueueShutDown>> {
        if slot.is_none() {
            ready!(crate::context::poll_budget(cx));
        }
        let mut inner = lock(&self.inner);
        if let Some(key) = *slot {
            if inner.getters.is_linked(key) {
                inner.getters.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            inner.getters.remove(key);
            *slot = None;
        }
        if let Some(item) = inner.items.pop() {
            let putter = inner.putters.pop_front();
            drop(inner);
            wake(putter);
            return Poll::Ready(Ok(item));
        }
        if inner.shutdown {
            return Poll::Ready(Err(QueueShutDown(())));
        }
        // Woken but beaten to the item (or first time here): back of the line, as in asyncio.
        *slot = Some(inner.getters.push_back((), cx.waker()));
        Poll::Pending
    }

    pub(crate) fn cancel_get(&self, key: usize) {
        let mut inner = lock(&self.inner);
        let (linked, ()) = inner.getters.remove(key);
        if !linked && !inner.items.is_empty() {
            // Woken for an item but cancelled before taking it: the next getter takes it.
            let getter = inner.getters.pop_front();
            drop(inner);
            wake(getter);
        }
    }

    fn poll_put(
        &self,
        cx: &mut Context<'_>,
        item: &mut Option<S::Item>,
        slot: &mut Option<usize>,
    ) -> Poll<Result<(), QueueShutDown<S::Item>>> {
        if slot.is_none() {
            ready!(crate::context::poll_budget(cx));
        }
        let mut inner = lock(&self.inner);
        if let Some(key) = *slot {
            if inner.putters.is_linked(key) {
                inner.putters.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            inner.putters.remove(key);
            *slot = None;
        }
        let it = item.take().expect("Put polled after it completed");
        if inner.shutdown {
            return Poll::Ready(Err(QueueShutDown(it)));
        }
        if self.is_full_locked(&inner) {
            *item = Some(it);
            *slot = Some(inner.putters.push_back((), cx.waker()));
            return Poll::Pending;
        }
        let getter = Self::push_locked(&mut inner, it);
        drop(inner);
        wake(getter);
        Poll::Ready(Ok(()))
    }

    fn cancel_put(&self, key: usize) {
        let mut inner = lock(&self.inner);
        let (linked, ()) = inner.putters.remove(key);
        if !linked && !self.is_full_locked(&inner) {
            // Woken for a free slot but cancelled before using it: the next putter uses it.
            let putter = inner.putters.pop_front();
            drop(inner);
            wake(putter);
        }
    }

    fn poll_join(&self, cx: &mut Context<'_>, slot: &mut Option<usize>) -> Poll<()> {
        let mut inner = lock(&self.inner);
        if let Some(key) = *slot {
            if inner.joiners.is_linked(key) {
                inner.joiners.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            inner.joiners.remove(key);
            *slot = None;
            return Poll::Ready(());
        }
        if inner.unfinished == 0 {
            return Poll::Ready(());
        }
        *slot = Some(inner.joiners.push_back((), cx.waker()));
        Poll::Pending
    }
}

/// tokio-console's view: the `size` attribute (asyncio's `qsize()`) and an async op per `get`
/// and `put`.
#[cfg(feature = "tracing")]
impl<S: Storage> GenericQueue<S> {
    fn report_to(&self, r: &crate::console::Resource) {
        let size = self.qsize() as u64;
        crate::console::state_update!(r, size, size.op = "override");
    }

    pub(crate) fn report(&self) {
        if let Some(r) = self.console.get(|_| {}) {
            self.report_to(r);
        }
    }

    pub(crate) fn console_op(&self, source: &'static str) -> Option<Box<crate::console::AsyncOp>> {
        let r = self.console.get(|r| self.report_to(r))?;
        Some(r.boxed_op(source))
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(w) = waker {
        w.wake();
    }
}

impl<S: Storage> Default for GenericQueue<S> {
    /// An unbounded queue.
    fn default() -> Self {
        GenericQueue::new(0)
    }
}

impl<S: Storage> fmt::Debug for GenericQueue<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = lock(&self.inner);
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &inner.items.len())
            .field("getters", &inner.getters.len())
            .field("putters", &inner.putters.len())
            .field("unfinished", &inner.unfinished)
            .field("shutdown", &inner.shutdown)
            .finish()
    }
}

/// The future of [`GenericQueue::put`].
///
/// ```
/// # conductor::run(async {
/// let q = conductor::sync::Queue::new(1);
/// let put = q.put(1); // nothing happens until awaited
/// assert!(q.empty());
/// put.await.unwrap();
/// assert!(q.full());
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, S: Storage> {
    queue: &'a GenericQueue<S>,
    item: Option<S::Item>,
    slot: Option<usize>,
    #[cfg(feature = "tracing")]
    op: Option<Box<crate::console::AsyncOp>>,
}

impl<S: Storage> Unpin for Put<'_, S> {}

impl<S: Storage> Future for Put<'_, S> {
    type Output = Result<(), QueueShutDown<S::Item>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        #[cfg(feature = "tracing")]
        if let Some(op) = this.op.take() {
            // Inside the op's spans; the nested call finds no op and polls.
            let r = op.poll("poll", || Pin::new(&mut *this).poll(cx));
            if r.is_ready() {
                this.queue.report();
            }
            this.op = Some(op);
            return r;
        }
        this.queue.poll_put(cx, &mut this.item, &mut this.slot)
    }
}

impl<S: Storage> Drop for Put<'_, S> {
    fn drop(&mut self) {
        if let Some(key) = self.slot.take() {
            self.queue.cancel_put(key);
        }
    }
}

impl<S: Storage> fmt::Debug for Put<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("waiting", &self.slot.is_some())
            .finish()
    }
}

/// The future of [`GenericQueue::get`].
///
/// ```
/// # conductor::run(async {
/// let q = conductor::sync::Queue::new(0);
/// q.put_nowait("x").unwrap();
/// let get = q.get();
/// assert_eq!(get.await, Ok("x"));
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, S: Storage> {
    queue: &'a GenericQueue<S>,
    slot: Option<usize>,
    #[cfg(feature = "tracing")]
    op: Option<Box<crate::console::AsyncOp>>,
}

impl<S: Storage> Future for Get<'_, S> {
    type Output = Result<S::Item, QueueShutDown>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        #[cfg(feature = "tracing")]
        if let Some(op) = this.op.take() {
            // Inside the op's spans; the nested call finds no op and polls.
            let r = op.poll("poll", || Pin::new(&mut *this).poll(cx));
            if r.is_ready() {
                this.queue.report();
            }
            this.op = Some(op);
            return r;
        }
        let r = this.queue.poll_get(cx, &mut this.slot);
        if r.is_pending() {
            crate::trace::note(|| crate::trace::Point::new("Queue.get"));
        }
        r
    }
}

impl<S: Storage> Drop for Get<'_, S> {
    fn drop(&mut self) {
        if let Some(key) = self.slot.take() {
            self.queue.cancel_get(key);
        }
    }
}

impl<S: Storage> fmt::Debug for Get<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("waiting", &self.slot.is_some())
            .finish()
    }
}

/// The future of [`GenericQueue::join`].
///
/// ```
/// # conductor::run(async {
/// let q = conductor::sync::Queue::new(0);
/// q.put_nowait(1).unwrap();
/// q.get_nowait().unwrap();
/// q.task_done().unwrap();
/// q.join().await; // every item was marked done
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Join<'a, S: Storage> {
    queue: &'a GenericQueue<S>,
    slot: Option<usize>,
}

impl<S: Storage> Future for Join<'_, S> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.queue.poll_join(cx, &mut this.slot)
    }
}

impl<S: Storage> Drop for Join<'_, S> {
    fn drop(&mut self) {
        if let Some(key) = self.slot.take() {
            lock(&self.queue.inner).joiners.remove(key);
        }
    }
}

impl<S: Storage> fmt::Debug for Join<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("waiting", &self.slot.is_some())
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;
    use crate::sync::block_on;
    use loom::thread;

    #[test]
    fn a_put_racing_a_waiting_get_is_never_lost() {
        loom::model(|| {
            let q = Arc::new(Queue::new(1));
            let q2 = q.clone();
            let producer = thread::spawn(move || block_on(q2.put(7)).unwrap());
            assert_eq!(block_on(q.get()), Ok(7));
            producer.join().unwrap();
            assert!(q.empty());
        });
    }

    #[test]
    fn shutdown_racing_a_waiting_get_wakes_it() {
        loom::model(|| {
            let q = Arc::new(Queue::<u8>::new(0));
            let q2 = q.clone();
            let closer = thread::spawn(move || q2.shutdown(false));
            assert_eq!(block_on(q.get()), Err(QueueShutDown(())));
            closer.join().unwrap();
        });
    }
}
