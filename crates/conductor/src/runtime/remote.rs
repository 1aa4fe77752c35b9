//! The remote queue: how other threads reach a loop.
//!
//! Foreign wakers push tasks here, and `Handle` pushes closures (`call_soon_threadsafe`, remote
//! spawns). The loop drains it once per iteration. It interrupts the selector only when the loop
//! is parked in it. Both facts live in one atomic word, `PENDING | PARKED`, changed only by
//! read-modify-write operations, so each side sees the other's latest change: a pusher sets
//! `PENDING` and unparks if `PARKED` was set; the loop sets `PARKED` and stays awake if `PENDING`
//! was set. Whichever comes second in the word's modification order sees the first, so a push is
//! never left unseen by a parked loop (the loom tests at the bottom check it). A pusher that
//! finds `PENDING` already set does not unpark: the push that set it saw the same `PARKED` (the
//! loop clears `PARKED` before it drains, and `PENDING` only when it drains) and unparked, or
//! the loop had not parked and will not block (`park` sees `PENDING`).

use crate::loom::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use std::panic::Location;

use super::exception::ExceptionContext;
use crate::loom::sync::Mutex;
use crate::task::TaskPtr;

/// Something a foreign thread asks of the loop.
pub(crate) enum Remote {
    /// A task whose remote word has `NOTIFIED` set (see `task::state`).
    Task(TaskPtr),
    /// A closure to run on the loop thread, in the order it arrived, and where it was sent
    /// from (for the report of a panic).
    Call(Box<dyn FnOnce() + Send>, &'static Location<'static>),
    /// A report for the loop's exception handler, made on another thread.
    Report(Box<ExceptionContext>),
}

/// Interrupts a loop blocked in its selector.
pub(crate) trait Unpark: Send + Sync {
    fn unpark(&self);
}

/// Items were pushed since the last drain.
const PENDING: usize = 1;
/// The loop is (about to be) blocked in its selector.
const PARKED: usize = 2;

pub(crate) struct RemoteQueue {
    inner: Mutex<Inner>,
    state: AtomicUsize,
    unpark: Box<dyn Unpark>,
}

struct Inner {
    items: Vec<Remote>,
    closed: bool,
}

impl RemoteQueue {
    pub(crate) fn new(unpark: Box<dyn Unpark>) -> Self {
        RemoteQueue {
            inner: Mutex::new(Inner {
                items: Vec::new(),
                closed: false,
            }),
            state: AtomicUsize::new(0),
            unpark,
        }
    }

    /// Queues `item`; gives it back when the loop has closed.
    pub(crate) fn push(&self, item: Remote) -> Result<(), Remote> {
        {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if inner.closed {
                return Err(item);
            }
            inner.items.push(item);
        }
        // Only the first push after the loop parked interrupts it: a later one finds `PENDING`
        // already set, so the loop has been (or, not yet parked, will not need to be) woken.
        // A burst of pushes from a worker thread then costs the loop one wake-up, not one each.
        if self.state.fetch_or(PENDING, AcqRel) & (PARKED | PENDING) == PARKED {
            self.unpark.unpark();
        }
        Ok(())
    }

    /// Whether a drain would find something (a hint: exact only on the loop thread after `park`).
    pub(crate) fn has_pending(&self) -> bool {
        self.state.load(Acquire) & PENDING != 0
    }

    /// Moves every queued item into `out`, in arrival order.
    pub(crate) fn drain_into(&self, out: &mut Vec<Remote>) {
        if !self.has_pending() {
            return;
        }
        // Cleared before taking the items: a push after this sets it again, so nothing is missed
        // (at worst the next drain finds nothing).
        self.state.fetch_and(!PENDING, AcqRel);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if out.is_empty() {
            std::mem::swap(out, &mut inner.items);
        } else {
            out.append(&mut inner.items);
        }
    }

