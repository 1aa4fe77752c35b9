//! Structured concurrency: asyncio's `gather`, `wait`, `as_completed`, `shield` and
//! `TaskGroup`.
//!
//! Every combinator here runs its children as tasks, as asyncio does, so a failing or cancelled
//! child never takes its siblings down with it unless the combinator says so. The cancellation
//! rules follow asyncio: cancelling a task that awaits `gather` or a `TaskGroup` cancels the
//! children and waits for them; `wait` and `as_completed` leave them alone; `shield` protects its
//! child. Built on `task` and `cancel`; knows nothing of the loop's internals.

mod as_completed;
mod gather;
mod gather_tuple;
mod shield;
mod task_group;
mod wait;
mod waitable;

pub use as_completed::{as_completed, AsCompleted, AsCompletedTimeout};
pub use gather::{gather, Gather, GatherError, GatherResults};
pub use gather_tuple::GatherTuple;
#[doc(hidden)]
pub use gather_tuple::{TupleShared, TupleSlot, TupleSlots};
pub use shield::{shield, Shield};
pub use task_group::{
    task_group, GroupClosed, GroupError, GroupTask, TaskGroup, TaskGroupError, TaskGroupFuture,
};
pub use wait::{wait, ReturnWhen, Wait};
pub use waitable::Waitable;
