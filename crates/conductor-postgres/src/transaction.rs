//! Transactions as guards (asyncpg's `async with conn.transaction():`): `commit` and
//! `rollback` are async and consume the guard; a guard dropped without either rolls back
//! (the ROLLBACK reaches the server before the connection's next call). Savepoints nest.

use std::ops::Deref;
use std::sync::atomic::Ordering;

use crate::connection::Connection;
use crate::error::Result;
use crate::session::Fixup;

/// An isolation level (`BEGIN ISOLATION LEVEL ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    /// `READ COMMITTED`, PostgreSQL's default.
    ReadCommitted,
    /// `REPEATABLE READ`.
    RepeatableRead,
    /// `SERIALIZABLE`.
    Serializable,
}

/// Options of a transaction (asyncpg's `transaction(isolation=, readonly=, deferrable=)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TransactionOptions {
    /// The isolation level; the server's default when `None`.
    pub isolation: Option<IsolationLevel>,
    /// `READ ONLY`.
    pub read_only: bool,
    /// `DEFERRABLE` (with serializable read-only transactions).
    pub deferrable: bool,
}

impl TransactionOptions {
    fn begin_sql(&self) -> String {
        let mut sql = String::from("BEGIN");
        if let Some(level) = self.isolation {
            sql.push_str(match level {
                IsolationLevel::ReadCommitted => " ISOLATION LEVEL READ COMMITTED",
                IsolationLevel::RepeatableRead => " ISOLATION LEVEL REPEATABLE READ",
                IsolationLevel::Serializable => " ISOLATION LEVEL SERIALIZABLE",
            });
        }
        if self.read_only {
            sql.push_str(" READ ONLY");
        }
        if self.deferrable {
            sql.push_str(" DEFERRABLE");
        }
        sql
    }
}

/// An open transaction or savepoint. It dereferences to the [`Connection`], so queries run
/// through it: `tx.execute(...)`.
///
/// ```no_run
/// # conductor::run(async {
/// # let conn = conductor_postgres::connect("host=127.0.0.1 user=postgres").await?;
/// let tx = conn.transaction().await?;
/// tx.execute("INSERT INTO t VALUES ($1)", &[&1i32]).await?;
/// let sp = tx.savepoint().await?;
/// sp.execute("INSERT INTO t VALUES ($1)", &[&2i32]).await?;
/// sp.rollback().await?; // only the second insert is undone
/// tx.commit().await?;
/// # Ok::<(), conductor_postgres::Error>(())
/// # }).unwrap();
/// ```
#[must_use = "a transaction dropped without commit() rolls back"]
pub struct Transaction<'c> {
    conn: &'c Connection,
    savepoint: Option<String>,
    done: bool,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("savepoint", &self.savepoint)
            .finish()
    }
}

impl Connection {
    /// Starts a transaction (`BEGIN`).
    ///
    /// # Errors
    /// The server's error (e.g. already in a transaction begun with raw SQL: that is a
    /// warning, not an error, in PostgreSQL).
    pub async fn transaction(&self) -> Result<Transaction<'_>> {
        self.transaction_with(TransactionOptions::default()).await
    }

    /// Starts a transaction with an isolation level, read-only or deferrable.
    ///
    /// # Errors
    /// As [`transaction`](Self::transaction).
    pub async fn transaction_with(&self, options: TransactionOptions) -> Result<Transaction<'_>> {
        self.execute_script(&options.begin_sql()).await?;
        self.session().tx_depth.fetch_add(1, Ordering::AcqRel);
        Ok(Transaction {
            conn: self,
            savepoint: None,
            done: false,
        })
    }
}

impl<'c> Transaction<'c> {
    /// A nested transaction (`SAVEPOINT`): its rollback undoes only what ran inside it.
    ///
    /// # Errors
    /// The server's error.
    pub async fn savepoint(&self) -> Result<Transaction<'c>> {
        let n = self
            .conn
            .session()
            .savepoints
            .fetch_add(1, Ordering::Relaxed);
        let name = format!("conductor_sp_{n}");
        self.conn
            .execute_script(&format!("SAVEPOINT {name}"))
            .await?;
        Ok(Transaction {
            conn: self.conn,
            savepoint: Some(name),
            done: false,
        })
    }

    /// Commits (`COMMIT`, or `RELEASE SAVEPOINT`).
    ///
    /// # Errors
    /// The server's error (a deferred constraint, a serialization failure with SQLSTATE
    /// 40001...); the transaction is over either way.
    pub async fn commit(mut self) -> Result<()> {
        let sql = match &self.savepoint {
            Some(name) => format!("RELEASE SAVEPOINT {name}"),
            None => "COMMIT".to_owned(),
        };
        let out = self.conn.execute_script(&sql).await;
        self.end();
        out
    }

    /// Rolls back (`ROLLBACK`, or `ROLLBACK TO SAVEPOINT` then `RELEASE SAVEPOINT`).
    ///
    /// # Errors
    /// The server's error.
    pub async fn rollback(mut self) -> Result<()> {
        let out = self.conn.execute_script(&self.rollback_sql()).await;
        self.end();
        out
    }

    /// True for a savepoint.
    pub fn is_savepoint(&self) -> bool {
        self.savepoint.is_some()
    }

    fn rollback_sql(&self) -> String {
        match &self.savepoint {
            Some(name) => format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
            None => "ROLLBACK".to_owned(),
        }
    }

    fn end(&mut self) {
        self.done = true;
        if self.savepoint.is_none() {
            self.conn.session().tx_depth.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Deref for Transaction<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let sql = self.rollback_sql();
            self.conn.session().schedule(Fixup::Sql(sql));
            self.end();
        }
    }
}
