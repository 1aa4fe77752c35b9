//! The jobs that run on the connection's thread: one function per kind of call, each returning
//! the closure the thread runs. Errors carry the SQL that failed.

use std::sync::Arc;

use rusqlite::CachedStatement;

use crate::error::{Error, Result};
use crate::params::Bound;
use crate::reply;
use crate::row::Row;
use crate::worker::{Cursors, OpenCursor, Running};

/// The closure type of a job on the shared connection.
pub(crate) trait Op<T>:
    for<'c> FnOnce(&'c rusqlite::Connection, &mut Cursors<'c>) -> Result<T> + Send + 'static
{
}

impl<T, F> Op<T> for F where
    F: for<'c> FnOnce(&'c rusqlite::Connection, &mut Cursors<'c>) -> Result<T> + Send + 'static
{
}

fn err(sql: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::from_rusqlite(e, Some(sql))
}

fn prepare<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    params: &Bound,
) -> Result<CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql).map_err(err(sql))?;
    if !stmt.readonly() && !holds_write_lock(conn) {
        // A write may wait for a lock or end in a commit's fsync: nothing waits behind it.
        reply::flush();
    }
    params.apply(&mut stmt).map_err(err(sql))?;
    Ok(stmt)
}

fn columns(stmt: &rusqlite::Statement<'_>) -> Arc<[String]> {
    stmt.column_names().into_iter().map(String::from).collect()
}

/// Whether a transaction holds the main database's write lock: a write then neither waits for
/// a lock nor commits (replies may stay held across it, see `reply.rs`).
fn holds_write_lock(conn: &rusqlite::Connection) -> bool {
    matches!(
        conn.transaction_state(Some(rusqlite::MAIN_DB)),
        Ok(rusqlite::TransactionState::Write)
    )
}

/// Steps a bound statement to its end; the number of rows it changed.
fn step_to_end(
    conn: &rusqlite::Connection,
    stmt: &mut CachedStatement<'_>,
) -> rusqlite::Result<usize> {
    let readonly = stmt.readonly();
    let mut rows = stmt.raw_query();
    while rows.next()?.is_some() {}
    // sqlite3_changes counts the last INSERT, UPDATE or DELETE: stale after a query.
    Ok(if readonly { 0 } else { conn.changes() as usize })
}

pub(crate) fn execute(sql: String, params: Bound) -> impl Op<usize> {
    move |conn, _| {
        let mut stmt = prepare(conn, &sql, &params)?;
        step_to_end(conn, &mut stmt).map_err(err(&sql))
    }
}

pub(crate) fn execute_batch(sql: String) -> impl Op<()> {
    move |conn, _| {
        reply::flush();
        conn.execute_batch(&sql).map_err(err(&sql))
    }
}

const MANY: &str = "conductor_sqlite_executemany";

/// Every parameter set through one prepared statement, inside a savepoint: all rows or none.
pub(crate) fn execute_many(
    sql: String,
    params: Vec<Bound>,
    running: Arc<Running>,
) -> impl Op<usize> {
    move |conn, _| {
        reply::flush();
        conn.execute_batch(&format!("SAVEPOINT {MANY}"))?;
        let result = (|| {
            let mut stmt = conn.prepare_cached(&sql).map_err(err(&sql))?;
            let mut changed = 0;
            for p in &params {
                if running.cancelled() {
                    // Small statements never reach the progress handler: check between rows.
                    let interrupted = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERRUPT);
                    let e = rusqlite::Error::SqliteFailure(interrupted, Some("interrupted".into()));
                    return Err(Error::from_rusqlite(e, Some(&sql)));
                }
                p.apply(&mut stmt).map_err(err(&sql))?;
                changed += step_to_end(conn, &mut stmt).map_err(err(&sql))?;
            }
            Ok(changed)
        })();
        let end = match result {
            Ok(_) => format!("RELEASE {MANY}"),
            Err(_) => format!("ROLLBACK TO {MANY}; RELEASE {MANY}"),
        };
        let ended = conn.execute_batch(&end);
        let changed = result?;
        ended?;
        Ok(changed)
    }
}

