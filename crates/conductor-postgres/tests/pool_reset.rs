//! What a released connection carries to its next user: nothing (asyncpg's reset), and a
//! broken or expired connection is discarded, an idle one checked.
mod common;

use std::time::Duration;

use conductor_postgres::{Pool, Reset};

async fn one_connection_pool(reset: Reset) -> Option<Pool> {
    let config = common::config()?;
    Some(
        Pool::builder(config)
            .min_size(1)
            .max_size(1)
            .reset(reset)
            .build()
            .await
            .unwrap(),
    )
}

#[test]
fn session_settings_and_listens_do_not_reach_the_next_user() {
    common::run(async move {
        let Some(pool) = one_connection_pool(Reset::Asyncpg).await else {
            return;
        };
        {
            let c = pool.acquire().await.unwrap();
            c.execute_script("SET search_path = nowhere; SET application_name = 'dirty'")
                .await
                .unwrap();
            let _events = c.listen("leftover").await.unwrap();
            let _: Option<String> = c
                .fetchval("SELECT pg_advisory_lock(42)::text", &[])
                .await
                .unwrap();
        }
        let c = pool.acquire().await.unwrap();
        let path: String = c.fetchval("SHOW search_path", &[]).await.unwrap();
        assert_eq!(path, "\"$user\", public");
        let app: String = c.fetchval("SHOW application_name", &[]).await.unwrap();
        assert_eq!(app, "");
        let listens: i64 = c
            .fetchval("SELECT count(*) FROM pg_listening_channels()", &[])
            .await
            .unwrap();
        assert_eq!(listens, 0);
        let locks: i64 = c
            .fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()", &[])
            .await
            .unwrap();
        assert_eq!(locks, 0);
        drop(c);
        pool.close().await;
    });
}

/// The next user already waits when the connection is released: the reset and that user's
/// first query leave in one write (the driver lets the waiter run before it writes), and the
/// reset still runs first on the server.
#[test]
fn a_waiting_next_user_gets_a_reset_session() {
    common::run(async move {
        let Some(pool) = one_connection_pool(Reset::Asyncpg).await else {
            return;
        };
        let first = pool.acquire().await.unwrap();
        first
            .execute_script("SET application_name = 'dirty'")
            .await
            .unwrap();
        let waiter = {
            let pool = pool.clone();
            conductor::spawn(async move {
                let c = pool.acquire().await.unwrap();
                c.fetchval::<String>("SHOW application_name", &[])
                    .await
                    .unwrap()
            })
        };
        // The waiter is queued on the pool before the release.
        for _ in 0..10 {
            conductor::yield_now().await;
        }
        assert!(!waiter.is_done());
        drop(first);
        assert_eq!(waiter.await.unwrap(), "");
        pool.close().await;
    });
}

#[test]
fn reset_nothing_leaves_the_session_as_it_was() {
    common::run(async move {
        let Some(pool) = one_connection_pool(Reset::Nothing).await else {
            return;
        };
        pool.acquire()
            .await
            .unwrap()
            .execute_script("SET search_path = kept")
            .await
            .unwrap();
        let path: String = pool.fetchval("SHOW search_path", &[]).await.unwrap();
        assert_eq!(path, "kept");
        pool.close().await;
    });
}

#[test]
fn a_transaction_left_open_is_rolled_back_on_release() {
    common::run(async move {
        let Some(pool) = one_connection_pool(Reset::Asyncpg).await else {
            return;
        };
        let t = common::table("pool_tx");
        pool.execute(&format!("CREATE TABLE IF NOT EXISTS {t} (id int)"), &[])
            .await
            .unwrap();
        {
            let c = pool.acquire().await.unwrap();
            let tx = c.transaction().await.unwrap();
            tx.execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
                .await
                .unwrap();
            drop(tx);
        }
        let n: i64 = pool
            .fetchval(&format!("SELECT count(*) FROM {t}"), &[])
            .await
            .unwrap();
        assert_eq!(n, 0);
        pool.execute(&format!("DROP TABLE {t}"), &[]).await.unwrap();
        pool.close().await;
    });
}

