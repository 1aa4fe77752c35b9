//! How a queue orders its items: first in first out, last in first out, or smallest first.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// The container inside a [`GenericQueue`](super::GenericQueue): the counterpart of the
/// `_init`, `_put` and `_get` methods that asyncio's `PriorityQueue` and `LifoQueue` override.
/// Implement it for another order (a deduplicating queue, say).
///
/// ```
/// use conductor::sync::{GenericQueue, Storage};
///
/// /// Hands out the largest item first.
/// #[derive(Default)]
/// struct Largest(Vec<u32>);
///
/// impl Storage for Largest {
///     type Item = u32;
///     fn push(&mut self, item: u32) {
///         let at = self.0.partition_point(|&x| x < item);
///         self.0.insert(at, item);
///     }
///     fn pop(&mut self) -> Option<u32> {
///         self.0.pop()
///     }
///     fn len(&self) -> usize {
///         self.0.len()
///     }
/// }
///
/// let q: GenericQueue<Largest> = GenericQueue::new(0);
/// for x in [3, 9, 1] {
///     q.put_nowait(x).unwrap();
/// }
/// assert_eq!(q.get_nowait().unwrap(), 9);
/// ```
pub trait Storage: Default {
    /// What the queue holds.
    type Item;

    /// Adds an item (asyncio's `_put`).
    fn push(&mut self, item: Self::Item);

    /// Removes the next item (asyncio's `_get`); `None` when empty.
    fn pop(&mut self) -> Option<Self::Item>;

    /// How many items are held.
    fn len(&self) -> usize;

    /// Whether no item is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// First in, first out: the storage of [`Queue`](super::Queue).
///
/// ```
/// use conductor::sync::{Fifo, Storage};
/// let mut s = Fifo::default();
/// s.push(1);
/// s.push(2);
/// assert_eq!(s.pop(), Some(1));
/// ```
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> Storage for Fifo<T> {
    type Item = T;

    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Last in, first out: the storage of [`LifoQueue`](super::LifoQueue).
///
/// ```
/// use conductor::sync::{Lifo, Storage};
/// let mut s = Lifo::default();
/// s.push(1);
/// s.push(2);
/// assert_eq!(s.pop(), Some(2));
/// ```
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T> Storage for Lifo<T> {
    type Item = T;

    fn push(&mut self, item: T) {
        self.0.push(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Smallest first (a binary heap, as asyncio's `heapq`): the storage of
/// [`PriorityQueue`](super::PriorityQueue). Equal items come out in no particular order, as in
/// asyncio; put `(priority, sequence, item)` tuples in for a stable order.
///
/// ```
/// use conductor::sync::{Priority, Storage};
/// let mut s = Priority::default();
/// for x in [3, 1, 2] {
///     s.push(x);
/// }
/// assert_eq!(s.pop(), Some(1));
/// ```
#[derive(Debug)]
pub struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}

impl<T: Ord> Storage for Priority<T> {
    type Item = T;

    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}
