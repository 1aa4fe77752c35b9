//! Cursors: rows streamed in batches, other calls in between, closing on drop, errors.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::scalar;
use conductor_sqlite::{Connection, Cursor, Options, connect};
use futures_core::Stream;

const FIVE: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) SELECT x FROM c";

async fn numbers(cursor: Cursor<'_>) -> Vec<i64> {
    let rows = cursor.fetch_all().await.unwrap();
    rows.iter().map(|r| r.get(0).unwrap()).collect()
}

/// How many rows the cursor holds without another trip to the thread.
fn buffered(cursor: &mut Cursor<'_>) -> usize {
    cursor.size_hint().0
}

#[conductor::test]
async fn cursor_yields_every_row_in_order() {
    let db = connect(":memory:").await.unwrap();
    assert_eq!(numbers(db.cursor(FIVE, ())).await, [1, 2, 3, 4, 5]);
}

#[conductor::test]
async fn cursor_fetches_in_batches_of_batch_size() {
    let db = connect(":memory:").await.unwrap();
    let mut cursor = db.cursor(FIVE, ()).batch_size(2);
    assert!(cursor.next_row().await.is_some());
    assert_eq!(buffered(&mut cursor), 1, "a batch of 2, one taken");
    assert!(cursor.next_row().await.is_some());
    assert_eq!(buffered(&mut cursor), 0);
    assert!(cursor.next_row().await.is_some()); // the second batch
    assert_eq!(buffered(&mut cursor), 1);
}

#[conductor::test]
async fn cursor_batch_size_comes_from_the_options() {
    let db = Options::new(":memory:")
        .batch_size(3)
        .connect()
        .await
        .unwrap();
    let mut cursor = db.cursor(FIVE, ());
    assert!(cursor.next_row().await.is_some());
    assert_eq!(buffered(&mut cursor), 2);
}

#[conductor::test]
async fn cursor_is_a_stream() {
    let db = connect(":memory:").await.unwrap();
    let mut cursor = db.cursor(FIVE, ());
    let mut sum = 0;
    // Polled through the Stream trait alone, as a combinator library would.
    while let Some(row) =
        std::future::poll_fn(|cx: &mut Context<'_>| Pin::new(&mut cursor).poll_next(cx)).await
    {
        sum += row.unwrap().get::<i64>(0).unwrap();
    }
    assert_eq!(sum, 15);
    let again = std::future::poll_fn(|cx| match Pin::new(&mut cursor).poll_next(cx) {
        Poll::Ready(r) => Poll::Ready(r.is_none()),
        Poll::Pending => Poll::Pending,
    });
    assert!(again.await, "a finished stream stays finished");
}

#[conductor::test]
async fn cursor_lets_other_calls_run_between_batches() {
    // aiosqlite's pattern: iterate a query and write as you go, on the same connection.
    let db = connect(":memory:").await.unwrap();
    db.execute_batch("CREATE TABLE src(x); CREATE TABLE dst(x);")
        .await
        .unwrap();
    db.executemany("INSERT INTO src VALUES (?)", (1..=10).map(|x| (x,)))
        .await
        .unwrap();
    let mut cursor = db.cursor("SELECT x FROM src ORDER BY x", ()).batch_size(3);
    while let Some(row) = cursor.next_row().await {
        let x: i64 = row.unwrap().get(0).unwrap();
        db.execute("INSERT INTO dst VALUES (?)", (x * 10,))
            .await
            .unwrap();
    }
    assert_eq!(scalar(&db, "SELECT sum(x) FROM dst").await, 550);
}

#[conductor::test]
async fn cursor_dropped_early_closes_its_statement() {
    let db = connect(":memory:").await.unwrap();
    let mut cursor = db.cursor(FIVE, ()).batch_size(1);
    assert!(cursor.next_row().await.is_some());
    drop(cursor);
    // call_mut runs only when no statement of a cursor is open.
    db.call_mut(|_| Ok(())).await.unwrap();
}

#[conductor::test]
async fn cursor_dropped_while_fetching_closes_its_statement() {
    let db = connect(":memory:").await.unwrap();
    let mut cursor = db.cursor(FIVE, ()).batch_size(1);
    assert!(cursor.next_row().await.is_some());
    assert!(cursor.next_row().await.is_some());
    // Start a fetch, then drop the cursor with the fetch on its way.
    let mut next = Box::pin(cursor.next_row());
    let _ = std::future::poll_fn(|cx| Poll::Ready(next.as_mut().poll(cx).is_ready())).await;
    drop(next);
    drop(cursor);
    db.call_mut(|_| Ok(())).await.unwrap();
}

#[conductor::test]
async fn cursor_error_ends_the_stream() {
    let db = connect(":memory:").await.unwrap();
    let mut cursor = db.cursor("SELECT * FROM missing", ());
    let err = cursor.next_row().await.unwrap().unwrap_err();
    assert!(err.to_string().contains("no such table: missing"), "{err}");
    assert_eq!(err.sql(), Some("SELECT * FROM missing"));
    assert!(cursor.next_row().await.is_none());
}

#[conductor::test]
async fn cursor_streams_a_large_result() {
    let db = connect(":memory:").await.unwrap();
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) SELECT x, 'row ' || x FROM c";
    let mut cursor = db.cursor(sql, ());
    let (mut n, mut sum) = (0i64, 0i64);
    while let Some(row) = cursor.next_row().await {
        let row = row.unwrap();
        n += 1;
        sum += row.get::<i64>(0).unwrap();
    }
    assert_eq!((n, sum), (100_000, 100_000 * 100_001 / 2));
}

#[conductor::test]
async fn cursor_parameters_and_unused_cursor_send_nothing() {
    let db: Connection = connect(":memory:").await.unwrap();
    let unused = db.cursor("SELECT ?", (1,));
    drop(unused); // never polled: nothing was opened
    db.call_mut(|_| Ok(())).await.unwrap();
    let rows = db
        .cursor("SELECT ? + ?", (40, 2))
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(rows[0].get::<i64>(0).unwrap(), 42);
}
