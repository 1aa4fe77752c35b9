//! The ready queue: tasks and callbacks that run in the loop's next iteration, in FIFO order.
//!
//! One queue holds both, as in asyncio, so that a task woken before a `call_soon` runs before it.
//! An iteration runs exactly the entries that were queued when it started; whatever they queue
//! waits for the next iteration (that is what makes `yield_now` yield exactly once).

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::task::LocalRef;

/// An entry of the ready queue.
pub(crate) enum Runnable {
    /// A task to poll; the entry owns one local reference.
    Task(LocalRef),
    /// A `call_soon` callback (or a timer callback that came due).
    Callback(Rc<Callback>),
}

/// A callback and its cancellation flag, shared with the user's `CallbackHandle`/`TimerHandle`.
pub(crate) struct Callback {
    f: Cell<Option<Box<dyn FnOnce()>>>,
    cancelled: Cell<bool>,
}

impl Callback {
    pub(crate) fn new(f: Box<dyn FnOnce()>) -> Rc<Self> {
        Rc::new(Callback {
            f: Cell::new(Some(f)),
            cancelled: Cell::new(false),
        })
    }

    /// Runs the callback unless it was cancelled or already ran.
    pub(crate) fn run(&self) {
        if let Some(f) = self.f.take() {
            f();
        }
    }

    /// Cancels the callback (dropping it) unless it already ran.
    pub(crate) fn cancel(&self) {
        if let Some(f) = self.f.take() {
            self.cancelled.set(true);
            drop(f);
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }
}

#[derive(Default)]
pub(crate) struct ReadyQueue {
    queue: VecDeque<Runnable>,
}

impl ReadyQueue {
    pub(crate) fn push(&mut self, r: Runnable) {
        self.queue.push_back(r);
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn take_all(&mut self) -> VecDeque<Runnable> {
        std::mem::take(&mut self.queue)
    }

    /// Exchanges the queue with `batch` (empty), so that the loop runs what was queued while
    /// new entries collect for the next iteration.
    pub(crate) fn swap(&mut self, batch: &mut VecDeque<Runnable>) {
        std::mem::swap(&mut self.queue, batch);
    }
}
