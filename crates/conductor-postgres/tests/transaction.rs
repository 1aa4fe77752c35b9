//! Transactions as guards: commit, rollback, drop without commit rolls back (before the next
//! call), savepoints, options.
mod common;

use common::with_conn;
use conductor_postgres::{Connection, IsolationLevel, TransactionOptions};

async fn setup(conn: &Connection, name: &str) -> String {
    let t = common::table(name);
    conn.execute_script(&format!(
        "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id int)"
    ))
    .await
    .unwrap();
    t
}

async fn count(conn: &Connection, t: &str) -> i64 {
    conn.fetchval(&format!("SELECT count(*) FROM {t}"), &[])
        .await
        .unwrap()
}

/// Asks the server: SAVEPOINT outside a transaction block fails with 25P01.
async fn in_server_transaction(conn: &Connection) -> bool {
    match conn
        .execute_script("SAVEPOINT probe; RELEASE SAVEPOINT probe")
        .await
    {
        Ok(()) => true,
        Err(e) => {
            assert_eq!(
                e.code(),
                Some(&conductor_postgres::SqlState::NO_ACTIVE_SQL_TRANSACTION)
            );
            false
        }
    }
}

#[test]
fn commit_keeps_the_changes() {
    with_conn(|conn| async move {
        let t = setup(&conn, "tx_commit").await;
        let tx = conn.transaction().await.unwrap();
        assert!(tx.is_in_transaction());
        tx.execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(!conn.is_in_transaction());
        assert_eq!(count(&conn, &t).await, 1);
    });
}

#[test]
fn rollback_undoes_the_changes() {
    with_conn(|conn| async move {
        let t = setup(&conn, "tx_rollback").await;
        let tx = conn.transaction().await.unwrap();
        tx.execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(count(&conn, &t).await, 0);
    });
}

#[test]
fn a_guard_dropped_without_commit_rolls_back_before_the_next_call() {
    with_conn(|conn| async move {
        let t = setup(&conn, "tx_drop").await;
        {
            let tx = conn.transaction().await.unwrap();
            tx.execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
                .await
                .unwrap();
        }
        // The very next call already sees the rollback, and runs outside the transaction.
        assert_eq!(count(&conn, &t).await, 0);
        assert!(!in_server_transaction(&conn).await);
    });
}

#[test]
fn a_cancelled_task_inside_a_transaction_rolls_it_back() {
    with_conn(|conn| async move {
        let t = setup(&conn, "tx_cancel").await;
        let task = {
            let conn = conn.clone();
            let t = t.clone();
            conductor::spawn(async move {
                let tx = conn.transaction().await.unwrap();
                tx.execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
                    .await
                    .unwrap();
                tx.execute("SELECT pg_sleep(30)", &[]).await.unwrap();
                tx.commit().await.unwrap();
            })
        };
        conductor::sleep(std::time::Duration::from_millis(300)).await;
        task.cancel();
        assert!(task.await.is_err());
        let started = std::time::Instant::now();
        assert_eq!(count(&conn, &t).await, 0);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    });
}

#[test]
fn a_savepoint_rolls_back_only_its_part() {
    with_conn(|conn| async move {
        let t = setup(&conn, "tx_savepoint").await;
        let tx = conn.transaction().await.unwrap();
        tx.execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
            .await
            .unwrap();
        let sp = tx.savepoint().await.unwrap();
        assert!(sp.is_savepoint());
        sp.execute(&format!("INSERT INTO {t} VALUES (2)"), &[])
            .await
            .unwrap();
        sp.rollback().await.unwrap();
        let sp = tx.savepoint().await.unwrap();
        sp.execute(&format!("INSERT INTO {t} VALUES (3)"), &[])
            .await
            .unwrap();
        sp.commit().await.unwrap();
        {
            let dropped = tx.savepoint().await.unwrap();
            dropped
                .execute(&format!("INSERT INTO {t} VALUES (4)"), &[])
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let ids: Vec<i32> = conn
            .fetch(&format!("SELECT id FROM {t} ORDER BY id"), &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(ids, [1, 3]);
    });
}

#[test]
fn a_failed_statement_inside_a_savepoint_leaves_the_transaction_usable() {
    with_conn(|conn| async move {
        let t = setup(&conn, "tx_sp_error").await;
        let tx = conn.transaction().await.unwrap();
        tx.execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
            .await
            .unwrap();
        let sp = tx.savepoint().await.unwrap();
        assert!(sp.execute("SELECT 1/0", &[]).await.is_err());
        sp.rollback().await.unwrap();
        tx.execute(&format!("INSERT INTO {t} VALUES (2)"), &[])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&conn, &t).await, 2);
    });
}

#[test]
fn executemany_inside_a_transaction_uses_a_savepoint() {
    with_conn(|conn| async move {
        let t = setup(&conn, "tx_many").await;
        conn.execute_script(&format!("ALTER TABLE {t} ADD PRIMARY KEY (id)"))
            .await
            .unwrap();
        let tx = conn.transaction().await.unwrap();
        tx.execute(&format!("INSERT INTO {t} VALUES (100)"), &[])
            .await
            .unwrap();
        let bad = [1i32, 1];
        assert!(
            tx.executemany(
                &format!("INSERT INTO {t} VALUES ($1)"),
                bad.iter()
                    .map(|i| [i as &(dyn conductor_postgres::ToSql + Sync)]),
            )
            .await
            .is_err()
        );
        // The outer transaction survived the failed batch.
        tx.execute(&format!("INSERT INTO {t} VALUES (200)"), &[])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&conn, &t).await, 2);
    });
}

#[test]
fn transaction_options_set_isolation_and_read_only() {
    with_conn(|conn| async move {
        let tx = conn
            .transaction_with(TransactionOptions {
                isolation: Some(IsolationLevel::Serializable),
                read_only: true,
                deferrable: false,
            })
            .await
            .unwrap();
        let level: String = tx
            .fetchval("SHOW transaction_isolation", &[])
            .await
            .unwrap();
        assert_eq!(level, "serializable");
        let ro: String = tx
            .fetchval("SHOW transaction_read_only", &[])
            .await
            .unwrap();
        assert_eq!(ro, "on");
        tx.rollback().await.unwrap();
    });
}
