//! asyncpg's `Connection`: `fetch`, `fetchrow`, `fetchval`, `execute`, `executemany`,
//! `prepare`, over the statement cache, with every call cancellable on the server.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::future::{join, join_all, join3};
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSqlOwned, ToSql, Type};
use tokio_postgres::{Column, Row, Statement};

use crate::error::{Error, Result};
use crate::session::{InFlight, Session};

/// Query parameters: `&[&1i32, &"text"]`, matched to `$1`, `$2`...
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A connection to PostgreSQL (asyncpg's `Connection`).
///
/// Cheap to clone: clones share one server session, and calls from several tasks at once are
/// pipelined on it (sent without waiting for earlier replies, answered in order). `Send` and
/// `Sync`, so a handler that must be `Send` may hold one; its driver stays a task of the loop
/// that connected.
///
/// A transaction ([`transaction`](Self::transaction), `executemany`) belongs to the
/// connection, not to one handle: other tasks' calls on a shared connection run inside it.
/// Give each transaction its own connection (a pool guard) when tasks run at once.
///
/// Dropping the future of a call before it finished (the task was cancelled, a
/// `conductor::timeout` fired) cancels its query on the server, and the connection stays
/// usable: the next call does not wait behind the abandoned query.
#[derive(Clone)]
pub struct Connection {
    session: Arc<Session>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.is_closed())
            .field("in_transaction", &self.is_in_transaction())
            .finish()
    }
}

