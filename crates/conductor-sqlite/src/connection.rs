//! Opening a connection (its thread, WAL, pragmas) and the calls on it.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use conductor::sync::oneshot;
use rusqlite::{OpenFlags, TransactionBehavior};

use crate::command::{Inner, run};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::ops;
use crate::params::{Bound, Params};
use crate::row::Row;
use crate::transaction::Transaction;
use crate::worker::{self, PROGRESS_OPS, Running};

/// Opens a connection (aiosqlite's `connect(path)`): a file, created if missing and switched to
/// WAL, or `":memory:"`. The connection gets its own thread; this returns once SQLite opened
/// the database there.
///
/// # Errors
/// [`Error::Sqlite`] when SQLite cannot open the file (`SQLITE_CANTOPEN`...),
/// [`Error::Thread`] when no thread can be started.
///
/// ```
/// # conductor::run(async {
/// let db = conductor_sqlite::connect(":memory:").await.unwrap();
/// let row = db.fetch_one("SELECT 6 * 7", ()).await.unwrap().unwrap();
/// assert_eq!(row.get::<i64>(0).unwrap(), 42);
/// # });
/// ```
pub async fn connect(path: impl AsRef<Path>) -> Result<Connection> {
    Options::new(path).connect().await
}

/// How to open a connection: [`connect`] with settings.
///
/// ```
/// use std::time::Duration;
/// # conductor::run(async {
/// let db = conductor_sqlite::Options::new(":memory:")
///     .busy_timeout(Duration::from_secs(1))
///     .pragma("foreign_keys", "ON")
///     .connect()
///     .await
///     .unwrap();
/// let row = db.fetch_one("PRAGMA foreign_keys", ()).await.unwrap().unwrap();
/// assert_eq!(row.get::<i64>(0).unwrap(), 1);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    path: PathBuf,
    wal: bool,
    read_only: bool,
    busy_timeout: Duration,
    batch_size: usize,
    cache_capacity: usize,
    pragmas: Vec<(String, String)>,
}

impl Options {
    /// Settings for `path` (a file, or `":memory:"`): read-write, created if missing, WAL for
    /// files, a 5 s busy timeout, cursors fetching 256 rows a batch, 64 cached statements.
    pub fn new(path: impl AsRef<Path>) -> Options {
        Options {
            path: path.as_ref().to_owned(),
            wal: true,
            read_only: false,
            busy_timeout: Duration::from_secs(5),
            batch_size: 256,
            cache_capacity: 64,
            pragmas: Vec::new(),
        }
    }

    /// Switch a file database to WAL (`PRAGMA journal_mode=WAL`) at open (default on): readers
    /// then read while a writer writes. Off leaves the file's journal mode as it is.
    pub fn wal(mut self, on: bool) -> Options {
        self.wal = on;
        self
    }

    /// Open read-only (`SQLITE_OPEN_READ_ONLY`): the file must exist; writes fail with
    /// `SQLITE_READONLY`.
    pub fn read_only(mut self, on: bool) -> Options {
        self.read_only = on;
        self
    }

    /// How long a statement waits for another connection's lock before `SQLITE_BUSY`.
    pub fn busy_timeout(mut self, timeout: Duration) -> Options {
        self.busy_timeout = timeout;
        self
    }

    /// Rows a [`Cursor`] fetches per trip to the connection's thread (aiosqlite's
    /// `iter_chunk_size`, 64 there). At least 1.
    pub fn batch_size(mut self, rows: usize) -> Options {
        self.batch_size = rows.max(1);
        self
    }

    /// Prepared statements kept per connection (rusqlite's statement cache, LRU).
    pub fn statement_cache_capacity(mut self, statements: usize) -> Options {
        self.cache_capacity = statements;
        self
    }