#[test]
fn a_broken_connection_is_discarded_and_replaced() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let Some(pool) = one_connection_pool(Reset::Asyncpg).await else {
            return;
        };
        let admin = common::connect(&dsn).await;
        let pid: i32 = pool.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
        {
            let c = pool.acquire().await.unwrap();
            let _: bool = admin
                .fetchval("SELECT pg_terminate_backend($1)", &[&pid])
                .await
                .unwrap();
            let e = c.fetchval::<i32>("SELECT 1", &[]).await.unwrap_err();
            assert!(e.is_closed(), "{e}");
        }
        // Given back broken: discarded, and the next acquire opens a new one.
        let new_pid: i32 = pool.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
        assert_ne!(new_pid, pid);
        assert_eq!(pool.size(), 1);
        admin.close().await;
        pool.close().await;
    });
}

#[test]
fn an_idle_connection_closed_by_the_server_is_skipped_at_acquire() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let Some(pool) = one_connection_pool(Reset::Asyncpg).await else {
            return;
        };
        let admin = common::connect(&dsn).await;
        let pid: i32 = pool.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
        let _: bool = admin
            .fetchval("SELECT pg_terminate_backend($1)", &[&pid])
            .await
            .unwrap();
        conductor::sleep(Duration::from_millis(200)).await; // the driver reads the FATAL
        let new_pid: i32 = pool.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
        assert_ne!(new_pid, pid);
        admin.close().await;
        pool.close().await;
    });
}

#[test]
fn connections_past_their_lifetime_or_idle_time_are_replaced() {
    common::with_config(|config| async move {
        for pool in [
            Pool::builder(config.clone())
                .min_size(1)
                .max_size(1)
                .max_lifetime(Some(Duration::from_millis(100))),
            Pool::builder(config.clone())
                .min_size(1)
                .max_size(1)
                .max_idle(Some(Duration::from_millis(100))),
        ] {
            let pool = pool.build().await.unwrap();
            let first: i32 = pool.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
            conductor::sleep(Duration::from_millis(250)).await;
            let second: i32 = pool.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
            assert_ne!(first, second);
            pool.close().await;
        }
    });
}

#[test]
fn a_long_idle_connection_is_pinged_and_kept_when_healthy() {
    common::with_config(|config| async move {
        let pool = Pool::builder(config)
            .min_size(1)
            .max_size(1)
            .health_check_after(Some(Duration::from_millis(50)))
            .build()
            .await
            .unwrap();
        let first: i32 = pool.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
        conductor::sleep(Duration::from_millis(150)).await;
        let second: i32 = pool.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
        assert_eq!(first, second);
        pool.close().await;
    });
}

#[test]
fn a_detached_connection_leaves_the_pool() {
    common::with_config(|config| async move {
        let pool = Pool::builder(config)
            .min_size(1)
            .max_size(1)
            .build()
            .await
            .unwrap();
        let conn = pool.acquire().await.unwrap().detach();
        assert_eq!(pool.size(), 0);
        let other = pool.acquire().await.unwrap();
        assert_ne!(
            conn.fetchval::<i32>("SELECT pg_backend_pid()", &[])
                .await
                .unwrap(),
            other
                .fetchval::<i32>("SELECT pg_backend_pid()", &[])
                .await
                .unwrap()
        );
        drop(other);
        conn.close().await;
        pool.close().await;
    });
}

#[test]
fn an_unused_idle_connection_is_closed_after_max_idle_while_another_stays_busy() {
    common::with_config(|config| async move {
        let pool = Pool::builder(config)
            .min_size(2)
            .max_size(2)
            .max_idle(Some(Duration::from_millis(200)))
            .build()
            .await
            .unwrap();
        assert_eq!(pool.size(), 2);
        // One task at a time: each acquire takes the newest idle connection, so the other
        // one is never used.
        let until = std::time::Instant::now() + Duration::from_millis(500);
        while std::time::Instant::now() < until {
            let _: i32 = pool.fetchval("SELECT 1", &[]).await.unwrap();
            conductor::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(pool.size(), 1, "the unused connection was closed");
        pool.close().await;
    });
}
