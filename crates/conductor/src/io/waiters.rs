//! `Waiters`: the tasks waiting for one direction (read or write) of one source.
//!
//! Two kinds of waiters, as in tokio's `ScheduledIo`:
//! - the `poll_*` methods (`AsyncRead::poll_read`, `poll_recv_from`, `poll_accept`...) have no
//!   place to keep anything between calls, so they share one slot that holds the latest
//!   caller's waker (tokio documents the same rule for its `poll_*` methods);
//! - every waiting future (`readable()`, `recv_from(..).await`, `accept().await`...) owns an
//!   entry, named by its [`WaitKey`], from its first `Pending` until it completes or is
//!   dropped. Any number of tasks can wait on one socket; a readiness event wakes them all; a
//!   future that goes away (a timeout) removes only its own entry.
//!
//! The first entry lives inline, so a source with one waiting future allocates nothing; more
//! go to a slab that keeps its capacity. A wake-up empties the whole list and starts a new
//! round: keys of earlier rounds are stale, and using one (to update or to remove) is a no-op
//! or a fresh insert, never a touch of someone else's entry. Loop thread only (`Cell`s).

use std::cell::{Cell, RefCell};
use std::task::Waker;

use slab::Slab;

/// The slot number of the inline entry.
const INLINE: usize = usize::MAX;

/// A waiting future's entry in a [`Waiters`] list: valid in the round it was made in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WaitKey {
    slot: usize,
    round: u64,
}

#[derive(Default)]
pub(crate) struct Waiters {
    /// The `poll_*` callers' shared slot.
    poll: Cell<Option<Waker>>,
    /// The first waiting future's entry (`None`: free).
    inline: Cell<Option<Waker>>,
    /// The other waiting futures' entries.
    more: RefCell<Slab<Waker>>,
    /// Counts wake-ups; a key of an earlier round is stale. 64 bits: it never wraps.
    round: Cell<u64>,
}

impl Waiters {
    /// How many wait: the waiting futures, and a `poll_*` caller (for the live view).
    pub(crate) fn waiting(&self) -> usize {
        let poll = self.poll.take();
        let inline = self.inline.take();
        let n = usize::from(poll.is_some()) + usize::from(inline.is_some());
        self.poll.set(poll);
        self.inline.set(inline);
        n + self.more.borrow().len()
    }

    /// Stores the waker of a `poll_*` call, replacing the previous caller's (a clone only when
    /// it changed).
    #[inline]
    pub(crate) fn set_poll(&self, waker: &Waker) {
        let w = match self.poll.take() {
            Some(w) if w.will_wake(waker) => w,
            _ => waker.clone(),
        };
        self.poll.set(Some(w));
    }

    /// Stores the waker of the future that owns `key`: in its entry when the key is of this
    /// round, else in a new entry whose key is written back.
    pub(crate) fn register(&self, key: &mut Option<WaitKey>, waker: &Waker) {
        let round = self.round.get();
        match *key {
            Some(k) if k.round == round => self.update(k.slot, waker),
            _ => {
                *key = Some(WaitKey {
                    slot: self.insert(waker.clone()),
                    round,
                });
            }
        }
    }

    fn update(&self, slot: usize, waker: &Waker) {
        if slot == INLINE {
            let w = match self.inline.take() {
                Some(w) if w.will_wake(waker) => w,
                _ => waker.clone(),
            };
            self.inline.set(Some(w));
        } else {
            let old = {
                let mut more = self.more.borrow_mut();
                let w = &mut more[slot];
                if w.will_wake(waker) {
                    return;
                }
                std::mem::replace(w, waker.clone())
            };
            // Dropped after the borrow ends: a waker's drop may run any code.
            drop(old);
        }
    }

    fn insert(&self, waker: Waker) -> usize {
        match self.inline.take() {
            None => {
                self.inline.set(Some(waker));
                INLINE
            }
            Some(first) => {
                self.inline.set(Some(first));
                self.more.borrow_mut().insert(waker)
            }
        }
    }

    /// Removes the entry of a future that goes away (nothing when its round has passed: the
    /// entry is already gone).
    pub(crate) fn remove(&self, key: WaitKey) {
        if key.round != self.round.get() {
            return;
        }
        let waker = if key.slot == INLINE {
            self.inline.take()
        } else {
            self.more.borrow_mut().try_remove(key.slot)
        };
        drop(waker);
    }

    /// Moves every waker (the `poll_*` slot's and every entry's) into `out` and starts a new
    /// round.
    #[inline]
    pub(crate) fn take_all(&self, out: &mut Vec<Waker>) {
        out.extend(self.poll.take());
        out.extend(self.inline.take());
        let mut more = self.more.borrow_mut();
        if !more.is_empty() {
            out.extend(more.drain());
        }
        self.round.set(self.round.get() + 1);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    fn wake_all(w: &Waiters) -> usize {
        let mut out = Vec::new();
        w.take_all(&mut out);
        let n = out.len();
        out.into_iter().for_each(Waker::wake);
        n
    }

    #[test]
    fn one_waiter_lives_inline() {
        let w = Waiters::default();
        let (_, waker) = counter();
        let mut key = None;
        w.register(&mut key, &waker);
        assert_eq!(key.unwrap().slot, INLINE);
        assert_eq!(w.more.borrow().capacity(), 0, "nothing allocated");
    }

    #[test]
    fn every_waiter_is_woken_and_a_removed_one_is_not() {
        let w = Waiters::default();
        let counters: Vec<_> = (0..5).map(|_| counter()).collect();
        let mut keys = [None; 5];
        for (key, (_, waker)) in keys.iter_mut().zip(&counters) {
            w.register(key, waker);
        }
        w.remove(keys[0].unwrap()); // the inline one goes away
        w.remove(keys[3].unwrap());
        assert_eq!(wake_all(&w), 3);
        let woken: Vec<_> = counters
            .iter()
            .map(|(c, _)| c.0.load(Ordering::SeqCst))
            .collect();
        assert_eq!(woken, [0, 1, 1, 0, 1]);
    }

    #[test]
    fn a_stale_key_neither_updates_nor_removes_another_entry() {
        let w = Waiters::default();
        let (_, a) = counter();
        let (b_count, b) = counter();
        let mut key_a = None;
        w.register(&mut key_a, &a);
        wake_all(&w); // a's round is over
        let mut key_b = None;
        w.register(&mut key_b, &b); // b takes the inline slot a had
        w.remove(key_a.unwrap());
        w.register(&mut key_a, &a); // a fresh entry, not b's
        assert_eq!(wake_all(&w), 2);
        assert_eq!(b_count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_poll_slot_keeps_the_latest_caller() {
        let w = Waiters::default();
        let (first, a) = counter();
        let (second, b) = counter();
        w.set_poll(&a);
        w.set_poll(&b);
        assert_eq!(wake_all(&w), 1);
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