    /// A `PRAGMA name = value` run at open, after WAL (`synchronous`, `foreign_keys`...).
    pub fn pragma(mut self, name: impl Into<String>, value: impl Into<String>) -> Options {
        self.pragmas.push((name.into(), value.into()));
        self
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn in_memory(&self) -> bool {
        self.path.as_os_str() == ":memory:"
    }

    /// Opens the connection on its own thread.
    ///
    /// # Errors
    /// As [`connect`].
    pub async fn connect(&self) -> Result<Connection> {
        let (tx, rx) = mpsc::channel();
        let (ready, opened) = oneshot::channel::<Result<Arc<Running>>>();
        let options = self.clone();
        let name = match self.path.file_name() {
            Some(name) => format!("sqlite {}", name.to_string_lossy()),
            None => "sqlite".into(),
        };
        std::thread::Builder::new()
            .name(name)
            .spawn(move || match options.open() {
                Err(e) => drop(ready.send(Err(e))),
                Ok((conn, running)) => {
                    if ready.send(Ok(Arc::clone(&running))).is_ok() {
                        worker::serve(conn, rx, &running);
                    }
                }
            })
            .map_err(Error::Thread)?;
        let running = opened.await.unwrap_or(Err(Error::Closed))?;
        Ok(Connection {
            inner: Arc::new(Inner::new(tx, running, self.batch_size)),
            path: Arc::from(self.path.as_path()),
        })
    }

    /// Runs on the connection's thread.
    fn open(&self) -> Result<(rusqlite::Connection, Arc<Running>)> {
        let flags = if self.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI
        } else {
            OpenFlags::default()
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let path = self.path.to_string_lossy();
        let at = |e| Error::from_rusqlite(e, None).opening(&path);
        let conn = if self.in_memory() {
            rusqlite::Connection::open_in_memory_with_flags(flags)
        } else {
            rusqlite::Connection::open_with_flags(&self.path, flags)
        }
        .map_err(at)?;
        conn.busy_timeout(self.busy_timeout).map_err(at)?;
        conn.set_prepared_statement_cache_capacity(self.cache_capacity);
        if self.wal && !self.read_only && !self.in_memory() {
            let mode: String = conn
                .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
                .map_err(at)?;
            debug_assert_eq!(mode, "wal");
        }
        for (name, value) in &self.pragmas {
            let sql = format!("PRAGMA {name} = {value}");
            let mut stmt = conn.prepare(&sql).map_err(at)?;
            let mut rows = stmt.raw_query();
            while rows.next().map_err(at)?.is_some() {}
        }
        let running = Arc::new(Running::new(&conn));
        let handler = Arc::clone(&running);
        conn.progress_handler(
            PROGRESS_OPS,
            Some(move || {
                // A long read-only statement: the replies held behind it go now.
                crate::reply::flush_if_due();
                handler.cancelled()
            }),
        )
        .map_err(at)?;
        Ok((conn, running))
    }
}

/// A connection to a database, served by its own thread. Cheap to clone: every clone is a
/// handle to the same connection (as aiosqlite's connection object is shared by tasks). `Send`
/// and `Sync`, and so are the futures of its calls (`'static`: they can be spawned), so it can
/// be held by handlers that must be `Send`.
///
/// Calls queue on the thread in the order they were made and run one at a time. Each takes its
/// parameters by reference and copies them (see [`Params`]). Dropping a call's future (a
/// cancelled task, a timeout) stops its statement: a query that has not started is skipped, one
/// that runs is interrupted (`SQLITE_INTERRUPT`), and the connection goes on with the next call.
///
/// Statements commit on their own (SQLite's autocommit) unless inside a
/// [`transaction`](Connection::transaction).
///
/// The thread ends, and SQLite closes the database, when [`close`](Connection::close) is called
/// or the last handle, cursor and pending call are gone.
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Arc<Inner>,
    path: Arc<Path>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Binds parameters at the call, so that the returned future borrows nothing.
fn bound(params: impl Params) -> Result<Bound> {
    params.bind()
}

impl Connection {
    /// The path it was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs one statement and returns how many rows it changed (0 for a query, whose rows are
    /// stepped through and dropped). aiosqlite's `await db.execute(sql, params)`.
    ///
    /// # Errors
    /// [`Error::Sqlite`] with SQLite's code, message and the SQL.
    ///
    /// ```
    /// # conductor::run(async {
    /// let db = conductor_sqlite::connect(":memory:").await.unwrap();
    /// db.execute("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)", ()).await.unwrap();
    /// let n = db.execute("INSERT INTO users(name) VALUES (?)", ("John Doe",)).await.unwrap();
    /// assert_eq!(n, 1);
    /// let err = db.execute("INSERT INTO users(id) VALUES (1)", ()).await.unwrap_err();
    /// assert_eq!(err.code(), Some(rusqlite::ErrorCode::ConstraintViolation));
    /// assert!(err.to_string().contains("UNIQUE constraint failed: users.id"));
    /// # });
    /// ```
    pub fn execute(
        &self,
        sql: &str,
        params: impl Params,
    ) -> impl Future<Output = Result<usize>> + Send + 'static {
        let (inner, sql, params) = (self.inner.clone(), sql.to_owned(), bound(params));
        async move { run(inner, true, ops::execute(sql, params?)).await }
    }

