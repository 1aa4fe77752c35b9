//! The connection pool (asyncpg's `create_pool`): at most `max_size` connections, `min_size`
//! opened up front, handed out as guards that return the connection on drop.
//!
//! - **Acquire** takes a permit of a semaphore of `max_size` (FIFO, so waiters are served in
//!   order), then an idle connection, or opens a new one. An idle connection that is closed
//!   (the server went away), older than `max_lifetime` or idle longer than `max_idle` is
//!   discarded on the way; one idle longer than `health_check_after` is pinged first. The
//!   whole acquire is bounded by `acquire_timeout`.
//! - **Release** (the guard's drop) discards a broken connection, and otherwise queues the
//!   reset (asyncpg's `RESET ALL`, `UNLISTEN *`, `CLOSE ALL`, advisory locks released; a
//!   `ROLLBACK` first when a transaction guard was left open) on the connection itself, ahead
//!   of the next user's first query, so that reset costs no round trip of its own; then the
//!   connection goes back to the idle list before the permit is released.
//! - **Recovery** needs nothing special: after a server restart every connection's driver
//!   sees its socket end, the calls in flight fail with [`Error::Closed`], and the next
//!   acquires discard the dead connections and open new ones.
//! - **close** refuses new acquires, waits for the connections in use to come back, then
//!   closes every connection.
//!
//! The pool and its guard are `Send + Sync`, and so are the futures of `acquire` and of the
//! queries: an axum handler may hold a `Pool`. New connections are opened by a task on the
//! loop that asked for them (conductor's sockets belong to their loop).

mod guard;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conductor::sync::OwnedSemaphorePermit;
use conductor::{Event, Handle, Semaphore};
use tokio_postgres::Row;
use tokio_postgres::types::FromSqlOwned;

pub use guard::PoolConnection;

use crate::config::Config;
use crate::connection::{Connection, Params};
use crate::error::{Error, Result};

/// asyncpg's reset query (`Connection.get_reset_query`), run on release.
pub const ASYNCPG_RESET: &str =
    "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;";

/// What a released connection runs before its next user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reset {
    /// [`ASYNCPG_RESET`]: session settings, listeners, cursors and advisory locks are undone.
    Asyncpg,
    /// Nothing: the next user sees the session as the last one left it (deadpool's "fast"
    /// recycling).
    Nothing,
    /// A statement of your own (asyncpg's `reset=` override).
    Query(String),
}

/// A pool's settings (asyncpg's `create_pool` keywords).
#[derive(Debug, Clone)]
pub struct PoolOptions {
    min_size: usize,
    max_size: usize,
    acquire_timeout: Option<Duration>,
    max_idle: Option<Duration>,
    max_lifetime: Option<Duration>,
    health_check_after: Option<Duration>,
    reset: Reset,
}

impl Default for PoolOptions {
    /// asyncpg's defaults: 10 connections, opened up front; idle ones closed after 300 s; no
    /// acquire timeout; plus a ping for connections idle more than 30 s.
    fn default() -> Self {
        PoolOptions {
            min_size: 10,
            max_size: 10,
            acquire_timeout: None,
            max_idle: Some(Duration::from_secs(300)),
            max_lifetime: None,
            health_check_after: Some(Duration::from_secs(30)),
            reset: Reset::Asyncpg,
        }
    }
}

/// Builds a [`Pool`].
///
/// ```no_run
/// # conductor::run(async {
/// use std::time::Duration;
/// use conductor_postgres::Pool;
///
/// let pool = Pool::builder("postgres://app@127.0.0.1/shop".parse()?)
///     .min_size(5)
///     .max_size(20)
///     .acquire_timeout(Duration::from_secs(2))
///     .build()
///     .await?;
/// let conn = pool.acquire().await?;
/// let n: i64 = conn.fetchval("SELECT count(*) FROM users", &[]).await?;
/// drop(conn); // back to the pool
/// pool.close().await;
/// # Ok::<(), conductor_postgres::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    config: Config,
    options: PoolOptions,
}

impl PoolBuilder {
    /// Connections opened when the pool is built (asyncpg's `min_size`, default 10).
    pub fn min_size(mut self, n: usize) -> Self {
        self.options.min_size = n;
        self
    }

    /// The most connections open at once (asyncpg's `max_size`, default 10).
    pub fn max_size(mut self, n: usize) -> Self {
        self.options.max_size = n;
        self
    }

