//! `Event`: asyncio's `Event`, a flag that tasks wait for.
//!
//! The state word holds `SET` and `WAITERS` (some task is in the wait queue). `WAITERS` is set
//! and cleared only under the queue's mutex; a waiter sets it in the same compare-exchange that
//! checks `SET` is still clear, so `set` either sees it (and wakes the queue) or the waiter sees
//! `SET`. `set` wakes a waiter by unlinking it, and an unlinked waiter returns even if `clear`
//! ran before it did, as in asyncio.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::wait_queue::{WaitQueue, WakeList};
use super::{const_fn, lock};
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

const SET: usize = 1;
const WAITERS: usize = 2;

/// A flag that tasks can wait for (asyncio's `Event`): [`set`](Self::set) wakes every waiting
/// task, and [`wait`](Self::wait) returns at once while the flag is set, until
/// [`clear`](Self::clear).
///
/// ```
/// use std::sync::Arc;
/// use conductor::sync::Event;
/// # conductor::run(async {
/// let event = Arc::new(Event::new());
/// let waiters: Vec<_> = (0..3)
///     .map(|i| {
///         let event = event.clone();
///         conductor::spawn(async move {
///             event.wait().await;
///             i
///         })
///     })
///     .collect();
/// conductor::yield_now().await; // they all wait
/// event.set();
/// for (i, w) in waiters.into_iter().enumerate() {
///     assert_eq!(w.await.unwrap(), i);
/// }
/// # });
/// ```
pub struct Event {
    state: AtomicUsize,
    waiters: Mutex<WaitQueue<()>>,
    /// The event as tokio-console shows it.
    #[cfg(feature = "tracing")]
    console: crate::console::LazyResource,
}

impl Event {
    const_fn! {
        /// A cleared event (`const`, so it can be a `static`).
        ///
        /// ```
        /// assert!(!conductor::sync::Event::new().is_set());
        /// ```
        #[cfg_attr(feature = "tracing", track_caller)]
        pub fn new() -> Event {
            Event {
                state: AtomicUsize::new(0),
                waiters: Mutex::new(WaitQueue::new()),
                #[cfg(feature = "tracing")]
                console: crate::console::LazyResource::new("Event"),
            }
        }
    }

    /// An event inside another primitive (a channel's): tokio-console hides it unless asked.
    pub(crate) fn internal() -> Event {
        Event {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(WaitQueue::new()),
            #[cfg(feature = "tracing")]
            console: crate::console::LazyResource::internal("Event"),
        }
    }

    /// Sets the flag and wakes every waiting task. Tasks that wait later return at once, until
    /// [`clear`](Self::clear).
    ///
    /// ```
    /// let event = conductor::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let prev = self.state.fetch_or(SET, AcqRel);
        if prev & (SET | WAITERS) == WAITERS {
            self.wake_all();
        }
        #[cfg(feature = "tracing")]
        self.report();
    }

    #[cold]
    fn wake_all(&self) {
        let mut wakers = WakeList::new();
        let mut q = lock(&self.waiters);
        q.drain_into(&mut wakers);
        self.state.fetch_and(!WAITERS, Release);
        drop(q);
        wakers.wake_all();
    }

    /// Clears the flag: later calls to [`wait`](Self::wait) wait again. Tasks already woken by
    /// [`set`](Self::set) still return (asyncio's `test_clear_with_waiters`).
    ///
    /// ```
    /// let event = conductor::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.state.fetch_and(!SET, Release);
        #[cfg(feature = "tracing")]
        self.report();
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// let event = conductor::sync::Event::new();
    /// assert!(!event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.load(Acquire) & SET != 0
    }

    /// Waits until the flag is set; returns at once if it already is (asyncio's `wait()`, which
    /// returns `True`). Cancel-safe.
    ///
    /// ```
    /// # conductor::run(async {
    /// let event = conductor::sync::Event::new();
    /// event.set();
    /// event.wait().await; // already set: no wait
    /// # });
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            slot: None,
            #[cfg(feature = "tracing")]
            op: self
                .console
                .get(|r| self.report_to(r))
                .map(|r| r.boxed_op("Event::wait")),
        }
    }

    /// tokio-console's attribute: `is_set`.
    #[cfg(feature = "tracing")]
    fn report_to(&self, r: &crate::console::Resource) {
        let is_set = self.is_set();
        crate::console::state_update!(r, is_set);
    }

    #[cfg(feature = "tracing")]
    fn report(&self) {
        if let Some(r) = self.console.get(|_| {}) {
            self.report_to(r);
        }
    }

    fn enqueue(&self, cx: &mut Context<'_>) -> Option<usize> {
        let mut q = lock(&self.waiters);
        let mut cur = self.state.load(Acquire);
        loop {
            if cur & SET != 0 {
                return None;
            }
            match self
                .state
                .compare_exchange(cur, cur | WAITERS, AcqRel, Acquire)
            {
                Ok(_) => return Some(q.push_back((), cx.waker())),
                Err(actual) => cur = actual,
            }
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

/// The future of [`Event::wait`].
///
/// ```
/// # conductor::run(async {
/// let event = conductor::sync::Event::new();
/// let wait = event.wait(); // nothing happens until awaited
/// event.set();
/// wait.await;
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a> {
    event: &'a Event,
    slot: Option<usize>,
    #[cfg(feature = "tracing")]
    op: Option<Box<crate::console::AsyncOp>>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        #[cfg(feature = "tracing")]
        if let Some(op) = this.op.take() {
            // Inside the op's spans; the nested call finds no op and polls.
            let r = op.poll("poll", || Pin::new(&mut *this).poll(cx));
            this.op = Some(op);
            return r;
        }
        let event = this.event;
        match this.slot {
            None => {
                ready!(crate::context::poll_budget(cx));
                if event.is_set() {
                    return Poll::Ready(());
                }
                match event.enqueue(cx) {
                    None => Poll::Ready(()),
                    Some(key) => {
                        this.slot = Some(key);
                        Poll::Pending
                    }
                }
            }
            Some(key) => {
                let mut q = lock(&event.waiters);
                if q.is_linked(key) {
                    q.set_waker(key, cx.waker());
                    return Poll::Pending;
                }
                q.remove(key);
                this.slot = None;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.slot.take() {
            let mut q = lock(&self.event.waiters);
            q.remove(key);
            if q.is_empty() {
                self.event.state.fetch_and(!WAITERS, Release);
            }
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
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
    fn set_racing_a_new_waiter_always_wakes_it() {
        loom::model(|| {
            let event = Arc::new(Event::new());
            let e2 = event.clone();
            let setter = thread::spawn(move || e2.set());
            block_on(event.wait()); // a lost wake-up deadlocks the model
            setter.join().unwrap();
            assert!(event.is_set());
        });
    }

    #[test]
    fn set_wakes_every_waiter() {
        loom::model(|| {
            let event = Arc::new(Event::new());
            let (e1, e2) = (event.clone(), event.clone());
            let a = thread::spawn(move || block_on(e1.wait()));
            let b = thread::spawn(move || block_on(e2.wait()));
            event.set();
            a.join().unwrap();
            b.join().unwrap();
        });
    }
}
