//! Cancellation that reaches the server: a call abandoned by a timeout or a task cancellation
//! sends PostgreSQL's CancelRequest, and the next call on the connection does not wait behind
//! the abandoned query (bare tokio-postgres makes it wait: the server finishes the sleep).
//! Real clock (the server is real); the bounds are loose: a 30 s sleep against a few seconds.
mod common;

use std::time::{Duration, Instant};

use conductor_postgres::{Connection, Error};

const LONG: &str = "SELECT pg_sleep(30)";
/// Far below the 30 s the server would sleep, far above a round trip.
const SOON: Duration = Duration::from_secs(5);

async fn backend_state(observer: &Connection, pid: i32) -> String {
    observer
        .fetchval::<Option<String>>("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .await
        .unwrap()
        .unwrap_or_default()
}

#[test]
fn a_timed_out_query_is_cancelled_on_the_server_and_the_next_query_runs_at_once() {
    common::with_conn(|conn| async move {
        let r = conductor::timeout(Duration::from_millis(200), conn.execute(LONG, &[])).await;
        assert!(r.is_err(), "the timeout fired");
        let started = Instant::now();
        let one: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        assert_eq!(one, 1);
        assert!(
            started.elapsed() < SOON,
            "waited {:?} behind the cancelled sleep",
            started.elapsed()
        );
    });
}

#[test]
fn a_cancelled_task_s_query_is_cancelled_on_the_server() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let conn = common::connect(&dsn).await;
        let observer = common::connect(&dsn).await;
        let pid: i32 = conn.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
        let task = {
            let conn = conn.clone();
            conductor::spawn(async move { conn.execute(LONG, &[]).await })
        };
        // Wait until the server runs the sleep.
        let deadline = Instant::now() + SOON;
        while backend_state(&observer, pid).await != "active" {
            assert!(Instant::now() < deadline, "the sleep never started");
            conductor::sleep(Duration::from_millis(20)).await;
        }
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        let started = Instant::now();
        let one: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        assert_eq!(one, 1);
        assert!(started.elapsed() < SOON);
        assert_eq!(backend_state(&observer, pid).await, "idle");
        conn.close().await;
        observer.close().await;
    });
}

#[test]
fn command_timeout_cancels_and_reports_timed_out() {
    let Some(mut config) = common::config() else {
        return;
    };
    config.command_timeout(Duration::from_millis(200));
    common::run(async move {
        let conn = config.connect().await.unwrap();
        let e = conn.execute(LONG, &[]).await.unwrap_err();
        assert!(
            matches!(e, Error::TimedOut(d) if d == Duration::from_millis(200)),
            "{e}"
        );
        assert!(e.to_string().contains("cancelled on the server"), "{e}");
        let started = Instant::now();
        let one: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        assert_eq!(one, 1);
        assert!(started.elapsed() < SOON);
        conn.close().await;
    });
}

#[test]
fn a_query_cancelled_by_the_server_reports_query_canceled() {
    // The server's side of a cancel, seen by the query itself: SQLSTATE 57014.
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let conn = common::connect(&dsn).await;
        let e = conn
            .execute_script("SET statement_timeout = '100ms'; SELECT pg_sleep(30)")
            .await
            .unwrap_err();
        assert_eq!(
            e.code(),
            Some(&conductor_postgres::SqlState::QUERY_CANCELED),
            "{e}"
        );
        assert!(e.to_string().contains("57014"), "{e}");
        conn.close().await;
    });
}

#[test]
fn several_abandoned_queries_in_a_row_leave_the_connection_usable() {
    common::with_conn(|conn| async move {
        let started = Instant::now();
        for _ in 0..3 {
            let r = conductor::timeout(Duration::from_millis(100), conn.execute(LONG, &[])).await;
            assert!(r.is_err());
        }
        for i in 0..3i32 {
            let v: i32 = conn.fetchval("SELECT $1::int", &[&i]).await.unwrap();
            assert_eq!(v, i);
        }
        assert!(started.elapsed() < SOON * 2);
    });
}

#[test]
fn cancels_among_pipelined_queries_never_give_a_wrong_result() {
    // Many tasks share one connection while another keeps abandoning sleeps on it: each
    // query either returns its own value or fails with 57014 (a cancel that met it in the
    // pipeline); none returns another's reply, and the connection ends usable.
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let conn = common::connect(&dsn).await;
        let canceller = {
            let conn = conn.clone();
            conductor::spawn(async move {
                for _ in 0..5 {
                    let r = conductor::timeout(Duration::from_millis(30), conn.execute(LONG, &[]))
                        .await;
                    assert!(r.is_err());
                }
            })
        };
        let workers: Vec<_> = (0..20i32)
            .map(|w| {
                let conn = conn.clone();
                conductor::spawn(async move {
                    let mut cancelled = 0;
                    for i in 0..25i32 {
                        let v = w * 1000 + i;
                        match conn.fetchval::<i32>("SELECT $1::int", &[&v]).await {
                            Ok(got) => assert_eq!(got, v),
                            Err(e) => {
                                assert_eq!(
                                    e.code(),
                                    Some(&conductor_postgres::SqlState::QUERY_CANCELED),
                                    "{e}"
                                );
                                cancelled += 1;
                            }
                        }
                    }
                    cancelled
                })
            })
            .collect();
        canceller.await.unwrap();
        let mut cancelled = 0;
        for w in workers {
            cancelled += w.await.unwrap();
        }
        assert!(cancelled < 20 * 25, "most queries ran");
        let one: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        assert_eq!(one, 1);
        conn.close().await;
    });
}