    /// Called by the loop before it blocks. Returns false when it must not block, because an item
    /// arrived.
    pub(crate) fn park(&self) -> bool {
        if self.state.fetch_or(PARKED, AcqRel) & PENDING != 0 {
            self.unparked();
            return false;
        }
        true
    }

    /// Called by the loop after it wakes up.
    pub(crate) fn unparked(&self) {
        self.state.fetch_and(!PARKED, AcqRel);
    }

    /// Refuses every later push and returns what is still queued.
    pub(crate) fn close(&self) -> Vec<Remote> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.closed = true;
        self.state.fetch_and(!PENDING, AcqRel);
        std::mem::take(&mut inner.items)
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;
    use crate::loom::sync::atomic::Ordering::SeqCst;

    /// Stands in for the selector: blocking is a loom park, unpark a loom unpark.
    struct ThreadUnpark {
        thread: loom::thread::Thread,
        unparks: Arc<AtomicUsize>,
    }

    impl Unpark for ThreadUnpark {
        fn unpark(&self) {
            self.unparks.fetch_add(1, SeqCst);
            self.thread.unpark();
        }
    }

    #[test]
    fn a_push_always_reaches_a_parking_loop() {
        loom::model(|| {
            let unparks = Arc::new(AtomicUsize::new(0));
            let queue = Arc::new(RemoteQueue::new(Box::new(ThreadUnpark {
                thread: loom::thread::current(),
                unparks: unparks.clone(),
            })));
            let q2 = queue.clone();
            let pusher = loom::thread::spawn(move || {
                q2.push(Remote::Call(Box::new(|| {}), Location::caller()))
                    .ok()
                    .unwrap();
            });
            let mut got = Vec::new();
            while got.is_empty() {
                queue.drain_into(&mut got);
                if got.is_empty() && queue.park() {
                    // Blocks until the pusher unparks us: a lost wake-up deadlocks the model.
                    loom::thread::park();
                    queue.unparked();
                }
            }
            pusher.join().unwrap();
            assert_eq!(got.len(), 1);
        });
    }

    #[test]
    fn two_pushes_reach_a_parking_loop_with_at_most_one_unpark_each_park() {
        loom::model(|| {
            let unparks = Arc::new(AtomicUsize::new(0));
            let queue = Arc::new(RemoteQueue::new(Box::new(ThreadUnpark {
                thread: loom::thread::current(),
                unparks: unparks.clone(),
            })));
            let pushers: Vec<_> = (0..2)
                .map(|_| {
                    let q = queue.clone();
                    loom::thread::spawn(move || {
                        q.push(Remote::Call(Box::new(|| {}), Location::caller()))
                            .ok()
                            .unwrap();
                    })
                })
                .collect();
            let (mut got, mut parks) = (Vec::new(), 0);
            while got.len() < 2 {
                queue.drain_into(&mut got);
                if got.len() < 2 && queue.park() {
                    parks += 1;
                    // A push seen by neither the unpark rule nor `park` deadlocks the model.
                    loom::thread::park();
                    queue.unparked();
                }
            }
            for p in pushers {
                p.join().unwrap();
            }
            // The second push of a burst finds `PENDING` set and does not unpark again.
            assert!(unparks.load(SeqCst) <= parks);
        });
    }

    #[test]
    fn pushes_after_close_are_refused() {
        loom::model(|| {
            let queue = Arc::new(RemoteQueue::new(Box::new(ThreadUnpark {
                thread: loom::thread::current(),
                unparks: Arc::new(AtomicUsize::new(0)),
            })));
            let q2 = queue.clone();
            let pusher = loom::thread::spawn(move || {
                q2.push(Remote::Call(Box::new(|| {}), Location::caller()))
                    .is_ok()
            });
            let left = queue.close();
            let accepted = pusher.join().unwrap();
            // An accepted push is never lost: close hands it back.
            assert_eq!(accepted, left.len() == 1);
        });
    }
}
