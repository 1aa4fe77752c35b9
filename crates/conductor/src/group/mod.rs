//! Structured concurrency: asyncio's `gather`, `wait`, `as_completed`, `shield` and
//! `TaskGroup`, and `race`.
//!
//! The asyncio combinators run their children as tasks, as asyncio does, so a failing or
//! cancelled child never takes its siblings down with it unless the combinator says so, and
//! they hear of a child's end from a callback one loop iteration later, as asyncio's done
//! callbacks. `race` polls its futures in the calling task instead (`branches`), so they may
//! borrow locals. What counts as a failed child is one definition (`task::Outcome`,
//! `Waitable::has_failed`). The cancellation rules follow asyncio: cancelling a task that awaits
//! `gather` or a `TaskGroup` cancels the children and waits for them; `wait` and `as_completed`
//! leave them alone; `shield` protects its child. Built on `task` and `cancel`; knows nothing of
//! the loop's internals.

// `unsafe` only in branches.rs, which allow it and say why; `forbid` would reach them too.
#![deny(unsafe_code)]

mod as_completed;
mod branches;
mod gather;
mod gather_inline;
mod gather_tuple;
mod race;
mod shield;
mod task_group;
mod wait;
mod waitable;

pub use as_completed::{AsCompleted, AsCompletedTimeout, as_completed};
pub use gather::{ChildError, Gather, GatherResults, gather, gather_tasks};
pub use gather_inline::{GatherInline, GatherInlineResults, gather_inline};
pub use gather_tuple::GatherTuple;
#[doc(hidden)]
pub use gather_tuple::{FutureIntoSlot, SlotOf, TaskIntoSlot, TupleShared, TupleSlot, TupleSlots};
pub use race::{Race, race};
pub use shield::{Shield, shield};
pub use task_group::{
    GroupClosed, GroupIoError, GroupTask, TaskGroup, TaskGroupError, TaskGroupFuture, task_group,
};
pub use wait::{ReturnWhen, Wait, wait};
pub use waitable::Waitable;
