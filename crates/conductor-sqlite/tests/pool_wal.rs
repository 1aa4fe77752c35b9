//! The pool: read-only readers beside one writer on a WAL file, under many tasks.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{GENEROUS, TempDir};
use conductor_sqlite::{Error, ErrorCode, Options, Pool, create_pool};

async fn pool(dir: &TempDir, readers: usize) -> Pool {
    let pool = create_pool(dir.file("app.db"), readers).await.unwrap();
    pool.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", ())
        .await
        .unwrap();
    pool
}

async fn count(pool: &Pool) -> i64 {
    let row = pool
        .fetch_one("SELECT count(*) FROM t", ())
        .await
        .unwrap()
        .unwrap();
    row.get(0).unwrap()
}

#[conductor::test]
async fn pool_readers_read_while_the_writer_writes() {
    let dir = TempDir::new("pool-wal");
    let pool = pool(&dir, 3).await;
    let (inserted_tx, inserted) = mpsc::channel();
    let (release, gate) = mpsc::channel::<()>();
    // The writer's thread holds a write transaction open, uncommitted, until released.
    let writer = conductor::spawn(pool.writer().call(move |conn| {
        conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t(v) VALUES ('new');")?;
        let _ = inserted_tx.send(());
        let _ = gate.recv_timeout(GENEROUS);
        conn.execute_batch("COMMIT")
    }));
    conductor::to_thread(move || inserted.recv_timeout(GENEROUS))
        .await
        .unwrap()
        .unwrap();
    // Readers are not blocked by the write, and see the last committed state.
    let reads = (0..30).map(|_| {
        let pool = pool.clone();
        async move { count(&pool).await }
    });
    let counts = conductor::gather(reads).await.unwrap();
    assert!(counts.iter().all(|&n| n == 0), "{counts:?}");
    assert!(!writer.is_done(), "the reads finished during the write");
    release.send(()).unwrap();
    writer.await.unwrap().unwrap();
    assert_eq!(count(&pool).await, 1, "a read after the commit sees it");
}

#[conductor::test]
async fn pool_serves_a_thousand_concurrent_tasks() {
    let dir = TempDir::new("pool-1000");
    let pool = pool(&dir, 4).await;
    pool.executemany(
        "INSERT INTO t(id, v) VALUES (?, ?)",
        (0..100).map(|i| (i, format!("v{i}"))),
    )
    .await
    .unwrap();
    let start = Instant::now();
    let tasks: Vec<_> = (0..1000i64)
        .map(|i| {
            let pool = pool.clone();
            conductor::spawn(async move {
                if i % 10 == 0 {
                    let n = pool
                        .execute("INSERT INTO t(id, v) VALUES (?, 'w')", (1000 + i,))
                        .await
                        .unwrap();
                    assert_eq!(n, 1);
                }
                let row = pool
                    .fetch_one("SELECT v FROM t WHERE id = ?", (i % 100,))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(row.get::<String>(0).unwrap(), format!("v{}", i % 100));
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(count(&pool).await, 200);
    assert!(start.elapsed() < GENEROUS);
    // Every reader took part.
    for reader in pool.readers() {
        let row = reader.fetch_one("SELECT 1", ()).await.unwrap().unwrap();
        assert_eq!(row.get::<i64>(0).unwrap(), 1);
    }
}

#[conductor::test]
async fn pool_spreads_queries_over_the_readers() {
    let dir = TempDir::new("pool-spread");
    let pool = pool(&dir, 3).await;
    // While each reader has a call in flight, the next query goes to an idle one.
    let (release, gate) = mpsc::channel::<()>();
    let gate = std::sync::Arc::new(std::sync::Mutex::new(gate));
    let mut held = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let reader = pool.reader().clone();
        assert!(
            !seen
                .iter()
                .any(|r: &conductor_sqlite::Connection| r.same(&reader))
        );
        seen.push(reader.clone());
        let gate = gate.clone();
        held.push(conductor::spawn(reader.call(move |_| {
            let _ = gate.lock().unwrap().recv_timeout(GENEROUS);
            Ok(())
        })));
        conductor::yield_now().await; // sent: counted in flight
    }
    for _ in 0..3 {
        release.send(()).unwrap();
    }
    for task in held {
        task.await.unwrap().unwrap();
    }
}

#[conductor::test]
async fn pool_readers_refuse_writes() {
    let dir = TempDir::new("pool-ro");
    let pool = pool(&dir, 1).await;
    let err = pool.readers()[0]
        .execute("INSERT INTO t(v) VALUES ('x')", ())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ReadOnly));
}

#[conductor::test]
async fn pool_needs_a_file_and_a_reader() {
    let err = create_pool(":memory:", 2).await.unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    assert!(err.to_string().contains("needs a database file"), "{err}");
    let dir = TempDir::new("pool-zero");
    let err = Pool::open(&Options::new(dir.file("a.db")), 0)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least one reader"), "{err}");
}

#[conductor::test]
async fn pool_writer_transaction_is_invisible_to_readers_until_commit() {
    let dir = TempDir::new("pool-tx");
    let pool = pool(&dir, 2).await;
    let mut writer = pool.writer();
    let tx = writer.transaction().await.unwrap();
    tx.execute("INSERT INTO t(v) VALUES ('a')", ())
        .await
        .unwrap();
    assert_eq!(count(&pool).await, 0);
    tx.commit().await.unwrap();
    assert_eq!(count(&pool).await, 1);
    let closing = conductor::timeout(Duration::from_secs(20), pool.close()).await;
    closing.unwrap().unwrap();
}
