//! The queue's errors: asyncio's `QueueFull`, `QueueEmpty`, `QueueShutDown`, and the
//! `ValueError` of `task_done`.

use std::fmt;

/// The queue was shut down (asyncio 3.13's `QueueShutDown`). From [`put`] it carries the item
/// back; from [`get`], `()`: the queue is shut down and empty.
///
/// [`put`]: super::GenericQueue::put
/// [`get`]: super::GenericQueue::get
///
/// ```
/// use conductor::sync::{Queue, QueueShutDown};
/// # conductor::run(async {
/// let q = Queue::<u8>::new(0);
/// q.shutdown(false);
/// assert_eq!(q.get().await, Err(QueueShutDown(())));
/// assert_eq!(q.put(1).await, Err(QueueShutDown(1)));
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that was not put.
    ///
    /// ```
    /// let q = conductor::sync::Queue::new(0);
    /// q.shutdown(false);
    /// # conductor::run(async move {
    /// assert_eq!(q.put("x").await.unwrap_err().into_inner(), "x");
    /// # });
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is shut down: it takes no more items, and has none left to get")
    }
}

impl<T> std::error::Error for QueueShutDown<T> {}

/// Why [`put_nowait`](super::GenericQueue::put_nowait) did not put the item; the item comes
/// back.
///
/// ```
/// use conductor::sync::{PutError, Queue};
/// let q = Queue::new(1);
/// q.put_nowait('a').unwrap();
/// assert!(matches!(q.put_nowait('b'), Err(PutError::QueueFull('b'))));
/// q.shutdown(false);
/// assert!(matches!(q.put_nowait('c'), Err(PutError::QueueShutDown('c'))));
/// ```
#[doc(alias = "QueueFull")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PutError<T> {
    /// The queue holds `maxsize` items (asyncio's `QueueFull`).
    QueueFull(T),
    /// The queue was shut down (asyncio's `QueueShutDown`).
    QueueShutDown(T),
}

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// ```
    /// use conductor::sync::{PutError, Queue};
    /// let q = Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert!(matches!(q.put_nowait(2), Err(PutError::QueueFull(2))));
    /// assert_eq!(q.put_nowait(3).unwrap_err().into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::QueueFull(t) | PutError::QueueShutDown(t) => t,
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::QueueFull(_) => f.write_str("QueueFull(..)"),
            PutError::QueueShutDown(_) => f.write_str("QueueShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::QueueFull(_) => {
                f.write_str("the queue is full (await put() to wait for a free slot)")
            }
            PutError::QueueShutDown(_) => f.write_str("the queue is shut down and takes no items"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why [`get_nowait`](super::GenericQueue::get_nowait) returned no item.
///
/// ```
/// use conductor::sync::{GetError, Queue};
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.get_nowait(), Err(GetError::QueueEmpty));
/// q.shutdown(false);
/// assert_eq!(q.get_nowait(), Err(GetError::QueueShutDown));
/// ```
#[doc(alias = "QueueEmpty")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetError {
    /// No item is there (asyncio's `QueueEmpty`).
    QueueEmpty,
    /// No item is there and the queue was shut down, or it was shut down with `immediate`
    /// (asyncio's `QueueShutDown`).
    QueueShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::QueueEmpty => {
                f.write_str("the queue is empty (await get() to wait for an item)")
            }
            GetError::QueueShutDown => f.write_str("the queue is shut down and has no items left"),
        }
    }
}

impl std::error::Error for GetError {}

/// [`task_done`](super::GenericQueue::task_done) was called more times than items were put
/// (asyncio's `ValueError: task_done() called too many times`).
///
/// ```
/// let q = conductor::sync::Queue::<u8>::new(0);
/// assert_eq!(q.task_done(), Err(conductor::sync::TaskDoneTooOften));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneTooOften;

impl fmt::Display for TaskDoneTooOften {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "task_done() called too many times: call it once for each item got from the queue",
        )
    }
}

impl std::error::Error for TaskDoneTooOften {}
