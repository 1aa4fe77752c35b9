//! Synchronization between tasks: asyncio's primitives ([`Lock`], [`Event`], [`Condition`],
//! [`Semaphore`], [`BoundedSemaphore`], [`Barrier`]) and queues ([`Queue`], [`PriorityQueue`],
//! [`LifoQueue`]), a data-carrying [`Mutex`], and the channels Rust programs expect
//! ([`oneshot`], [`mpsc`], [`broadcast`], [`watch`]).
//!
//! asyncio's semantics, Rust's ownership: `async with lock:` is a guard that releases on drop,
//! exceptions are error values (`QueueFull`, `QueueShutDown`, `BrokenBarrierError`...), and a
//! cancelled task, whose future is dropped at its suspension point, gives back everything it held
//! or was about to be given. The asyncio-to-conductor table is in `docs/asyncio-mapping.md`.
//!
//! # What they may touch
//! Only `std::task::Waker`, the std (or, under `--cfg loom`, loom) atomics and mutex of
//! `crate::loom`, and the loop's cooperative budget (`runtime::budget::poll_proceed`), which
//! outside a conductor loop always proceeds; and, with the feature `tracing`, the leaf
//! `crate::console` (what tokio-console shows of them) and debug mode's `crate::trace` notes.
//! Nothing else of the engine: they work on any executor, and unlike asyncio's they are `Send + Sync`, so tasks of different loops (one loop
//! per core) may share them.
//!
//! # Invariants they all keep
//! - **FIFO waiters.** Each primitive keeps its waiting tasks in a [`WaitQueue`]
//!   (`wait_queue.rs`): a linked list in a slab, behind a std mutex that is held for a few
//!   instructions, never across an `.await` and never while calling a waker.
//! - **Chosen means unlinked.** Whoever wakes a waiter (a release, a put, a notify, a set)
//!   unlinks it and, where something is handed over, hands it over first: the permits of a lock or
//!   semaphore leave the counter before the waiter is woken. So a newcomer cannot take what a woken
//!   waiter was given, even before that waiter runs.
//! - **Cancellation is never lossy.** A waiting future dropped after it was chosen passes what it
//!   got on: permits to the next waiter, a queue wake-up to the next getter or putter, a
//!   notification to the next condition waiter. Guards release in `Drop`.
//! - **Cheap when uncontended.** Acquiring a free lock or semaphore is one compare-exchange, and
//!   releasing it one `fetch_add`; setting an event without waiters is one `fetch_or`; sending on
//!   a oneshot is one `fetch_add`. None allocates. The queues and the multi-producer
//!   channels take their mutex once per operation.
//! - **Fair to the loop.** Operations that can complete at once (acquire, get, recv, wait)
//!   spend the task's cooperative budget first, so a task looping on a ready queue still yields.
//!
//! [`WaitQueue`]: wait_queue

// `unsafe` only in mutex.rs and oneshot.rs, which allow it and say why; `forbid` would reach them too.
#![deny(unsafe_code)]

mod barrier;
mod bounded_semaphore;
mod condition;
mod error;
mod event;
mod lock;
mod mutex;
mod permits;
mod queue;
mod semaphore;
mod wait_queue;

pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BrokenBarrierError};
pub use bounded_semaphore::{BoundedSemaphore, TooManyReleases};
pub use condition::{Condition, ConditionGuard, ConditionWait};
pub use error::{RecvError, SendError, TryRecvError, TrySendError};
pub use event::{Event, EventWait};
pub use lock::{Lock, LockGuard, OwnedLockGuard};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard};
pub use permits::TryAcquireError;
pub use queue::{
    Fifo, GenericQueue, Get, GetError, Join, Lifo, LifoQueue, Priority, PriorityQueue, Put,
    PutError, Queue, QueueShutDown, Storage, TaskDoneTooOften,
};
pub use semaphore::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

use std::ops::DerefMut;

use crate::loom::sync::Mutex as StdMutex;

/// Locks a primitive's internal mutex. Poisoning is ignored: no user code runs while it is held
/// except `Waker::clone`/`will_wake` and a queue storage's methods, and the state stays
/// consistent across a panic in those.
fn lock<T>(mutex: &StdMutex<T>) -> impl DerefMut<Target = T> + '_ {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Declares a `const fn`, except under loom, whose atomics and mutex have no `const`
/// constructors.
macro_rules! const_fn {
    ($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty $body:block) => {
        #[cfg(not(loom))]
        $(#[$attr])*
        $vis const fn $name($($arg: $ty),*) -> $ret $body

        #[cfg(loom)]
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) -> $ret $body
    };
}
use const_fn;

/// Drives `future` to its end on this (pool or plain) thread, parking between polls. For
/// futures that complete by themselves, from other threads: a pool job's result, an io_uring
/// completion.
#[cfg(not(all(test, loom)))]
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// `block_on` for the loom models: parks the loom thread until its waker unparks it, so that a
/// lost wake-up shows up as a deadlock of the model.
#[cfg(all(test, loom))]
mod loom_block_on {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Wake, Waker};

    struct Unparker(loom::thread::Thread);

    impl Wake for Unparker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }

    pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
        let waker = Waker::from(std::sync::Arc::new(Unparker(loom::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            loom::thread::park();
        }
    }
}
#[cfg(all(test, loom))]
pub(crate) use loom_block_on::block_on;