impl Connection {
    pub(crate) fn from_session(session: Arc<Session>) -> Connection {
        Connection { session }
    }

    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Runs one call: waits for queued fix-ups, arms the cancel guard, applies the command
    /// timeout.
    pub(crate) async fn call<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        let s = &self.session;
        if s.is_dirty() {
            s.settle().await;
        }
        if s.driver.is_done() {
            return Err(s.closed_error());
        }
        let guard = InFlight::new(s);
        let out = match s.command_timeout {
            None => work.await,
            Some(d) => match conductor::timeout(d, work).await {
                Ok(out) => out,
                // `guard` is dropped armed: the query is cancelled on the server.
                Err(_) => return Err(Error::TimedOut(d)),
            },
        };
        guard.finish();
        if let Err(e) = &out
            && e.is_closed()
        {
            s.mark_broken();
        }
        out
    }

    /// The prepared statement for `sql`, from the cache or prepared now (and cached).
    async fn statement(&self, sql: &str) -> Result<(Statement, bool)> {
        let s = &self.session;
        if let Some(st) = s.cache.get(sql) {
            return Ok((st, true));
        }
        let st = s.client.prepare(sql).await.map_err(|e| s.error(e))?;
        s.cache.insert(sql, st.clone());
        Ok((st, false))
    }

    /// Runs `op` with the statement for `sql`; a cached statement the server no longer
    /// accepts (the table's columns changed: "cached plan must not change result type") is
    /// prepared again and the call retried once, outside transactions (asyncpg does the same).
    async fn with_statement<'a, T, F, Fut>(&'a self, sql: &str, op: F) -> Result<T>
    where
        F: Fn(Statement) -> Fut,
        Fut: Future<Output = std::result::Result<T, tokio_postgres::Error>> + 'a,
    {
        let s = &self.session;
        let (st, cached) = self.statement(sql).await?;
        match op(st).await {
            Err(e) if cached && is_stale_statement(&e) && !self.is_in_transaction() => {
                s.cache.remove(sql);
                let (st, _) = self.statement(sql).await?;
                op(st).await.map_err(|e| s.error(e))
            }
            out => out.map_err(|e| s.error(e)),
        }
    }

    /// Every row of the result (asyncpg's `fetch`).
    ///
    /// # Errors
    /// The server's error, with its SQLSTATE ([`Error::code`]); [`Error::Closed`].
    ///
    /// ```no_run
    /// # conductor::run(async {
    /// # let conn = conductor_postgres::connect("host=127.0.0.1 user=postgres").await?;
    /// let rows = conn
    ///     .fetch("SELECT id, name FROM users WHERE active = $1", &[&true])
    ///     .await?;
    /// for row in &rows {
    ///     let id: i32 = row.get("id");
    ///     let name: &str = row.get(1);
    ///     println!("{id} {name}");
    /// }
    /// # Ok::<(), conductor_postgres::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn fetch(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let client = &self.session.client;
        self.call(self.with_statement(sql, |st| async move { client.query(&st, params).await }))
            .await
    }

    /// The first row, or `None` (asyncpg's `fetchrow`).
    ///
    /// # Errors
    /// As [`fetch`](Self::fetch).
    pub async fn fetchrow(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
        let client = &self.session.client;
        self.call(self.with_statement(sql, |st| async move {
            let rows = client.query_raw(&st, params.iter().copied()).await?;
            pin_mut!(rows);
            rows.try_next().await
        }))
        .await
    }

    /// The first column of the first row (asyncpg's `fetchval`). A NULL reads as `None` when
    /// `T` is an `Option`.
    ///
    /// # Errors
    /// [`Error::NoRows`] without a row; a conversion error when the column's type is not `T`;
    /// as [`fetch`](Self::fetch).
    pub async fn fetchval<T: FromSqlOwned>(&self, sql: &str, params: Params<'_>) -> Result<T> {
        let row = self.fetchrow(sql, params).await?.ok_or(Error::NoRows)?;
        row.try_get(0).map_err(Error::Postgres)
    }

    /// Runs a statement and returns the number of rows it affected (asyncpg's `execute` with
    /// arguments).
    ///
    /// # Errors
    /// As [`fetch`](Self::fetch).
    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64> {
        let client = &self.session.client;
        self.call(self.with_statement(sql, |st| async move { client.execute(&st, params).await }))
            .await
    }

    /// Runs one or more statements separated by `;`, without parameters, in the simple query
    /// protocol (asyncpg's `execute(script)` without arguments).
    ///
    /// # Errors
    /// The first failing statement's error (the statements after it do not run).
    pub async fn execute_script(&self, sql: &str) -> Result<()> {
        let s = &self.session;
        self.call(async { s.client.batch_execute(sql).await.map_err(|e| s.error(e)) })
            .await
    }

    /// Runs `sql` once per parameter set, pipelined, atomically: all of them or none
    /// (asyncpg's `executemany`). Outside a transaction it runs in one; inside, in a savepoint.
    ///
    /// # Errors
    /// The first failing execution's error; nothing was applied.
    pub async fn executemany<'p, I, P>(&self, sql: &str, args: I) -> Result<()>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[&'p (dyn ToSql + Sync)]>,
    {
        let args: Vec<P> = args.into_iter().collect();
        let s = &self.session;
        let (st, _) = self.call(self.statement(sql)).await?;
        let client = &s.client;
        // Every execution is sent before the first reply comes back (one future each, all
        // polled at once).
        let execs = join_all(args.iter().map(|p| client.execute(&st, p.as_ref())));
        let first_error = |results: Vec<std::result::Result<u64, tokio_postgres::Error>>| {
            results.into_iter().find_map(|r| r.err())
        };
        if !self.is_in_transaction() {
            // BEGIN, the executions and COMMIT all pipelined: COMMIT of a transaction that
            // failed rolls it back, so nothing is applied.
            return self
                .call(async {
                    let (begin, results, commit) = join3(
                        client.batch_execute("BEGIN"),
                        execs,
                        client.batch_execute("COMMIT"),
                    )
                    .await;
                    begin.map_err(|e| s.error(e))?;
                    if let Some(e) = first_error(results) {
                        return Err(s.error(e));
                    }
                    commit.map_err(|e| s.error(e))
                })
                .await;
        }
        // Inside a transaction: a savepoint, released or rolled back to once the replies are in.
        let sp = format!(
            "conductor_many_{}",
            s.savepoints.fetch_add(1, Ordering::Relaxed)
        );
        self.call(async {
            let savepoint = format!("SAVEPOINT {sp}");
            let (begin, results) = join(client.batch_execute(&savepoint), execs).await;
            begin.map_err(|e| s.error(e))?;
            let failed = first_error(results);
            let end = match failed {
                Some(_) => format!("ROLLBACK TO SAVEPOINT {sp}; RELEASE SAVEPOINT {sp}"),
                None => format!("RELEASE SAVEPOINT {sp}"),
            };
            client.batch_execute(&end).await.map_err(|e| s.error(e))?;
            failed.map_or(Ok(()), |e| Err(s.error(e)))
        })
        .await
    }

    /// Prepares a statement explicitly (asyncpg's `prepare`): its parameter and column types
    /// can be read, and it runs without a cache lookup.
    ///
    /// # Errors
    /// The server's error for SQL it cannot prepare.
    pub async fn prepare(&self, sql: &str) -> Result<PreparedStatement> {
        let (statement, _) = self.call(self.statement(sql)).await?;
        Ok(PreparedStatement {
            conn: self.clone(),
            statement,
        })
    }

    /// Closes the connection (asyncpg's `close`): the socket is closed once the driver has
    /// seen the request; calls in flight fail with [`Error::Closed`]. Other clones of this
    /// handle see the connection closed.
    pub async fn close(&self) {
        self.session.driver.close().await;
    }

    /// True once the connection is closed (by `close`, the server, or a socket error).
    pub fn is_closed(&self) -> bool {
        self.session.is_closed()
    }

    /// True inside a transaction opened by [`transaction`](Self::transaction).
    pub fn is_in_transaction(&self) -> bool {
        self.session.tx_depth.load(Ordering::Acquire) > 0
    }

    /// How many prepared statements the cache holds now.
    pub fn cached_statements(&self) -> usize {
        self.session.cache.len()
    }

    /// The cache's size (asyncpg's `statement_cache_size`).
    pub fn statement_cache_size(&self) -> usize {
        self.session.cache.capacity()
    }

    /// Drops every cached statement (asyncpg's `reload_schema_state` does this, among other
    /// things).
    pub fn clear_statement_cache(&self) {
        self.session.cache.clear();
    }

    /// tokio-postgres' client, for what this type does not wrap. Its calls bypass the
    /// cancellation guard and the statement cache.
    pub fn raw_client(&self) -> &tokio_postgres::Client {
        &self.session.client
    }
}