    /// How long `acquire` may wait, connecting included (none by default).
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.options.acquire_timeout = Some(d);
        self
    }

    /// Idle connections older than this are closed (asyncpg's
    /// `max_inactive_connection_lifetime`, default 300 s); `None` keeps them.
    pub fn max_idle(mut self, d: Option<Duration>) -> Self {
        self.options.max_idle = d;
        self
    }

    /// Connections older than this are closed when they come back (none by default).
    pub fn max_lifetime(mut self, d: Option<Duration>) -> Self {
        self.options.max_lifetime = d;
        self
    }

    /// A connection idle longer than this is pinged (an empty query) before it is handed out;
    /// `None` never pings (default 30 s). A closed connection is always discarded.
    pub fn health_check_after(mut self, d: Option<Duration>) -> Self {
        self.options.health_check_after = d;
        self
    }

    /// What runs on release (default [`Reset::Asyncpg`]).
    pub fn reset(mut self, reset: Reset) -> Self {
        self.options.reset = reset;
        self
    }

    /// Opens `min_size` connections and returns the pool.
    ///
    /// # Errors
    /// [`Error::Config`] when `min_size > max_size` or `max_size == 0`; a connection's error.
    pub async fn build(self) -> Result<Pool> {
        let o = &self.options;
        if o.max_size == 0 || o.min_size > o.max_size {
            return Err(Error::Config(format!(
                "pool sizes min_size={} max_size={}: need 0 <= min_size <= max_size and \
                 max_size >= 1",
                o.min_size, o.max_size
            )));
        }
        let reset = match &o.reset {
            Reset::Asyncpg => Some(ASYNCPG_RESET.to_owned()),
            Reset::Nothing => None,
            Reset::Query(q) => Some(q.clone()),
        };
        let inner = Arc::new(PoolInner {
            permits: Arc::new(Semaphore::new(o.max_size)),
            idle: Mutex::new(VecDeque::with_capacity(o.max_size)),
            size: AtomicUsize::new(0),
            in_use: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            returned: Event::new(),
            reset,
            config: self.config,
            options: self.options,
        });
        let opened = futures_util::future::join_all(
            (0..inner.options.min_size).map(|_| inner.config.connect()),
        )
        .await;
        for conn in opened {
            let conn = conn?;
            inner.size.fetch_add(1, Ordering::AcqRel);
            inner.push_idle(conn);
        }
        Ok(Pool { inner })
    }
}

/// Creates a pool with asyncpg's defaults (asyncpg's `create_pool(dsn)`).
///
/// # Errors
/// As [`PoolBuilder::build`].
pub async fn create_pool(dsn: &str) -> Result<Pool> {
    Pool::builder(Config::parse(dsn)?).build().await
}

/// A pool of connections (asyncpg's `Pool`). Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<PoolInner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("size", &self.size())
            .field("idle", &self.idle())
            .field("max_size", &self.inner.options.max_size)
            .finish()
    }
}

pub(crate) struct Idle {
    conn: Connection,
    since: Instant,
}

pub(crate) struct PoolInner {
    config: Config,
    options: PoolOptions,
    permits: Arc<Semaphore>,
    idle: Mutex<VecDeque<Idle>>,
    /// Open connections: idle, in use, or being opened.
    size: AtomicUsize,
    in_use: AtomicUsize,
    closed: AtomicBool,
    /// Set when the last connection in use comes back to a closing pool.
    returned: Event,
    reset: Option<String>,
}

impl PoolInner {
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn push_idle(&self, conn: Connection) {
        self.lock_idle().push_back(Idle {
            conn,
            since: Instant::now(),
        });
    }

    pub(crate) fn discard(&self, conn: Connection) {
        self.size.fetch_sub(1, Ordering::AcqRel);
        drop(conn);
    }

    pub(crate) fn expired(&self, conn: &Connection) -> bool {
        self.options
            .max_lifetime
            .is_some_and(|l| conn.session().created.elapsed() >= l)
    }

    /// Closes the idle connections past `max_idle` from the oldest end (the list is in
    /// release order, and acquires take the newest), so that a pool busy with its newest
    /// connections still lets the unused ones go.
    fn sweep_idle(&self) {
        let Some(max_idle) = self.options.max_idle else {
            return;
        };
        let mut expired = Vec::new();
        {
            let mut idle = self.lock_idle();
            while idle.front().is_some_and(|i| i.since.elapsed() >= max_idle) {
                expired.extend(idle.pop_front());
            }
        }
        for Idle { conn, .. } in expired {
            self.discard(conn);
        }
    }

    /// An idle connection worth handing out, discarding the dead and the expired.
    async fn take_idle(&self) -> Option<Connection> {
        self.sweep_idle();
        loop {
            let Idle { conn, since } = self.lock_idle().pop_back()?;
            let idle_for = since.elapsed();
            if conn.is_closed()
                || self.expired(&conn)
                || self.options.max_idle.is_some_and(|m| idle_for >= m)
            {
                self.discard(conn);
                continue;
            }
            if self
                .options
                .health_check_after
                .is_some_and(|h| idle_for >= h)
                && conn.execute_script("").await.is_err()
            {
                self.discard(conn);
                continue;
            }
            return Some(conn);
        }
    }

