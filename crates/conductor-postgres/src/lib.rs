//! PostgreSQL for conductor, in asyncpg's shape.
//!
//! ```no_run
//! # conductor::run(async {
//! let conn = conductor_postgres::connect("postgres://app@127.0.0.1/shop").await?;
//! let rows = conn
//!     .fetch("SELECT id, name FROM users WHERE active = $1", &[&true])
//!     .await?;
//! for row in &rows {
//!     let (id, name): (i32, &str) = (row.get("id"), row.get("name"));
//!     println!("{id} {name}");
//! }
//! conn.execute(
//!     "INSERT INTO users(name, email) VALUES($1, $2)",
//!     &[&"John Doe", &"john@example.com"],
//! )
//! .await?;
//! conn.close().await;
//! # Ok::<(), conductor_postgres::Error>(())
//! # }).unwrap();
//! ```
//!
//! # What is here
//! - [`connect`] and [`Config`] (`connect.rs`, `config.rs`): libpq URLs and key=value
//!   strings, several hosts tried in order, `target_session_attrs`, a connect timeout per
//!   host, TCP and Unix sockets, password/MD5/SCRAM authentication (tokio-postgres does it).
//!   TLS through conductor's rustls support (`tls.rs`), by libpq's rules: every `sslmode`
//!   but `allow`, `sslrootcert` (a PEM file or `system`), or a connector of one's own
//!   ([`Config::tls_connector`]); the query-string options tokio-postgres does not know are
//!   read in `dsn.rs`.
//! - [`Connection`] (`connection.rs`): `fetch`, `fetchrow`, `fetchval`, `execute`,
//!   `execute_script`, `executemany`, `prepare`, over a per-connection LRU statement cache
//!   (`cache.rs`); concurrent calls on one connection are pipelined.
//! - [`Transaction`] (`transaction.rs`), [`Listener`] for LISTEN/NOTIFY (`listen.rs`), COPY
//!   in and out (`copy.rs`), and the [`Pool`] (`pool/`).
//! - The driver (`driver.rs`): tokio-postgres' `Connection` future, run as a task of the
//!   loop that connected, over conductor's sockets through tokio's io traits (conductor's
//!   `tokio-io` feature; no tokio runtime is started). When it stops, every call fails with
//!   [`Error::Closed`] carrying its reason.
//! - Cancellation (`session.rs`): a call whose future is dropped before it finished (task
//!   cancelled, timeout) sends PostgreSQL's CancelRequest, and the next call on the
//!   connection does not wait behind the abandoned query.
//!
//! Rows are tokio-postgres' [`Row`]: `row.get::<_, T>("name")` or `row.get(0)`, and
//! `try_get` to get a conversion error instead of a panic. Values convert through
//! [`ToSql`] and [`FromSql`]: integers, floats, text, bytea (`Vec<u8>`, `&[u8]`), bool,
//! timestamps (`std::time::SystemTime`), uuid (`uuid::Uuid`, feature `uuid`), json/jsonb
//! (`serde_json::Value`, feature `json`), arrays (`Vec<T>`) and NULL (`Option<T>`).
//!
//! The asyncpg-to-conductor table is in `docs/asyncio-mapping.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod config;
mod connect;
mod connection;
mod copy;
mod driver;
mod dsn;
mod error;
mod listen;
mod pool;
mod session;
mod socket;
mod tls;
mod transaction;

pub use config::{
    Config, DEFAULT_CONNECT_TIMEOUT, DEFAULT_STATEMENT_CACHE_SIZE, RootCert, SslMode,
};
pub use connect::connect;
pub use connection::{Connection, Params, PreparedStatement};
pub use copy::CopyOut;
pub use error::{Error, Result};
pub use listen::Listener;
pub use pool::{ASYNCPG_RESET, Pool, PoolBuilder, PoolConnection, PoolOptions, Reset, create_pool};
pub use socket::Socket;
pub use transaction::{IsolationLevel, Transaction, TransactionOptions};

pub use tokio_postgres::config::TargetSessionAttrs;
pub use tokio_postgres::error::{DbError, SqlState};
pub use tokio_postgres::types::{FromSql, ToSql, Type};
pub use tokio_postgres::{Column, Notification, Row};

/// tokio-postgres itself, for its types and TLS traits.
pub use tokio_postgres;

/// The README's example, compiled as a doctest so that it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
