//! The cursor: a `Stream` of a query's rows, fetched from the connection's thread in batches.

use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::command::{Inner, run};
use crate::error::Result;
use crate::ops::{self, Batch};
use crate::params::Bound;
use crate::row::Row;
use crate::worker::shared;

type Fetch = Pin<Box<dyn Future<Output = Result<Batch>> + Send>>;

enum State {
    /// Not polled yet: nothing sent.
    Start { sql: String, params: Result<Bound> },
    /// The statement is open on the thread, where the last batch stopped.
    Open { sql: String },
    /// A batch is on its way.
    Fetching { sql: String, fetch: Fetch },
    /// The statement ended (or failed): the thread has forgotten it.
    Done,
}

/// A query's rows as a [`Stream`] of `Result<Row>` (aiosqlite's `async for row in cursor`),
/// from [`Connection::cursor`](crate::Connection::cursor). Rows come from the connection's
/// thread in batches ([`Options::batch_size`](crate::Options::batch_size), 256 by default), so
/// a large result is neither held in memory at once nor paid for one round trip per row.
///
/// The statement stays open on the connection between batches, and other calls run in between
/// (a task may iterate and write as it goes). Dropping the cursor closes the statement; dropping
/// it while a batch is on its way interrupts it. An error ends the stream. `Send` (not `Sync`).
///
/// ```
/// # conductor::run(async {
/// let db = conductor_sqlite::Options::new(":memory:").batch_size(2).connect().await.unwrap();
/// let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5)
///            SELECT x FROM c";
/// let mut cursor = db.cursor(sql, ());
/// let mut seen = Vec::new();
/// while let Some(row) = cursor.next_row().await {
///     seen.push(row.unwrap().get::<i64>(0).unwrap());
/// }
/// assert_eq!(seen, [1, 2, 3, 4, 5]); // in three batches
/// # });
/// ```
pub struct Cursor<'a> {
    inner: Arc<Inner>,
    /// Whether each batch waits for other tasks' transactions (false inside one).
    locked: bool,
    id: u64,
    batch_size: usize,
    buffer: VecDeque<Row>,
    state: State,
    _borrow: PhantomData<&'a ()>,
}

impl Cursor<'_> {
    pub(crate) fn new(
        inner: Arc<Inner>,
        locked: bool,
        sql: String,
        params: Result<Bound>,
    ) -> Cursor<'static> {
        Cursor {
            id: inner.next_id(),
            batch_size: inner.batch_size,
            inner,
            locked,
            buffer: VecDeque::new(),
            state: State::Start { sql, params },
            _borrow: PhantomData,
        }
    }

    /// Rows per batch for this cursor, before its first poll (aiosqlite's `arraysize`-like
    /// `iter_chunk_size`). At least 1.
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows.max(1);
        self
    }

    /// The next row, or `None` at the end: the stream's `next()` without a `StreamExt` import.
    pub async fn next_row(&mut self) -> Option<Result<Row>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The rest of the rows, collected (the cursor's `fetchall()`).
    ///
    /// # Errors
    /// The first error.
    pub async fn fetch_all(mut self) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        while let Some(row) = self.next_row().await {
            rows.push(row?);
        }
        Ok(rows)
    }

    fn fetch(&self, op: impl ops::Op<Batch>) -> Fetch {
        Box::pin(run(self.inner.clone(), self.locked, op))
    }
}

impl Stream for Cursor<'_> {
    type Item = Result<Row>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Row>>> {
        let this = &mut *self;
        loop {
            if let Some(row) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(row)));
            }
            match std::mem::replace(&mut this.state, State::Done) {
                State::Start { sql, params } => {
                    let params = match params {
                        Ok(params) => params,
                        Err(e) => return Poll::Ready(Some(Err(e))),
                    };
                    let op = ops::open_cursor(this.id, sql.clone(), params, this.batch_size);
                    let fetch = this.fetch(op);
                    this.state = State::Fetching { sql, fetch };
                }
                State::Open { sql } => {
                    let fetch = this.fetch(ops::next_batch(this.id, this.batch_size, sql.clone()));
                    this.state = State::Fetching { sql, fetch };
                }
                State::Fetching { sql, mut fetch } => {
                    let batch = match fetch.as_mut().poll(cx) {
                        Poll::Pending => {
                            this.state = State::Fetching { sql, fetch };
                            return Poll::Pending;
                        }
                        Poll::Ready(batch) => batch,
                    };
                    match batch {
                        Ok(Batch { rows, more }) => {
                            this.buffer.extend(rows);
                            if more {
                                this.state = State::Open { sql };
                            }
                        }
                        Err(e) => return Poll::Ready(Some(Err(e))),
                    }
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.state {
            State::Done => (self.buffer.len(), Some(self.buffer.len())),
            _ => (self.buffer.len(), None),
        }
    }
}

impl Drop for Cursor<'_> {
    fn drop(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Done);
        if let State::Open { .. } | State::Fetching { .. } = state {
            // Dropping a fetch interrupts it; the close, sent after it, frees the statement.
            drop(state);
            let close = ops::close_cursor(self.id);
            let _ = self.inner.send(shared(move |conn, cursors| {
                let _ = close(conn, cursors);
            }));
        }
    }
}

impl std::fmt::Debug for Cursor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("id", &self.id)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

#[allow(dead_code)]
fn assert_send(c: Cursor<'static>) -> impl Send {
    c
}