    /// Runs one statement once per parameter set, through one prepared statement, inside a
    /// savepoint: every row applies or none does. Returns the rows changed in all. aiosqlite's
    /// `executemany`.
    ///
    /// # Errors
    /// The first failing row's error; the rows before it are rolled back.
    ///
    /// ```
    /// # conductor::run(async {
    /// let db = conductor_sqlite::connect(":memory:").await.unwrap();
    /// db.execute("CREATE TABLE t(x INTEGER UNIQUE)", ()).await.unwrap();
    /// assert_eq!(db.executemany("INSERT INTO t VALUES (?)", (0..3).map(|x| (x,))).await.unwrap(), 3);
    /// assert!(db.executemany("INSERT INTO t VALUES (?)", [(7,), (1,)]).await.is_err());
    /// let n = db.fetch_one("SELECT count(*) FROM t", ()).await.unwrap().unwrap();
    /// assert_eq!(n.get::<i64>(0).unwrap(), 3); // 7 was rolled back with the failing 1
    /// # });
    /// ```
    pub fn executemany<P: Params>(
        &self,
        sql: &str,
        params: impl IntoIterator<Item = P>,
    ) -> impl Future<Output = Result<usize>> + Send + 'static {
        let inner = self.inner.clone();
        let sql = sql.to_owned();
        let params: Result<Vec<Bound>> = params.into_iter().map(bound).collect();
        async move {
            let op = ops::execute_many(sql, params?, inner.running.clone());
            run(inner, true, op).await
        }
    }

    /// Runs several statements separated by `;`, without parameters (aiosqlite's
    /// `executescript`).
    ///
    /// # Errors
    /// The first failing statement's error.
    pub fn execute_batch(
        &self,
        sql: &str,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        let (inner, sql) = (self.inner.clone(), sql.to_owned());
        async move { run(inner, true, ops::execute_batch(sql)).await }
    }

    /// Every row of a query (aiosqlite's `execute_fetchall`, or `fetchall()` on its cursor).
    ///
    /// # Errors
    /// [`Error::Sqlite`] with the SQL.
    ///
    /// ```
    /// # conductor::run(async {
    /// let db = conductor_sqlite::connect(":memory:").await.unwrap();
    /// let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3)
    ///            SELECT x FROM c";
    /// let rows = db.fetch_all(sql, ()).await;
    /// let values: Vec<i64> = rows.unwrap().iter().map(|r| r.get(0).unwrap()).collect();
    /// assert_eq!(values, [1, 2, 3]);
    /// # });
    /// ```
    pub fn fetch_all(
        &self,
        sql: &str,
        params: impl Params,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send + 'static {
        let (inner, sql, params) = (self.inner.clone(), sql.to_owned(), bound(params));
        async move { run(inner, true, ops::fetch_all(sql, params?)).await }
    }

    /// The first row of a query, or `None` (aiosqlite's `fetchone()`).
    ///
    /// # Errors
    /// [`Error::Sqlite`] with the SQL.
    ///
    /// ```
    /// # conductor::run(async {
    /// let db = conductor_sqlite::connect(":memory:").await.unwrap();
    /// assert!(db.fetch_one("SELECT 1 WHERE 0", ()).await.unwrap().is_none());
    /// # });
    /// ```
    pub fn fetch_one(
        &self,
        sql: &str,
        params: impl Params,
    ) -> impl Future<Output = Result<Option<Row>>> + Send + 'static {
        let (inner, sql, params) = (self.inner.clone(), sql.to_owned(), bound(params));
        async move { run(inner, true, ops::fetch_one(sql, params?)).await }
    }

    /// A cursor over a query's rows: a `Stream` fetching them in batches (aiosqlite's
    /// `async with db.execute(sql) as cursor: async for row in cursor`). Nothing is sent until
    /// it is first polled.
    ///
    /// ```
    /// # conductor::run(async {
    /// let db = conductor_sqlite::connect(":memory:").await.unwrap();
    /// let mut cursor = db.cursor("SELECT 1 UNION ALL SELECT 2", ());
    /// let mut sum = 0;
    /// while let Some(row) = cursor.next_row().await {
    ///     sum += row.unwrap().get::<i64>(0).unwrap();
    /// }
    /// assert_eq!(sum, 3);
    /// # });
    /// ```
    pub fn cursor(&self, sql: &str, params: impl Params) -> Cursor<'static> {
        Cursor::new(self.inner.clone(), true, sql.to_owned(), bound(params))
    }

    /// Runs `f` on the connection's thread with the `rusqlite::Connection`, for anything
    /// rusqlite can do (user functions, blobs, backups, pragmas...). Shares the connection with
    /// open cursors, hence `&`; rusqlite's `unchecked_transaction` works on it. Dropping the
    /// future interrupts the statements `f` runs; a panic in `f` comes back as
    /// [`Error::Panicked`] and the connection stays usable.
    ///
    /// # Errors
    /// What `f` returns, or [`Error::Panicked`].
    ///
    /// ```
    /// # conductor::run(async {
    /// let db = conductor_sqlite::connect(":memory:").await.unwrap();
    /// let version: String = db
    ///     .call(|conn| conn.query_row("SELECT sqlite_version()", [], |row| row.get(0)))
    ///     .await
    ///     .unwrap();
    /// assert!(version.starts_with('3'));
    /// # });
    /// ```
    pub fn call<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send + 'static + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        async move {
            run(inner, true, move |conn, _| {
                crate::reply::flush(); // the closure may take long: nothing waits behind it
                f(conn).map_err(Error::from)
            })
            .await
        }
    }

    /// [`call`](Connection::call) with `&mut rusqlite::Connection`, for what needs it (rusqlite's
    /// `transaction()`, a backup's destination).
    ///
    /// # Errors
    /// [`Error::CursorsOpen`] while a cursor of this connection is open (its statement borrows
    /// the connection); otherwise as `call`.
    ///
    /// ```
    /// # conductor::run(async {
    /// let db = conductor_sqlite::connect(":memory:").await.unwrap();
    /// db.execute("CREATE TABLE t(x)", ()).await.unwrap();
    /// db.call_mut(|conn| {
    ///     let tx = conn.transaction()?;
    ///     tx.execute("INSERT INTO t VALUES (1)", [])?;
    ///     tx.commit()
    /// })
    /// .await
    /// .unwrap();
    /// # });
    /// ```
    pub fn call_mut<T, F>(
        &self,
        f: F,
    ) -> impl Future<Output = Result<T>> + Send + 'static + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        async move {
            let pending = {
                let _guard = inner.lock.acquire().await;
                inner.submit_exclusive(move |conn| f(conn).map_err(Error::from))?
            };
            pending.await
        }
    }

    /// Begins a transaction (`BEGIN DEFERRED`) and returns its guard: commit it with
    /// [`Transaction::commit`]; dropped without commit, it rolls back. While it lives, other
    /// tasks' calls on this connection wait (they would otherwise land inside it).
    ///
    /// # Errors
    /// [`Error::Sqlite`] if `BEGIN` fails (a transaction begun by hand is already open).
    ///
    /// ```
    /// # conductor::run(async {
    /// let mut db = conductor_sqlite::connect(":memory:").await.unwrap();
    /// db.execute("CREATE TABLE t(x)", ()).await.unwrap();
    /// {
    ///     let tx = db.transaction().await.unwrap();
    ///     tx.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    /// } // dropped: rolled back
    /// let tx = db.transaction().await.unwrap();
    /// tx.execute("INSERT INTO t VALUES (2)", ()).await.unwrap();
    /// tx.commit().await.unwrap();
    /// let rows = db.fetch_all("SELECT x FROM t", ()).await.unwrap();
    /// assert_eq!(rows.len(), 1);
    /// assert_eq!(rows[0].get::<i64>("x").unwrap(), 2);
    /// # });
    /// ```
    pub async fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.transaction_with(TransactionBehavior::Deferred).await
    }

    /// [`transaction`](Connection::transaction) with `BEGIN IMMEDIATE` or `EXCLUSIVE`: the write
    /// lock is taken at once, so a later write cannot fail with `SQLITE_BUSY`.
    ///
    /// # Errors
    /// As `transaction`, and `SQLITE_BUSY` when another connection holds the write lock past
    /// the busy timeout.
    pub async fn transaction_with(
        &mut self,
        behavior: TransactionBehavior,
    ) -> Result<Transaction<'_>> {
        Transaction::begin(&self.inner, behavior).await
    }

    /// Commits the transaction open on the connection, if any (Python's `await db.commit()`;
    /// a no-op without one, as there). Only needed after a `BEGIN` run by hand: statements
    /// commit on their own, and a [`Transaction`] commits itself.
    ///
    /// # Errors
    /// [`Error::Sqlite`] if `COMMIT` fails; the transaction then stays open, as in Python.
    pub fn commit(&self) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        let inner = self.inner.clone();
        async move { run(inner, true, ops::end_transaction(true, false)).await }
    }

    /// Rolls back the transaction open on the connection, if any (Python's `rollback()`).
    ///
    /// # Errors
    /// [`Error::Sqlite`] if `ROLLBACK` fails.
    pub fn rollback(&self) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        let inner = self.inner.clone();
        async move { run(inner, true, ops::end_transaction(false, false)).await }
    }

    /// Closes the connection for every handle, after the calls already queued (aiosqlite's
    /// `close()`; `async with connect(...)` calls it on exit). Later calls fail with
    /// [`Error::Closed`]; closing twice is a no-op.
    ///
    /// # Errors
    /// What `sqlite3_close` reports.
    pub async fn close(&self) -> Result<()> {
        let pending = {
            let _guard = self.inner.lock.acquire().await;
            match self.inner.submit_close() {
                Ok(pending) => pending,
                Err(_) => return Ok(()),
            }
        };
        match pending.await {
            Err(Error::Closed) => Ok(()),
            other => other,
        }
    }

    /// Whether this handle and `other` are the same connection.
    pub fn same(&self, other: &Connection) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Error {
    fn opening(self, path: &str) -> Error {
        match self {
            Error::Sqlite {
                code,
                extended_code,
                message,
                ..
            } => Error::Sqlite {
                code,
                extended_code,
                message: format!("{message} (opening {path})"),
                sql: None,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn handles_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::Connection>();
        send_sync::<crate::Row>();
        send_sync::<crate::Pool>();
    }
}