    /// Opens a connection in a task of the current loop, so that the caller's future stays
    /// `Send` (a conductor socket is not).
    async fn open(&self) -> Result<Connection> {
        self.size.fetch_add(1, Ordering::AcqRel);
        let config = self.config.clone();
        let task = Handle::current().spawn_with(move || async move { config.connect().await });
        let out = match task.await {
            Ok(out) => out,
            Err(e) => Err(Error::Connect {
                attempts: vec![format!("the connecting task failed: {e}")],
            }),
        };
        if out.is_err() {
            self.size.fetch_sub(1, Ordering::AcqRel);
        }
        out
    }

    async fn acquire(self: &Arc<Self>) -> Result<PoolConnection> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::PoolClosed);
        }
        let permit: OwnedSemaphorePermit = self.permits.clone().acquire_owned().await;
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::PoolClosed);
        }
        let conn = match self.take_idle().await {
            Some(conn) => conn,
            None => self.open().await?,
        };
        self.in_use.fetch_add(1, Ordering::AcqRel);
        Ok(PoolConnection::new(conn, self.clone(), permit))
    }

    /// Called by a guard giving back its connection.
    pub(crate) fn returned(&self) {
        if self.in_use.fetch_sub(1, Ordering::AcqRel) == 1 && self.closed.load(Ordering::Acquire) {
            self.returned.set();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn reset_sql(&self) -> Option<&str> {
        self.reset.as_deref()
    }
}

impl Pool {
    /// A builder with asyncpg's defaults for `config`.
    pub fn builder(config: Config) -> PoolBuilder {
        PoolBuilder {
            config,
            options: PoolOptions::default(),
        }
    }

    /// A connection, as a guard that gives it back on drop (asyncpg's `async with
    /// pool.acquire() as conn:`). Waits while `max_size` connections are in use.
    ///
    /// # Errors
    /// [`Error::PoolTimedOut`] after the acquire timeout; [`Error::PoolClosed`]; the error of
    /// opening a new connection.
    pub async fn acquire(&self) -> Result<PoolConnection> {
        match self.inner.options.acquire_timeout {
            None => self.inner.acquire().await,
            Some(d) => conductor::timeout(d, self.inner.acquire())
                .await
                .unwrap_or(Err(Error::PoolTimedOut(d))),
        }
    }

    /// `fetch` on a pooled connection (asyncpg's `Pool.fetch`).
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire) and [`Connection::fetch`].
    pub async fn fetch(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        self.acquire().await?.fetch(sql, params).await
    }

    /// `fetchrow` on a pooled connection.
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire) and [`Connection::fetchrow`].
    pub async fn fetchrow(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
        self.acquire().await?.fetchrow(sql, params).await
    }

    /// `fetchval` on a pooled connection.
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire) and [`Connection::fetchval`].
    pub async fn fetchval<T: FromSqlOwned>(&self, sql: &str, params: Params<'_>) -> Result<T> {
        self.acquire().await?.fetchval(sql, params).await
    }

    /// `execute` on a pooled connection.
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire) and [`Connection::execute`].
    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64> {
        self.acquire().await?.execute(sql, params).await
    }

    /// Refuses new acquires, waits until every connection in use has come back, then closes
    /// them all (asyncpg's `Pool.close`).
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        if self.inner.in_use.load(Ordering::Acquire) > 0 {
            self.inner.returned.wait().await;
        }
        let idle: Vec<Idle> = self.inner.lock_idle().drain(..).collect();
        for Idle { conn, .. } in idle {
            conn.close().await;
            self.inner.size.fetch_sub(1, Ordering::AcqRel);
        }
        // Waiters for a permit wake and see the pool closed.
        self.inner.permits.add_permits(self.inner.options.max_size);
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Open connections: idle, in use, or being opened (asyncpg's `get_size`).
    pub fn size(&self) -> usize {
        self.inner.size.load(Ordering::Acquire)
    }

    /// Idle connections (asyncpg's `get_idle_size`).
    pub fn idle(&self) -> usize {
        self.inner.lock_idle().len()
    }

    /// Connections handed out now.
    pub fn in_use(&self) -> usize {
        self.inner.in_use.load(Ordering::Acquire)
    }

    /// The most connections open at once (asyncpg's `get_max_size`).
    pub fn max_size(&self) -> usize {
        self.inner.options.max_size
    }

    /// The connections opened up front (asyncpg's `get_min_size`).
    pub fn min_size(&self) -> usize {
        self.inner.options.min_size
    }
}
