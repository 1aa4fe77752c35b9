//! Transactions as guards: commit, rollback, rollback on drop and on cancellation, and other
//! tasks' calls kept out of them.

mod common;

use std::time::Duration;

use common::{TempDir, scalar};
use conductor_sqlite::{Connection, TransactionBehavior, connect};

async fn table() -> Connection {
    let db = connect(":memory:").await.unwrap();
    db.execute("CREATE TABLE t(x INTEGER)", ()).await.unwrap();
    db
}

#[conductor::test]
async fn transaction_commit_keeps_the_writes() {
    let mut db = table().await;
    let tx = db.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    tx.executemany("INSERT INTO t VALUES (?)", [(2,), (3,)])
        .await
        .unwrap();
    assert_eq!(tx.fetch_all("SELECT x FROM t", ()).await.unwrap().len(), 3);
    tx.commit().await.unwrap();
    assert_eq!(scalar(&db, "SELECT count(*) FROM t").await, 3);
}

#[conductor::test]
async fn transaction_rollback_discards_the_writes() {
    let mut db = table().await;
    let tx = db.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(scalar(&db, "SELECT count(*) FROM t").await, 0);
}

#[conductor::test]
async fn transaction_dropped_without_commit_rolls_back() {
    let mut db = table().await;
    async fn fails(db: &mut Connection) -> conductor_sqlite::Result<()> {
        let tx = db.transaction().await?;
        tx.execute("INSERT INTO t VALUES (1)", ()).await?;
        tx.execute("INSERT INTO nowhere VALUES (1)", ()).await?; // fails: `?` drops tx
        tx.commit().await
    }
    assert!(fails(&mut db).await.is_err());
    assert_eq!(scalar(&db, "SELECT count(*) FROM t").await, 0);
    // The connection is out of the transaction: a new one can begin.
    db.transaction().await.unwrap().commit().await.unwrap();
}

#[conductor::test(paused)]
async fn transaction_of_a_cancelled_task_rolls_back() {
    let db = table().await;
    let mut handle = db.clone();
    let task = conductor::spawn(async move {
        let tx = handle.transaction().await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
        conductor::sleep(Duration::from_secs(60)).await; // cancelled here
        tx.commit().await.unwrap();
    });
    conductor::sleep(Duration::from_secs(1)).await;
    task.cancel();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(scalar(&db, "SELECT count(*) FROM t").await, 0);
}

#[conductor::test(paused)]
async fn transaction_keeps_other_tasks_calls_out() {
    // Another task's insert, made while the transaction is open, must not be rolled back with
    // it: it waits, then runs after the transaction ended.
    let db = table().await;
    let mut mine = db.clone();
    let other = db.clone();
    let tx = mine.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    let outsider =
        conductor::spawn(async move { other.execute("INSERT INTO t VALUES (2)", ()).await });
    conductor::sleep(Duration::from_secs(1)).await;
    assert!(
        !outsider.is_done(),
        "the outsider waits for the transaction"
    );
    tx.rollback().await.unwrap();
    outsider.await.unwrap().unwrap();
    let rows = db.fetch_all("SELECT x FROM t", ()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<i64>(0).unwrap(), 2);
}

#[conductor::test]
async fn transaction_begin_failure_leaves_a_hand_begun_transaction_alone() {
    let mut db = table().await;
    db.execute("BEGIN", ()).await.unwrap();
    db.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    let err = db.transaction().await.unwrap_err();
    assert!(err.to_string().contains("within a transaction"), "{err}");
    db.commit().await.unwrap();
    assert_eq!(scalar(&db, "SELECT count(*) FROM t").await, 1);
}

#[conductor::test]
async fn transaction_cursor_reads_inside_it() {
    let mut db = table().await;
    let tx = db.transaction().await.unwrap();
    tx.executemany("INSERT INTO t VALUES (?)", (0..5).map(|x| (x,)))
        .await
        .unwrap();
    let rows = tx
        .cursor("SELECT x FROM t", ())
        .batch_size(2)
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);
    tx.commit().await.unwrap();
}

#[conductor::test]
async fn transaction_immediate_takes_the_write_lock_at_begin() {
    let dir = TempDir::new("tx-immediate");
    let path = dir.file("app.db");
    let mut a = connect(&path).await.unwrap();
    a.execute("CREATE TABLE t(x)", ()).await.unwrap();
    let b = conductor_sqlite::Options::new(&path)
        .busy_timeout(Duration::ZERO)
        .connect()
        .await
        .unwrap();
    let tx = a
        .transaction_with(TransactionBehavior::Immediate)
        .await
        .unwrap();
    let err = b.execute("INSERT INTO t VALUES (1)", ()).await.unwrap_err();
    assert_eq!(err.code(), Some(conductor_sqlite::ErrorCode::DatabaseBusy));
    tx.commit().await.unwrap();
    b.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
}

#[conductor::test(paused)]
async fn transaction_commit_fails_once_sqlite_rolled_it_back() {
    // An INSERT interrupted inside a transaction makes SQLite roll the whole transaction back
    // (Python's sqlite3 shows the same: in_transaction False, then "cannot commit - no
    // transaction is active"). The guard's commit must say so, not report success.
    let mut db = table().await;
    let started = common::signal_start(&db).await;
    let tx = db.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    let runaway = format!("INSERT INTO t SELECT * FROM ({})", common::RUNAWAY);
    let insert = conductor::spawn(conductor::timeout(
        Duration::from_secs(1),
        tx.execute(&runaway, ()),
    ));
    common::wait_started(started).await;
    assert!(insert.await.unwrap().is_err(), "timed out");
    let err = tx.commit().await.unwrap_err();
    assert!(
        err.to_string().contains("no transaction is active"),
        "{err}"
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM t").await, 0);
}
