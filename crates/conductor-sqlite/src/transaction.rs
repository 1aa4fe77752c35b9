//! The transaction guard: `BEGIN` at creation, an async `commit`/`rollback`, and a rollback
//! when it is dropped undecided (a task cancelled inside it, an early `?`).

use std::future::Future;
use std::sync::Arc;

use conductor::sync::LockGuard;
use rusqlite::TransactionBehavior;

use crate::command::{Inner, OnDrop, run};
use crate::cursor::Cursor;
use crate::error::Result;
use crate::ops;
use crate::params::{Bound, Params};
use crate::row::Row;
use crate::worker::shared;

/// An open transaction on a [`Connection`](crate::Connection), from
/// [`Connection::transaction`](crate::Connection::transaction). Its calls are the
/// connection's; other tasks' calls on the connection wait until it ends (it holds the
/// connection's lock), so nothing of theirs lands inside it. It borrows the handle it came from
/// mutably: that handle cannot be used beside it (it would wait for the transaction's own lock).
///
/// Dropped without [`commit`](Transaction::commit) it rolls back, as a failed `async with`
/// block in aiosqlite would leave it uncommitted. `Send`: it can live in a task that must be.
pub struct Transaction<'a> {
    inner: &'a Arc<Inner>,
    _lock: LockGuard<'a>,
    open: bool,
}

impl<'a> Transaction<'a> {
    pub(crate) async fn begin(
        inner: &'a Arc<Inner>,
        behavior: TransactionBehavior,
    ) -> Result<Transaction<'a>> {
        let lock = inner.lock.acquire().await;
        // The guard exists before BEGIN is sent: if this future is dropped while BEGIN runs,
        // its drop rolls the transaction back.
        let mut tx = Transaction {
            inner,
            _lock: lock,
            open: true,
        };
        let begin = match behavior {
            TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
            _ => "BEGIN DEFERRED",
        };
        let began = inner.submit(OnDrop::RunToEnd, ops::execute_batch(begin.into()))?;
        if let Err(e) = began.await {
            tx.open = false; // not ours: leave any transaction begun by hand alone
            return Err(e);
        }
        Ok(tx)
    }

    /// Commits (`COMMIT`). A failed commit (`SQLITE_BUSY` past the busy timeout...) rolls the
    /// transaction back: the guard is gone, so nobody could retry it. If SQLite already rolled
    /// the transaction back (an interrupted or failed write does that), this fails with SQLite's
    /// "cannot commit - no transaction is active": nothing was committed. Runs to the end even
    /// if this future is dropped.
    ///
    /// # Errors
    /// [`Error::Sqlite`](crate::Error::Sqlite) from `COMMIT`.
    pub async fn commit(mut self) -> Result<()> {
        self.open = false;
        let pending = self
            .inner
            .submit(OnDrop::RunToEnd, ops::end_transaction(true, true))?;
        pending.await
    }

    /// Rolls back (`ROLLBACK`), and says how it went (dropping the guard does the same
    /// silently).
    ///
    /// # Errors
    /// [`Error::Sqlite`](crate::Error::Sqlite) from `ROLLBACK`.
    pub async fn rollback(mut self) -> Result<()> {
        self.open = false;
        let pending = self
            .inner
            .submit(OnDrop::RunToEnd, ops::end_transaction(false, true))?;
        pending.await
    }

    /// [`Connection::execute`](crate::Connection::execute), inside the transaction.
    ///
    /// # Errors
    /// As there.
    pub fn execute(
        &self,
        sql: &str,
        params: impl Params,
    ) -> impl Future<Output = Result<usize>> + Send + 'static {
        let (inner, sql, params) = (self.inner.clone(), sql.to_owned(), params.bind());
        async move { run(inner, false, ops::execute(sql, params?)).await }
    }

    /// [`Connection::executemany`](crate::Connection::executemany), inside the transaction
    /// (its savepoint nests in it).
    ///
    /// # Errors
    /// As there.
    pub fn executemany<P: Params>(
        &self,
        sql: &str,
        params: impl IntoIterator<Item = P>,
    ) -> impl Future<Output = Result<usize>> + Send + 'static {
        let (inner, sql) = (self.inner.clone(), sql.to_owned());
        let params: Result<Vec<Bound>> = params.into_iter().map(Params::bind).collect();
        async move {
            let op = ops::execute_many(sql, params?, inner.running.clone());
            run(inner, false, op).await
        }
    }

    /// [`Connection::execute_batch`](crate::Connection::execute_batch), inside the
    /// transaction.
    ///
    /// # Errors
    /// As there.
    pub fn execute_batch(
        &self,
        sql: &str,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        let (inner, sql) = (self.inner.clone(), sql.to_owned());
        async move { run(inner, false, ops::execute_batch(sql)).await }
    }

    /// [`Connection::fetch_all`](crate::Connection::fetch_all), inside the transaction.
    ///
    /// # Errors
    /// As there.
    pub fn fetch_all(
        &self,
        sql: &str,
        params: impl Params,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send + 'static {
        let (inner, sql, params) = (self.inner.clone(), sql.to_owned(), params.bind());
        async move { run(inner, false, ops::fetch_all(sql, params?)).await }
    }

    /// [`Connection::fetch_one`](crate::Connection::fetch_one), inside the transaction.
    ///
    /// # Errors
    /// As there.
    pub fn fetch_one(
        &self,
        sql: &str,
        params: impl Params,
    ) -> impl Future<Output = Result<Option<Row>>> + Send + 'static {
        let (inner, sql, params) = (self.inner.clone(), sql.to_owned(), params.bind());
        async move { run(inner, false, ops::fetch_one(sql, params?)).await }
    }

    /// [`Connection::cursor`](crate::Connection::cursor), inside the transaction. It borrows
    /// the transaction, so the transaction cannot end while the cursor reads.
    pub fn cursor(&self, sql: &str, params: impl Params) -> Cursor<'_> {
        Cursor::new(self.inner.clone(), false, sql.to_owned(), params.bind())
    }

    /// [`Connection::call`](crate::Connection::call), inside the transaction.
    ///
    /// # Errors
    /// As there.
    pub fn call<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send + 'static + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        async move {
            run(inner, false, move |conn, _| {
                crate::reply::flush(); // the closure may take long: nothing waits behind it
                f(conn).map_err(Into::into)
            })
            .await
        }
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            // Sent before the lock is released (fields drop after this), so it runs before any
            // other task's call. A closed connection has nothing to roll back.
            let rollback = ops::end_transaction(false, true);
            let _ = self.inner.send(shared(move |conn, cursors| {
                let _ = rollback(conn, cursors);
            }));
        }
    }
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}
