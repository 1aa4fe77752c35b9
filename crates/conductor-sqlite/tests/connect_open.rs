//! Opening connections: files in WAL, `:memory:`, read-only, errors, closing, and the loop
//! left free while SQLite works.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TempDir, scalar};
use conductor_sqlite::{Error, ErrorCode, Options, connect};

async fn journal_mode(db: &conductor_sqlite::Connection) -> String {
    let row = db
        .fetch_one("PRAGMA journal_mode", ())
        .await
        .unwrap()
        .unwrap();
    row.get(0).unwrap()
}

#[conductor::test]
async fn connect_file_creates_it_in_wal_mode() {
    let dir = TempDir::new("connect-wal");
    let path = dir.file("app.db");
    let db = connect(&path).await.unwrap();
    assert!(path.exists());
    assert_eq!(journal_mode(&db).await, "wal");
    assert_eq!(db.path(), path);
}

#[conductor::test]
async fn connect_wal_off_keeps_the_default_journal() {
    let dir = TempDir::new("connect-nowal");
    let db = Options::new(dir.file("app.db"))
        .wal(false)
        .connect()
        .await
        .unwrap();
    assert_eq!(journal_mode(&db).await, "delete");
}

#[conductor::test]
async fn connect_memory_has_its_own_database() {
    let a = connect(":memory:").await.unwrap();
    let b = connect(":memory:").await.unwrap();
    assert_eq!(journal_mode(&a).await, "memory");
    a.execute("CREATE TABLE t(x)", ()).await.unwrap();
    let err = b.execute("INSERT INTO t VALUES (1)", ()).await.unwrap_err();
    assert!(err.to_string().contains("no such table: t"), "{err}");
}

#[conductor::test]
async fn connect_error_says_sqlite_code_and_path() {
    let dir = TempDir::new("connect-missing");
    let path = dir.file("no/such/dir/app.db");
    let err = connect(&path).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::CannotOpen));
    let text = err.to_string();
    assert!(text.contains("SQLite error 14"), "{text}");
    assert!(text.contains(&*path.to_string_lossy()), "{text}");
}

#[conductor::test]
async fn connect_read_only_refuses_writes() {
    let dir = TempDir::new("connect-ro");
    let path = dir.file("app.db");
    connect(&path)
        .await
        .unwrap()
        .execute("CREATE TABLE t(x)", ())
        .await
        .unwrap();
    let ro = Options::new(&path).read_only(true).connect().await.unwrap();
    let err = ro
        .execute("INSERT INTO t VALUES (1)", ())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ReadOnly));
    assert_eq!(err.sql(), Some("INSERT INTO t VALUES (1)"));
}

#[conductor::test]
async fn connect_pragmas_apply_at_open() {
    let db = Options::new(":memory:")
        .pragma("user_version", "7")
        .connect()
        .await
        .unwrap();
    assert_eq!(scalar(&db, "PRAGMA user_version").await, 7);
}

#[conductor::test]
async fn connect_close_fails_later_calls_for_every_handle() {
    let db = connect(":memory:").await.unwrap();
    let other = db.clone();
    db.close().await.unwrap();
    let err = other.fetch_one("SELECT 1", ()).await.unwrap_err();
    assert!(matches!(err, Error::Closed), "{err}");
    assert!(err.to_string().contains("connection is closed"));
    db.close().await.unwrap(); // twice: a no-op
}

#[conductor::test]
async fn connect_close_runs_after_calls_already_queued() {
    let dir = TempDir::new("connect-close-order");
    let path = dir.file("app.db");
    let db = connect(&path).await.unwrap();
    db.execute("CREATE TABLE t(x)", ()).await.unwrap();
    let insert = conductor::spawn(db.execute("INSERT INTO t VALUES (1)", ()));
    conductor::yield_now().await; // the insert is sent
    db.close().await.unwrap();
    assert_eq!(insert.await.unwrap().unwrap(), 1);
    let again = connect(&path).await.unwrap();
    assert_eq!(scalar(&again, "SELECT count(*) FROM t").await, 1);
}

#[conductor::test(paused)]
async fn connect_calls_leave_the_loop_free() {
    // The thread blocks for 300 ms in a call; the loop keeps running a task meanwhile (the
    // paused clock jumps from sleep to sleep, so the ticker needs no real time).
    let db = connect(":memory:").await.unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let counter = ticks.clone();
    let ticker = conductor::spawn(async move {
        loop {
            counter.fetch_add(1, Ordering::Relaxed);
            conductor::sleep(Duration::from_millis(1)).await;
        }
    });
    db.call(|_| {
        std::thread::sleep(Duration::from_millis(300));
        Ok(())
    })
    .await
    .unwrap();
    ticker.cancel();
    assert!(ticks.load(Ordering::Relaxed) >= 10, "the loop was blocked");
}

#[test]
fn connect_handles_work_from_another_thread_and_loop() {
    // Connection is Send + Sync: opened under one loop, used from another thread's loop.
    let db = conductor::run(connect(":memory:")).unwrap();
    let other = std::thread::spawn(move || {
        conductor::run(async move { scalar(&db, "SELECT 41 + 1").await })
    });
    assert_eq!(other.join().unwrap(), 42);
}
