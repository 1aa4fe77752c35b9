//! Time: the loop clock, the timer queue, and what is built on them.
//!
//! - `clock`: the loop's clock, real or paused (virtual) for tests.
//! - `wheel`: the timer queue, a hierarchical timing wheel owned by the loop.
//! - `sleep`, `timeout`, `interval`: the futures users await; `scope`: the timeout scopes with
//!   a handle (asyncio's `async with timeout(d) as cm`).
//!
//! `clock` and `wheel` are drivers: they import nothing above them (the wheel keeps a waker or
//! an opaque `Expiry`). The loop owns them (`context::Drivers`) and touches them only on its
//! thread; `sleep`, `timeout` and `interval` reach them through `context`, and `timeout` uses the
//! cancellation scopes; nothing of sync, net, fs or process.

// Only the loop clock's read of CLOCK_MONOTONIC needs `unsafe` (ARCHITECTURE.md, "Unsafe").
#![deny(unsafe_code)]

pub(crate) mod clock;
mod interval;
mod scope;
mod sleep;
pub mod testing;
mod timeout;
pub(crate) mod wheel;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use scope::{TimeoutHandle, TimeoutScope, timeout_scope, timeout_scope_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{TimedOut, Timeout, timeout, timeout_at, wait_for};

use std::time::Instant;

use crate::context;

/// The loop clock's current time (asyncio's `loop.time()`), as an `Instant`. Under a paused clock
/// it moves only with the loop; outside any loop it is `Instant::now()`.
pub fn now() -> Instant {
    context::now()
}
