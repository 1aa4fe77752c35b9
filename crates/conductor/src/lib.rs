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
//!     let a = conductor::spawn(say_after(Duration::from_millis(500), "hello"));
//!     let b = conductor::spawn(say_after(Duration::from_millis(500), "world"));
//!     assert_eq!((a.await.unwrap(), b.await.unwrap()), ("hello", "world"));
//!     assert!(start.elapsed() < Duration::from_secs(1)); // concurrently: one by one takes 1 s
//! });
//! ```
//!
//! Every concern is a public module; the crate root re-exports what a newcomer reaches for
//! first (the names of asyncio's top level: `run`, `spawn`/`create_task`, `sleep`, `gather`,
//! `Lock`, `Queue`...), so `conductor::X` works for those and `conductor::concern::X` for
//! everything. Where to look (see ARCHITECTURE.md for the map of the loop):
//! - [`runtime`]: the loop ([`run`], [`Runtime`], [`Handle`], `call_soon`...);
//! - [`task`]: [`spawn`], [`Task`], [`current_task`], [`all_tasks`];
//! - [`cancel`]: [`catch_cancel`] and [`Cancelled`], cancellation with async cleanup;
//! - [`time`]: [`sleep`], [`timeout`], [`interval`]; [`time::testing`] for tests that move a
//!   paused clock by hand;
//! - [`future`]: [`create_future`] ([`SettableFuture`], asyncio's `Future`), [`SharedTask`];
//! - [`group`]: [`gather`], [`wait`], [`as_completed`], [`shield`], [`TaskGroup`];
//! - [`sync`]: [`Lock`], [`Event`], [`Condition`], [`Semaphore`], [`Queue`], channels;
//! - [`blocking`]: [`to_thread`], blocking work on the thread pool; [`spawn_cpu`], computations
//!   on the CPU pool;
//! - [`fs`], [`process`], [`signal`]: files, subprocesses, Unix signals;
//! - [`net`] and [`streams`]: sockets, servers (one loop per core too), asyncio's streams;
//! - [`io`]: [`io::AsyncFd`], waiting on descriptors of one's own;
//! - [`tls`] (feature `tls`): TLS on rustls, `open_connection(ssl=)`, `start_server(ssl=)`,
//!   `start_tls`;
//! - [`debug`]: the task dump.
//!
//! Feature `tracing`: tokio-console shows conductor's tasks and timers (run the program with
//! console-subscriber; README.md, "tokio-console").
//!
//! Names follow one rule (docs/asyncio-mapping.md, "Naming"): asyncio's name where a Python user
//! looks for it (`Lock::locked`, `Queue::qsize`, `Queue::get_nowait`, `Task::cancelled`), with
//! the Rust convention's name beside it where that differs (`is_locked`, `len`, `try_get`,
//! `is_cancelled`); `try_` for the non-blocking forms asyncio does not have.
#![warn(missing_docs)]
// Every module that needs no unsafe says so with `#![forbid(unsafe_code)]` at its top; the
// others keep theirs to the few files that need it (ARCHITECTURE.md, "Unsafe").

pub mod blocking;
pub mod cancel;
#[cfg(feature = "tracing")]
mod console;
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
mod trace;

// The prelude: asyncio's top-level names and the types they return.

// Running a loop (asyncio.run, the loop's call_soon/call_later/call_at).
pub use runtime::{
    Builder, CallbackHandle, Handle, RemoteTask, Runtime, TimerHandle, call_at, call_later,
    call_soon, run,
};
// Tasks (create_task, current_task, all_tasks) and what awaiting one gives.
/// asyncio's name for [`spawn`].
pub use task::spawn as create_task;
pub use task::{
    InvalidState, Outcome, Task, TaskError, TaskRef, TaskState, Value, all_tasks, current_task,
    spawn, spawn_eager, spawn_named, yield_now,
};
// Cancellation with cleanup (except CancelledError:).
pub use cancel::{Cancelled, CatchCancel, Reraise, catch_cancel};
// Time (sleep, timeout, wait_for).
pub use time::{
    TimedOut, interval, now, sleep, sleep_until, timeout, timeout_at, timeout_scope,
    timeout_scope_at, wait_for,
};
// Futures and combinators (Future, gather, wait, as_completed, shield, TaskGroup).
pub use future::{SettableFuture, SharedTask, create_future};
pub use group::{
    AsCompleted, Gather, GatherInline, Race, ReturnWhen, Shield, TaskGroup, TaskGroupError,
    Waitable, as_completed, gather, gather_inline, gather_tasks, race, shield, task_group, wait,
};
// Synchronization primitives and queues.
pub use sync::{
    Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Lock, Mutex, PriorityQueue, Queue,
    Semaphore,
};
// Streams (open_connection, start_server).
pub use net::{open_connection, open_unix_connection, start_server, start_unix_server};
// Work off the loop (to_thread, run_in_executor).
pub use blocking::{Blocking, spawn_blocking, spawn_cpu, to_thread};

#[cfg(feature = "macros")]
pub use conductor_macros::{main, test};

/// The README's example, run as a doctest so that it stays true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
