//! A WAL database served to many tasks: one writer connection beside a few read-only readers,
//! each on its own thread.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::connection::{Connection, Options};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::params::Params;
use crate::row::Row;

/// Opens a [`Pool`] on a database file: a writer (WAL on, the file created if missing) and
/// `readers` read-only connections (asyncpg's `create_pool`, for SQLite's shape: one writer at
/// a time is all SQLite allows, readers in WAL mode read beside it).
///
/// # Errors
/// [`Error::Config`] for `":memory:"` (each connection would see its own database) or zero
/// readers; otherwise as [`connect`](crate::connect).
///
/// ```
/// # conductor::run(async {
/// let dir = std::env::temp_dir().join(format!("conductor-sqlite-doc-pool-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let pool = conductor_sqlite::create_pool(dir.join("app.db"), 2).await.unwrap();
/// pool.execute("CREATE TABLE t(x)", ()).await.unwrap();
/// pool.execute("INSERT INTO t VALUES (?)", (1,)).await.unwrap();
/// let row = pool.fetch_one("SELECT count(*) FROM t", ()).await.unwrap().unwrap();
/// assert_eq!(row.get::<i64>(0).unwrap(), 1);
/// pool.close().await.unwrap();
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # });
/// ```
pub async fn create_pool(path: impl AsRef<Path>, readers: usize) -> Result<Pool> {
    Pool::open(&Options::new(path), readers).await
}

/// One writer and a few readers on one WAL database: queries go to the least busy reader,
/// writes to the writer. Connections are shared, not checked out: each call queues on its
/// connection's thread, so 1,000 tasks need no more connections than cores to keep them busy.
/// Cheap to clone, `Send` and `Sync`.
///
/// A reader sees the database as of the last commit when its query starts; a write is visible
/// to queries that start after it committed.
#[derive(Clone, Debug)]
pub struct Pool {
    inner: Arc<PoolInner>,
}

#[derive(Debug)]
struct PoolInner {
    writer: Connection,
    readers: Vec<Connection>,
    next: AtomicUsize,
}

impl Pool {
    /// Opens the writer with `options` (WAL forced on), then `readers` read-only connections
    /// with the same settings.
    ///
    /// # Errors
    /// As [`create_pool`].
    pub async fn open(options: &Options, readers: usize) -> Result<Pool> {
        if options.path().as_os_str() == ":memory:" {
            return Err(Error::Config(
                "a pool needs a database file: every connection to :memory: has a database of \
                 its own; use conductor_sqlite::connect(\":memory:\") for one connection"
                    .into(),
            ));
        }
        if readers == 0 {
            return Err(Error::Config(
                "a pool needs at least one reader; use conductor_sqlite::connect for a \
                 single connection"
                    .into(),
            ));
        }
        let writer = options.clone().wal(true).connect().await?;
        let reading = options.clone().wal(false).read_only(true);
        let mut all = Vec::with_capacity(readers);
        for _ in 0..readers {
            all.push(reading.connect().await?);
        }
        Ok(Pool {
            inner: Arc::new(PoolInner {
                writer,
                readers: all,
                next: AtomicUsize::new(0),
            }),
        })
    }

    /// The writer connection (a handle: clone of the pool's). For transactions:
    /// `let mut w = pool.writer(); let tx = w.transaction().await?;`.
    pub fn writer(&self) -> Connection {
        self.inner.writer.clone()
    }

    /// The reader with the fewest calls in flight (ties go round-robin).
    pub fn reader(&self) -> &Connection {
        let readers = &self.inner.readers;
        let start = self.inner.next.fetch_add(1, Relaxed);
        (0..readers.len())
            .map(|i| &readers[(start + i) % readers.len()])
            .min_by_key(|r| r.inner.in_flight.load(Relaxed))
            .unwrap_or(&self.inner.writer)
    }

    /// Every reader.
    pub fn readers(&self) -> &[Connection] {
        &self.inner.readers
    }

    /// [`Connection::execute`] on the writer.
    ///
    /// # Errors
    /// As there.
    pub fn execute(
        &self,
        sql: &str,
        params: impl Params,
    ) -> impl Future<Output = Result<usize>> + Send + 'static {
        self.inner.writer.execute(sql, params)
    }

    /// [`Connection::executemany`] on the writer.
    ///
    /// # Errors
    /// As there.
    pub fn executemany<P: Params>(
        &self,
        sql: &str,
        params: impl IntoIterator<Item = P>,
    ) -> impl Future<Output = Result<usize>> + Send + 'static {
        self.inner.writer.executemany(sql, params)
    }

    /// [`Connection::fetch_all`] on a reader.
    ///
    /// # Errors
    /// As there.
    pub fn fetch_all(
        &self,
        sql: &str,
        params: impl Params,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send + 'static {
        self.reader().fetch_all(sql, params)
    }

    /// [`Connection::fetch_one`] on a reader.
    ///
    /// # Errors
    /// As there.
    pub fn fetch_one(
        &self,
        sql: &str,
        params: impl Params,
    ) -> impl Future<Output = Result<Option<Row>>> + Send + 'static {
        self.reader().fetch_one(sql, params)
    }

    /// [`Connection::cursor`] on a reader.
    pub fn cursor(&self, sql: &str, params: impl Params) -> Cursor<'static> {
        self.reader().cursor(sql, params)
    }

    /// Closes the readers, then the writer (which checkpoints the WAL into the file).
    ///
    /// # Errors
    /// The first close that failed.
    pub async fn close(&self) -> Result<()> {
        let mut first = Ok(());
        for conn in self.inner.readers.iter().chain([&self.inner.writer]) {
            let closed = conn.close().await;
            if first.is_ok() {
                first = closed;
            }
        }
        first
    }
}