fn is_stale_statement(e: &tokio_postgres::Error) -> bool {
    match e.as_db_error() {
        Some(db) => {
            (db.code() == &SqlState::FEATURE_NOT_SUPPORTED
                && db
                    .message()
                    .contains("cached plan must not change result type"))
                || db.code() == &SqlState::INVALID_SQL_STATEMENT_NAME
        }
        None => false,
    }
}

/// A statement prepared with [`Connection::prepare`] (asyncpg's `PreparedStatement`).
#[derive(Clone)]
pub struct PreparedStatement {
    conn: Connection,
    statement: Statement,
}

impl std::fmt::Debug for PreparedStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedStatement")
            .field("params", &self.statement.params())
            .finish()
    }
}

impl PreparedStatement {
    /// The parameters' types (asyncpg's `get_parameters`).
    pub fn params(&self) -> &[Type] {
        self.statement.params()
    }

    /// The result's columns (asyncpg's `get_attributes`).
    pub fn columns(&self) -> &[Column] {
        self.statement.columns()
    }

    /// Every row.
    ///
    /// # Errors
    /// As [`Connection::fetch`].
    pub async fn fetch(&self, params: Params<'_>) -> Result<Vec<Row>> {
        let s = self.conn.session();
        self.conn
            .call(async {
                s.client
                    .query(&self.statement, params)
                    .await
                    .map_err(|e| s.error(e))
            })
            .await
    }

    /// The first row, or `None`.
    ///
    /// # Errors
    /// As [`Connection::fetch`].
    pub async fn fetchrow(&self, params: Params<'_>) -> Result<Option<Row>> {
        let s = self.conn.session();
        self.conn
            .call(async {
                let rows = s
                    .client
                    .query_raw(&self.statement, params.iter().copied())
                    .await
                    .map_err(|e| s.error(e))?;
                pin_mut!(rows);
                rows.try_next().await.map_err(|e| s.error(e))
            })
            .await
    }

    /// The first column of the first row.
    ///
    /// # Errors
    /// As [`Connection::fetchval`].
    pub async fn fetchval<T: FromSqlOwned>(&self, params: Params<'_>) -> Result<T> {
        let row = self.fetchrow(params).await?.ok_or(Error::NoRows)?;
        row.try_get(0).map_err(Error::Postgres)
    }

    /// Runs it and returns the number of rows affected.
    ///
    /// # Errors
    /// As [`Connection::fetch`].
    pub async fn execute(&self, params: Params<'_>) -> Result<u64> {
        let s = self.conn.session();
        self.conn
            .call(async {
                s.client
                    .execute(&self.statement, params)
                    .await
                    .map_err(|e| s.error(e))
            })
            .await
    }
}
