//! Cancellation that stops the statement: a cancelled or timed-out call is skipped if it has
//! not started and interrupted if it runs, and the connection serves the next call at once.
//!
//! The paused clock drives the timeouts; the SQLite thread runs in real time, so waits on it
//! are bounded generously (the runaway query would run for minutes).

mod common;

use std::time::{Duration, Instant};

use common::{GENEROUS, RUNAWAY, scalar, signal_start, wait_started};
use conductor_sqlite::connect;

#[conductor::test(paused)]
async fn cancel_timeout_interrupts_a_runaway_query() {
    let db = connect(":memory:").await.unwrap();
    let started = signal_start(&db).await;
    let query = conductor::spawn(conductor::timeout(
        Duration::from_secs(1),
        db.fetch_one(RUNAWAY, ()),
    ));
    wait_started(started).await;
    assert!(query.await.unwrap().is_err(), "the timeout fired");
    let real = Instant::now();
    assert_eq!(scalar(&db, "SELECT 1").await, 1);
    assert!(
        real.elapsed() < GENEROUS,
        "the runaway query held the connection"
    );
}

#[conductor::test(paused)]
async fn cancel_task_interrupts_its_running_query() {
    let db = connect(":memory:").await.unwrap();
    let started = signal_start(&db).await;
    let query = conductor::spawn(db.fetch_all(RUNAWAY, ()));
    wait_started(started).await;
    query.cancel();
    assert!(query.await.unwrap_err().is_cancelled());
    let real = Instant::now();
    assert_eq!(scalar(&db, "SELECT 2").await, 2);
    assert!(real.elapsed() < GENEROUS);
}

#[conductor::test(paused)]
async fn cancel_interrupts_a_runaway_call() {
    // call() runs the user's rusqlite code: its statements are interrupted the same way, and
    // the closure sees SQLITE_INTERRUPT.
    let db = connect(":memory:").await.unwrap();
    let started = signal_start(&db).await;
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let query = conductor::spawn(db.call(move |conn| {
        let result = conn.query_row(RUNAWAY, [], |row| row.get::<_, i64>(0));
        let _ = seen_tx.send(result.map_err(|e| e.sqlite_error_code()));
        Ok(())
    }));
    wait_started(started).await;
    query.cancel();
    let _ = query.await;
    let seen = conductor::to_thread(move || seen_rx.recv_timeout(GENEROUS))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen, Err(Some(rusqlite::ErrorCode::OperationInterrupted)));
}

#[conductor::test(paused)]
async fn cancel_before_start_skips_the_command() {
    let db = connect(":memory:").await.unwrap();
    db.execute("CREATE TABLE t(x)", ()).await.unwrap();
    // Hold the thread in a call until the insert behind it was cancelled.
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let blocker = conductor::spawn(db.call(move |_| {
        let _ = gate.recv_timeout(GENEROUS);
        Ok(())
    }));
    let insert = conductor::spawn(db.execute("INSERT INTO t VALUES (1)", ()));
    for _ in 0..3 {
        conductor::yield_now().await; // both are sent
    }
    insert.cancel();
    assert!(insert.await.unwrap_err().is_cancelled());
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    assert_eq!(scalar(&db, "SELECT count(*) FROM t").await, 0);
}

#[conductor::test(paused)]
async fn cancel_with_a_cursor_open_stops_only_the_cancelled_query() {
    // With a cursor's statement open, SQLite's own interrupt would also fail the cursor (and
    // every statement until it ends); the cancellation must reach the runaway alone.
    let db = connect(":memory:").await.unwrap();
    let started = signal_start(&db).await;
    let mut cursor = db
        .cursor("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3", ())
        .batch_size(1);
    assert_eq!(
        cursor
            .next_row()
            .await
            .unwrap()
            .unwrap()
            .get::<i64>(0)
            .unwrap(),
        1
    );
    let query = conductor::spawn(conductor::timeout(
        Duration::from_secs(1),
        db.fetch_one(RUNAWAY, ()),
    ));
    wait_started(started).await;
    assert!(query.await.unwrap().is_err());
    let real = Instant::now();
    assert_eq!(scalar(&db, "SELECT 3").await, 3);
    assert!(real.elapsed() < GENEROUS);
    let rest: Vec<i64> = cursor
        .fetch_all()
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert_eq!(rest, [2, 3]);
}

#[conductor::test(paused)]
async fn cancel_executemany_stops_between_rows_and_rolls_back() {
    let db = connect(":memory:").await.unwrap();
    db.execute("CREATE TABLE t(x)", ()).await.unwrap();
    let started = signal_start(&db).await;
    // Each row calls started(); a million rows take seconds, the cancellation comes after one.
    let rows = (0..1_000_000).map(|i| (i,));
    let many = conductor::spawn(db.executemany("INSERT INTO t VALUES (? + started() - 1)", rows));
    wait_started(started).await;
    many.cancel();
    assert!(many.await.unwrap_err().is_cancelled());
    let real = Instant::now();
    assert_eq!(scalar(&db, "SELECT count(*) FROM t").await, 0);
    assert!(real.elapsed() < GENEROUS);
}

#[conductor::test(paused)]
async fn cancel_leaves_no_interrupt_for_the_next_query() {
    // A cancellation that arrives after its query finished must not hit the next one.
    let db = connect(":memory:").await.unwrap();
    for i in 0..200 {
        let fut = conductor::spawn(db.fetch_one("SELECT ?", (i,)));
        conductor::yield_now().await;
        fut.cancel();
        let _ = fut.await;
        assert_eq!(scalar(&db, "SELECT 7").await, 7, "round {i}");
    }
}
