//! The FIFO of waiting tasks behind every primitive's slow path, and the list of wakers to call
//! once its lock is released.
//!
//! A `WaitQueue` is a doubly linked list threaded through a slab, so it is safe code, removes a
//! cancelled waiter from the middle in O(1), and stops allocating once it has grown to the largest
//! number of waiters it has held. It lives inside a std mutex owned by the primitive.
//!
//! Each waiting future owns one slot (its key) from the moment it enqueues until it completes or
//! is dropped; nobody else frees a slot (except `remove_front`, for the permits, whose waiters
//! learn they were chosen from a ticket instead), so a key never refers to someone else's slot.
//! Whoever
//! chooses a waiter (a release, a `put`, a `notify`) *unlinks* it and takes its waker; the slot
//! stays, and "unlinked" is how the future learns, when it next runs or is dropped, that it was
//! chosen. A future dropped after it was chosen passes on what it was given.

use std::task::Waker;

use slab::Slab;

const NIL: usize = usize::MAX;

/// A FIFO of waiters, each with a value `T` (what it waits for) and its waker.
pub(crate) struct WaitQueue<T> {
    nodes: Slab<Node<T>>,
    head: usize,
    tail: usize,
    linked: usize,
}

struct Node<T> {
    prev: usize,
    next: usize,
    linked: bool,
    waker: Option<Waker>,
    value: T,
}

impl<T> WaitQueue<T> {
    pub(crate) const fn new() -> Self {
        WaitQueue {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            linked: 0,
        }
    }

    /// Enqueues a waiter at the back; returns its key.
    pub(crate) fn push_back(&mut self, value: T, waker: &Waker) -> usize {
        let key = self.nodes.insert(Node {
            prev: self.tail,
            next: NIL,
            linked: true,
            waker: Some(waker.clone()),
            value,
        });
        match self.tail {
            NIL => self.head = key,
            tail => self.nodes[tail].next = key,
        }
        self.tail = key;
        self.linked += 1;
        key
    }

    /// Whether no waiter is linked (chosen waiters whose futures have not run yet don't count).
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    /// How many waiters are linked.
    pub(crate) fn len(&self) -> usize {
        self.linked
    }

    /// The first linked waiter.
    pub(crate) fn front(&self) -> Option<usize> {
        (self.head != NIL).then_some(self.head)
    }

    /// Chooses the first linked waiter: unlinks it and returns its waker.
    pub(crate) fn pop_front(&mut self) -> Option<Waker> {
        let key = self.front()?;
        self.unlink(key);
        self.nodes[key].waker.take()
    }

    /// Removes the first linked waiter altogether, slot and all; returns its value and waker.
    /// For primitives whose waiters learn they were chosen some other way (permits: a ticket).
    pub(crate) fn remove_front(&mut self) -> Option<(T, Option<Waker>)> {
        let key = self.front()?;
        self.unlink(key);
        let node = self.nodes.remove(key);
        Some((node.value, node.waker))
    }

    /// Chooses every linked waiter, in order, putting their wakers in `wakers`.
    pub(crate) fn drain_into(&mut self, wakers: &mut WakeList) {
        while let Some(w) = self.pop_front() {
            wakers.push(w);
        }
    }

    /// Whether `key` is still waiting (not chosen yet).
    pub(crate) fn is_linked(&self, key: usize) -> bool {
        self.nodes[key].linked
    }

    pub(crate) fn value(&self, key: usize) -> &T {
        &self.nodes[key].value
    }

    /// Stores the waker to call when `key` is chosen (a clone only when it changed).
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) {
        let slot = &mut self.nodes[key].waker;
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Frees `key`'s slot (unlinking it if it is still waiting); returns whether it was still
    /// linked, and its value.
    pub(crate) fn remove(&mut self, key: usize) -> (bool, T) {
        let linked = self.nodes[key].linked;
        if linked {
            self.unlink(key);
        }
        (linked, self.nodes.remove(key).value)
    }

    fn unlink(&mut self, key: usize) {
        let (prev, next) = {
            let n = &mut self.nodes[key];
            debug_assert!(n.linked);
            n.linked = false;
            (n.prev, n.next)
        };
        match prev {
            NIL => self.head = next,
            p => self.nodes[p].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.nodes[n].prev = prev,
        }
        self.linked -= 1;
    }
}

/// Wakers collected under a primitive's lock, to be called after it is released (a waker may run
/// arbitrary code, or block on another loop's remote queue). The first few are kept inline, so
/// the usual one-waiter wake-up does not allocate.
pub(crate) struct WakeList {
    inline: [Option<Waker>; INLINE],
    len: usize,
    spill: Vec<Waker>,
}

const INLINE: usize = 8;

impl WakeList {
    pub(crate) const fn new() -> Self {
        WakeList {
            inline: [const { None }; INLINE],
            len: 0,
            spill: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        if self.len < INLINE {
            self.inline[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    pub(crate) fn push_opt(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            self.push(w);
        }
    }

    /// Calls every waker, in the order they were pushed.
    pub(crate) fn wake_all(mut self) {
        for w in self.inline.iter_mut().take(self.len) {
            if let Some(w) = w.take() {
                w.wake();
            }
        }
        for w in self.spill.drain(..) {
            w.wake();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    fn waker() -> Waker {
        Waker::from(Arc::new(Noop))
    }

    #[test]
    fn fifo_order_and_removal_from_the_middle() {
        let w = waker();
        let mut q = WaitQueue::new();
        let a = q.push_back('a', &w);
        let b = q.push_back('b', &w);
        let c = q.push_back('c', &w);
        assert_eq!(q.len(), 3);
        assert_eq!(q.remove(b), (true, 'b'));
        assert_eq!(q.front(), Some(a));
        assert!(q.pop_front().is_some());
        assert!(!q.is_linked(a), "a chosen waiter keeps its slot, unlinked");
        assert_eq!(q.front(), Some(c));
        assert!(q.pop_front().is_some());
        assert!(q.is_empty());
        assert_eq!(q.remove(a), (false, 'a'));
        assert_eq!(q.remove(c), (false, 'c'));
        // Slots are reused: no growth past the peak.
        let d = q.push_back('d', &w);
        assert!(d <= 2);
        assert_eq!(*q.value(d), 'd');
    }

    #[test]
    fn wake_list_spills_past_its_inline_part() {
        let mut list = WakeList::new();
        for _ in 0..20 {
            list.push(waker());
        }
        assert_eq!(list.len, INLINE);
        assert_eq!(list.spill.len(), 20 - INLINE);
        list.wake_all();
    }
}