pub(crate) fn fetch_all(sql: String, params: Bound) -> impl Op<Vec<Row>> {
    move |conn, _| {
        let mut stmt = prepare(conn, &sql, &params)?;
        let columns = columns(&stmt);
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err(&sql))? {
            out.push(Row::read(row, &columns).map_err(err(&sql))?);
        }
        Ok(out)
    }
}

pub(crate) fn fetch_one(sql: String, params: Bound) -> impl Op<Option<Row>> {
    move |conn, _| {
        let mut stmt = prepare(conn, &sql, &params)?;
        let columns = columns(&stmt);
        let mut rows = stmt.raw_query();
        match rows.next().map_err(err(&sql))? {
            Some(row) => Ok(Some(Row::read(row, &columns).map_err(err(&sql))?)),
            None => Ok(None),
        }
    }
}

/// A batch of a cursor's rows, and whether the statement has more.
pub(crate) struct Batch {
    pub(crate) rows: Vec<Row>,
    pub(crate) more: bool,
}

/// Prepares a cursor's statement, keeps it under `id`, and fetches its first batch.
pub(crate) fn open_cursor(id: u64, sql: String, params: Bound, size: usize) -> impl Op<Batch> {
    move |conn, cursors| {
        let stmt = prepare(conn, &sql, &params)?;
        let columns = columns(&stmt);
        cursors.insert(id, OpenCursor { stmt, columns });
        next_batch(id, size, sql)(conn, cursors)
    }
}

/// The cursor's next `size` rows. The statement stays open, where this batch stopped, until
/// it has no more rows or fails.
pub(crate) fn next_batch(id: u64, size: usize, sql: String) -> impl Op<Batch> {
    move |conn, cursors| {
        let Some(cursor) = cursors.get_mut(&id) else {
            return Ok(Batch {
                rows: Vec::new(),
                more: false,
            });
        };
        if !cursor.stmt.readonly() && !holds_write_lock(conn) {
            reply::flush();
        }
        let result = read_batch(cursor, size);
        if !matches!(result, Ok(Batch { more: true, .. })) {
            cursors.remove(&id);
        }
        result.map_err(err(&sql))
    }
}

fn read_batch(cursor: &mut OpenCursor<'_>, size: usize) -> rusqlite::Result<Batch> {
    let mut out = Vec::with_capacity(size);
    let mut rows = cursor.stmt.raw_query();
    while out.len() < size {
        match rows.next()? {
            Some(row) => out.push(Row::read(row, &cursor.columns)?),
            // `Rows` reset the statement itself on reaching the end.
            None => {
                return Ok(Batch {
                    rows: out,
                    more: false,
                });
            }
        }
    }
    // Dropping `rows` would reset the statement; forgotten, it stays where it stopped for the
    // next batch (`Rows` holds only references: nothing leaks).
    std::mem::forget(rows);
    Ok(Batch {
        rows: out,
        more: true,
    })
}

pub(crate) fn close_cursor(id: u64) -> impl Op<()> {
    move |_, cursors| {
        cursors.remove(&id);
        Ok(())
    }
}

/// Ends an open transaction, if there is one (Python's `commit()`, `rollback()`: no-ops
/// outside a transaction). `owned`: the transaction belongs to a guard, which is gone after
/// this call.
pub(crate) fn end_transaction(commit: bool, owned: bool) -> impl Op<()> {
    move |conn, _| {
        reply::flush();
        // A guard's transaction that is no longer open was rolled back by SQLite (an
        // interrupted or failed INSERT/UPDATE/DELETE ends it): its COMMIT must fail, as SQLite
        // says ("cannot commit - no transaction is active"), not report a success.
        if conn.is_autocommit() && !(commit && owned) {
            return Ok(());
        }
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        let result = conn.execute_batch(sql).map_err(err(sql));
        if owned && result.is_err() && !conn.is_autocommit() {
            // A failed COMMIT (SQLITE_BUSY...) leaves the transaction open; nobody owns it
            // any more, so roll it back rather than leave it to the next statement.
            let _ = conn.execute_batch("ROLLBACK");
        }
        result
    }
}
