//! # conductor
//!
//! Python asyncio's programming model as a Rust async runtime: one event loop per thread, with a
//! ready queue, a timer queue and an OS selector, and asyncio's toolkit on top of it.
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! async fn say_after(delay: Duration, what: &'static str) -> &'static str {
//!     conductor::sleep(delay).await;
//!     what
//! }
//!
//! conductor::run(async {
//!     let start = Instant::now();
//!     let a = conductor::spawn(say_after(Duration::from_millis(50), "hello"));
//!     let b = conductor::spawn(say_after(Duration::from_millis(50), "world"));
//!     assert_eq!((a.await.unwrap(), b.await.unwrap()), ("hello", "world"));
//!     assert!(start.elapsed() < Duration::from_millis(100)); // concurrently, not one by one
//! });
//! ```
//!
//! Where to look (see ARCHITECTURE.md for the map of the loop):
//! - [`runtime`]: the loop ([`run`], [`Runtime`], [`Handle`], `call_soon`...);
//! - [`task`]: [`spawn`], [`Task`], [`current_task`], [`all_tasks`];
//! - [`catch_cancel`] and [`Cancelled`]: cancellation with async cleanup;
//! - [`time`]: [`sleep`], [`timeout`], [`interval`];
//! - [`future`]: [`create_future`] ([`SettableFuture`], asyncio's `Future`), [`SharedTask`];
//! - [`group`]: [`gather`], [`wait`], [`as_completed`], [`shield`], [`TaskGroup`];
//! - [`sync`]: [`Lock`], [`Event`], [`Condition`], [`Semaphore`], [`Queue`], channels;
//! - [`fs`], [`process`], [`signal`]: files, subprocesses, Unix signals;
//! - [`net`] and [`streams`]: sockets, servers (one loop per core too), asyncio's streams;
//! - [`tls`] (feature `tls`): TLS on rustls, `open_connection(ssl=)`, `start_server(ssl=)`,
//!   `start_tls`;
//! - [`to_thread`]: blocking work on the thread pool; [`spawn_cpu`]: computations on the CPU pool;
//! - [`debug`]: the task dump.
#![warn(missing_docs)]

mod blocking;
mod cancel;
mod context;
pub mod debug;
pub mod fs;
pub mod future;
pub mod group;
pub mod io;
mod loom;
pub mod net;
pub mod process;
pub mod runtime;
pub mod signal;
pub mod streams;
pub mod sync;
pub mod task;
pub mod time;
#[cfg(feature = "tls")]
pub mod tls;

pub use blocking::{Blocking, spawn_blocking, spawn_cpu, to_thread};
pub use cancel::{Cancelled, CatchCancel, Reraise, catch_cancel};
pub use future::{SettableFuture, SharedTask, create_future};
pub use group::{
    AsCompleted, Gather, GatherInline, Race, ReturnWhen, Shield, TaskGroup, TaskGroupError,
    Waitable, as_completed, gather, gather_inline, gather_tasks, race, shield, task_group, wait,
};
pub use net::{open_connection, open_unix_connection, start_server, start_unix_server};
pub use runtime::{
    Builder, CallbackHandle, Handle, RemoteTask, Runtime, TimerHandle, call_at, call_later,
    call_soon, run,
};
pub use sync::{
    Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Lock, Mutex, PriorityQueue, Queue,
    Semaphore,
};
pub use task::{
    InvalidState, Outcome, Task, TaskError, TaskRef, TaskState, Value, all_tasks, current_task,
    spawn, spawn_eager, spawn_named, yield_now,
};
pub use time::{
    TimedOut, advance, interval, now, sleep, sleep_until, timeout, timeout_at, timeout_scope,
    timeout_scope_at, wait_for,
};

/// asyncio's name for [`spawn`].
pub use task::spawn as create_task;

#[cfg(feature = "macros")]
pub use conductor_macros::{main, test};

/// The README's example, run as a doctest so that it stays true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
