//! The ready queue: tasks and callbacks that run in the loop's next iteration, in FIFO order.
//!
//! One queue holds both, as in asyncio, so that a task woken before a `call_soon` runs before it.
//! An iteration runs exactly the entries that were queued when it started; whatever they queue
//! waits for the next iteration (that is what makes `yield_now` yield exactly once).

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::Location;
use std::ptr::NonNull;
use std::rc::Rc;

use crate::task::{LocalRef, TaskPtr};

/// An entry of the ready queue, one word wide: a task (owning one local reference) or a
/// callback (owning one `Rc` count), told apart by the low bit of the address (both are at
/// least 8-aligned).
pub(crate) struct Runnable(NonNull<u8>);

const CALLBACK: usize = 1;

/// What an entry holds, once taken out of the queue.
pub(crate) enum Entry {
    /// A task to poll.
    Task(LocalRef),
    /// A `call_soon` callback (or a timer callback that came due).
    Callback(Rc<Callback>),
}

impl Runnable {
    pub(crate) fn task(task: LocalRef) -> Self {
        let p = task.ptr().cast::<u8>();
        std::mem::forget(task);
        Runnable(p)
    }

    pub(crate) fn callback(cb: Rc<Callback>) -> Self {
        let p = Rc::into_raw(cb).cast::<u8>().cast_mut();
        // SAFETY: `Rc::into_raw` is never null, and its alignment leaves the low bit free.
        Runnable(unsafe { NonNull::new_unchecked(p.wrapping_byte_add(CALLBACK)) })
    }

    pub(crate) fn into_entry(self) -> Entry {
        let p = self.0;
        std::mem::forget(self);
        // SAFETY: `p` was made by `task` or `callback`, and `self` is forgotten, so its
        // ownership moves to the entry exactly once.
        unsafe { entry(p) }
    }
}

/// # Safety
/// `p` was made by `Runnable::task` or `Runnable::callback`, and is turned into an entry once.
unsafe fn entry(p: NonNull<u8>) -> Entry {
    if p.as_ptr() as usize & CALLBACK == 0 {
        // SAFETY: made by `task` from a `LocalRef` whose reference this entry owned; only the
        // owner thread touches the ready queue.
        Entry::Task(unsafe { LocalRef::adopt(TaskPtr::from_header(p.cast())) })
    } else {
        let raw = p.as_ptr().wrapping_byte_sub(CALLBACK).cast::<Callback>();
        // SAFETY: made by `callback` from `Rc::into_raw`; this takes that count back once.
        Entry::Callback(unsafe { Rc::from_raw(raw) })
    }
}

impl Drop for Runnable {
    fn drop(&mut self) {
        // SAFETY: an entry still in the queue owns what it points to; this is its only drop.
        drop(unsafe { entry(self.0) });
    }
}

/// A callback and its cancellation flag, shared with the user's `CallbackHandle`/`TimerHandle`.
pub(crate) struct Callback {
    f: Cell<Option<Box<dyn FnOnce()>>>,
    cancelled: Cell<bool>,
    /// Where it was scheduled, for the exception handler's report of a panic.
    at: &'static Location<'static>,
}

impl Callback {
    /// A callback scheduled by the caller (`call_soon` and the like are `#[track_caller]`).
    #[track_caller]
    pub(crate) fn new(f: Box<dyn FnOnce()>) -> Rc<Self> {
        Self::scheduled_at(f, Location::caller())
    }

    pub(crate) fn scheduled_at(f: Box<dyn FnOnce()>, at: &'static Location<'static>) -> Rc<Self> {
        Rc::new(Callback {
            f: Cell::new(Some(f)),
            cancelled: Cell::new(false),
            at,
        })
    }

    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.at
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

/// Capacity that the ready queue keeps however empty it gets.
const SHRINK_ABOVE: usize = 4096;

#[derive(Default)]
pub(crate) struct ReadyQueue {
    queue: VecDeque<Runnable>,
}

impl ReadyQueue {
    #[inline]
    pub(crate) fn push(&mut self, r: Runnable) {
        self.queue.push_back(r);
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn take_all(&mut self) -> VecDeque<Runnable> {
        std::mem::take(&mut self.queue)
    }

    /// After an iteration: a queue that a burst grew past `SHRINK_ABOVE` entries and that is
    /// now less than an eighth full gives back its memory, down to twice what it holds.
    #[inline]
    pub(crate) fn shrink(&mut self) {
        let cap = self.queue.capacity();
        if cap > SHRINK_ABOVE && self.queue.len() < cap / 8 {
            self.shrink_slow();
        }
    }

    #[cold]
    fn shrink_slow(&mut self) {
        self.queue
            .shrink_to((self.queue.len() * 2).max(SHRINK_ABOVE));
    }

    /// The oldest entry. An iteration pops only as many entries as were queued when it began
    /// (asyncio's `ntodo`); what they queue waits behind them for the next iteration.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Runnable> {
        self.queue.pop_front()
    }
}
