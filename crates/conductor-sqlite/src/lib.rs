//! SQLite for conductor: aiosqlite's role, on rusqlite with SQLite compiled in.
//!
//! ```
//! # conductor::run(async {
//! let db = conductor_sqlite::connect(":memory:").await?;
//! db.execute("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)", ()).await?;
//! db.execute("INSERT INTO users(name) VALUES (?)", ("John Doe",)).await?;
//! let mut cursor = db.cursor("SELECT id, name FROM users", ());
//! while let Some(row) = cursor.next_row().await {
//!     let row = row?;
//!     let (id, name): (i64, String) = (row.get("id")?, row.get("name")?);
//!     assert_eq!((id, name.as_str()), (1, "John Doe"));
//! }
//! db.close().await?;
//! # Ok::<(), conductor_sqlite::Error>(())
//! # }).unwrap();
//! ```
//!
//! # How it works
//! SQLite's calls block, so none runs on the event loop. Each [`Connection`] has a thread of
//! its own that owns the `rusqlite::Connection` and runs commands from a channel one at a time,
//! in the order they were sent (aiosqlite's design). A call sends a closure and awaits its reply
//! on a oneshot; the loop keeps running other tasks meanwhile. Each call is one round trip to
//! that thread (a few microseconds): many tasks calling at once keep the thread busy, and a
//! large result is better read through a cursor than row by row.
//!
//! - **Parameters** are borrowed at the call and copied into the command ([`Params`]): the
//!   returned futures borrow nothing, are `Send + 'static`, and may be dropped at any moment.
//! - **Cancellation stops the statement.** Dropping a call's future (a cancelled task, a
//!   `conductor::timeout`) skips the command if it has not started and interrupts SQLite if it
//!   runs (`SQLITE_INTERRUPT`, through a progress handler and rusqlite's `InterruptHandle`), so
//!   a runaway query does not hold the connection. aiosqlite cannot do this: its thread runs
//!   the query to the end after the task is gone.
//! - **Cursors** ([`Cursor`]) are `Stream`s fetching rows in batches; the statement stays open
//!   on the thread between batches.
//! - **Transactions** ([`Transaction`]) are guards: async `commit`/`rollback`, rolled back when
//!   dropped undecided. While one is open, other tasks' calls on that connection wait for it
//!   instead of landing inside it.
//! - **Anything else** rusqlite can do runs through [`Connection::call`].
//! - **Many tasks, one WAL file**: a [`Pool`] of read-only readers beside one writer.
//!
//! # Threads and `Send`
//! [`Connection`], [`Pool`] and [`Row`] are `Send + Sync` and cheap to clone (rows are plain
//! values); [`Cursor`] and [`Transaction`] are `Send`. The futures of the calls are
//! `Send + 'static`. None of them needs a conductor loop to be *held*; awaiting them needs only
//! a `Waker`, so they also work from a thread outside conductor (`handle.spawn` a task, or any
//! executor).
//!
//! # What each type may touch
//! `worker.rs` is the thread (the only code that touches SQLite), `command.rs` the tasks' side
//! of its channel (send, await the reply, cancel), `ops.rs` the jobs the thread runs. The public
//! types build on those three and on conductor's public API only (its `oneshot` and `Lock`).

#![forbid(unsafe_code)]

mod command;
mod connection;
mod cursor;
mod error;
mod ops;
mod params;
mod pool;
mod reply;
mod row;
mod transaction;
mod worker;

pub use connection::{Connection, Options, connect};
pub use cursor::Cursor;
pub use error::{ColumnError, Error, ErrorCode, Result};
pub use params::{Bound, Named, Params, named};
pub use pool::{Pool, create_pool};
pub use row::{ColumnIndex, Row};
pub use transaction::Transaction;

/// rusqlite, as this crate uses it: `rusqlite::params!`, its types, and the
/// `rusqlite::Connection` given to [`Connection::call`].
pub use rusqlite;
pub use rusqlite::TransactionBehavior;
pub use rusqlite::types::{FromSql, ToSql, Value, ValueRef};

/// The crate README's examples, run as doctests so that they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
