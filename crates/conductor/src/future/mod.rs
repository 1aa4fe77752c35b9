//! Futures whose outcome many observers read: asyncio's `Future` ([`SettableFuture`], made by
//! [`create_future`]) and a task shared the asyncio way ([`SharedTask`], from
//! [`Task::shared`](crate::Task::shared)).
//!
//! Both keep their outcome in one state (`state`) with one list of listeners, awaiting tasks and
//! done callbacks together, told in registration order as asyncio does; `wait` is the awaiting
//! side, which also forwards the awaiting task's cancellation (asyncio's `_fut_waiter`).
//! Built on `task` and `cancel`; nothing in the engine depends on it.

// `unsafe` only in shared_task.rs and setter.rs, which allow it and say why; `forbid` would reach them too.
#![deny(unsafe_code)]

mod settable;
mod setter;
mod shared_task;
mod state;
mod wait;

pub use settable::{FutureError, FutureWait, SettableFuture, SharedError, create_future};
pub use setter::FutureSetter;
pub use shared_task::{SharedTask, SharedTaskWait};
