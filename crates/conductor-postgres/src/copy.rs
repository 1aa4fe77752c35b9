//! COPY (asyncpg's `copy_records_to_table` and `copy_from_query`): rows into a table in
//! PostgreSQL's binary COPY format, and a query's result out as a stream of text-format bytes.
//!
//! The binary rows are framed here (11-byte signature, two zero words, per row a field count
//! and length-prefixed values that tokio-postgres' `ToSql` encodes, a -1 trailer: the format
//! tokio-postgres' `BinaryCopyInWriter` writes) so that they leave in 64 KiB chunks:
//! `BinaryCopyInWriter` sends every 4 KiB through a channel of one slot, a task switch and a
//! socket write each.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use futures_core::Stream;
use futures_util::{SinkExt, pin_mut};
use tokio_postgres::CopyOutStream;
use tokio_postgres::types::{IsNull, ToSql, Type};

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::listen::quote_ident;
use crate::session::Fixup;

impl Connection {
    /// Copies `records` into `table` with `COPY ... FROM STDIN (FORMAT binary)` (asyncpg's
    /// `copy_records_to_table`); `columns` names the columns each record fills, in order (all
    /// of the table's columns when empty). Returns the number of rows copied.
    ///
    /// # Errors
    /// The server's error (a constraint, a type mismatch); nothing is copied then.
    ///
    /// ```no_run
    /// # conductor::run(async {
    /// # let conn = conductor_postgres::connect("host=127.0.0.1 user=postgres").await?;
    /// let rows: Vec<(i32, String)> = (0..3).map(|i| (i, format!("user {i}"))).collect();
    /// let n = conn
    ///     .copy_records_to_table(
    ///         "users",
    ///         &["id", "name"],
    ///         rows.iter().map(|(id, name)| [id as &(dyn conductor_postgres::ToSql + Sync), name]),
    ///     )
    ///     .await?;
    /// assert_eq!(n, 3);
    /// # Ok::<(), conductor_postgres::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn copy_records_to_table<'p, I, P>(
        &self,
        table: &str,
        columns: &[&str],
        records: I,
    ) -> Result<u64>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[&'p (dyn ToSql + Sync)]>,
    {
        let s = self.session();
        let select = if columns.is_empty() {
            "*".to_owned()
        } else {
            columns
                .iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let table = quote_ident(table);
        // The column types, from the server, without running anything.
        let probe = self
            .call(async {
                s.client
                    .prepare(&format!("SELECT {select} FROM {table}"))
                    .await
                    .map_err(|e| s.error(e))
            })
            .await?;
        let types: Vec<Type> = probe.columns().iter().map(|c| c.type_().clone()).collect();
        let names: Vec<String> = probe
            .columns()
            .iter()
            .map(|c| quote_ident(c.name()))
            .collect();
        let copy = format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary)",
            names.join(", ")
        );
        self.call(async {
            let sink = s
                .client
                .copy_in::<_, Bytes>(&copy)
                .await
                .map_err(|e| s.error(e))?;
            pin_mut!(sink);
            let mut buf = BytesMut::with_capacity(CHUNK + CHUNK / 4);
            buf.put_slice(SIGNATURE);
            buf.put_i32(0); // flags
            buf.put_i32(0); // header extension length
            for (n, record) in records.into_iter().enumerate() {
                // On an error the sink is dropped unfinished: tokio-postgres aborts the COPY.
                encode_row(&mut buf, record.as_ref(), &types, &names, n)?;
                if buf.len() >= CHUNK {
                    sink.send(buf.split().freeze())
                        .await
                        .map_err(|e| s.error(e))?;
                }
            }
            buf.put_i16(-1);
            sink.send(buf.freeze()).await.map_err(|e| s.error(e))?;
            sink.finish().await.map_err(|e| s.error(e))
        })
        .await
    }

    /// The result of `query` as COPY's text format (tab-separated columns, one line per row),
    /// streamed in chunks (asyncpg's `copy_from_query`). Dropping the stream before its end
    /// cancels the COPY on the server.
    ///
    /// # Errors
    /// The server's error for the query.
    pub async fn copy_from_query(&self, query: &str) -> Result<CopyOut> {
        self.copy_out(&format!("COPY ({query}) TO STDOUT")).await
    }

    /// A whole table as COPY's text format (asyncpg's `copy_from_table`).
    ///
    /// # Errors
    /// The server's error.
    pub async fn copy_from_table(&self, table: &str) -> Result<CopyOut> {
        self.copy_out(&format!("COPY {} TO STDOUT", quote_ident(table)))
            .await
    }

    async fn copy_out(&self, sql: &str) -> Result<CopyOut> {
        let s = self.session();
        let stream = self
            .call(async { s.client.copy_out(sql).await.map_err(|e| s.error(e)) })
            .await?;
        Ok(CopyOut {
            conn: self.clone(),
            stream: Box::pin(stream),
            finished: false,
        })
    }
}

/// The binary COPY format's signature.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// How many encoded bytes go out at once.
const CHUNK: usize = 64 << 10;

/// One row of the binary format: the field count, then each value as its length (-1 for
/// NULL) and its bytes.
fn encode_row(
    buf: &mut BytesMut,
    values: &[&(dyn ToSql + Sync)],
    types: &[Type],
    names: &[String],
    row: usize,
) -> Result<()> {
    if values.len() != types.len() {
        return Err(Error::Record(format!(
            "record {row} has {} values for {} columns",
            values.len(),
            types.len()
        )));
    }
    buf.put_i16(values.len() as i16);
    for (i, (value, ty)) in values.iter().zip(types).enumerate() {
        let at = buf.len();
        buf.put_i32(0);
        let len = match value.to_sql_checked(ty, buf) {
            Ok(IsNull::Yes) => -1,
            Ok(IsNull::No) => i32::try_from(buf.len() - at - 4).map_err(|_| {
                Error::Record(format!("record {row}, column {}: over 2 GiB", names[i]))
            })?,
            Err(e) => {
                return Err(Error::Record(format!(
                    "record {row}, column {} ({ty}): {e}",
                    names[i]
                )));
            }
        };
        buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

/// The bytes of a COPY ... TO STDOUT, as a `Stream` of chunks.
pub struct CopyOut {
    conn: Connection,
    stream: Pin<Box<CopyOutStream>>,
    finished: bool,
}

impl std::fmt::Debug for CopyOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyOut").finish_non_exhaustive()
    }
}

impl CopyOut {
    /// Reads the whole output into one buffer.
    ///
    /// # Errors
    /// The server's error.
    pub async fn collect(mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }
}

impl Stream for CopyOut {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        let this = &mut *self;
        match this.stream.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.finished = true;
                Poll::Ready(Some(Err(this.conn.session().error(e))))
            }
            Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(b))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for CopyOut {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.session().schedule(Fixup::Cancel);
        }
    }
}
