//! The pool's limits: max_size under 1,000 concurrent tasks, min_size, the acquire timeout,
//! and close() waiting for the connections in use.
mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use conductor_postgres::{Error, Pool};

async fn server_connections(pool: &Pool, app: &str) -> i64 {
    pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
        &[&app],
    )
    .await
    .unwrap()
}

#[test]
fn a_thousand_tasks_share_max_size_connections() {
    let Some(mut config) = common::config() else {
        return;
    };
    config.application_name("pool_limits_1000");
    common::run(async move {
        let pool = Pool::builder(config)
            .min_size(2)
            .max_size(10)
            .build()
            .await
            .unwrap();
        assert_eq!(pool.size(), 2);
        let busy = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        let tasks: Vec<_> = (0..1000i32)
            .map(|i| {
                let (pool, busy, peak) = (pool.clone(), busy.clone(), peak.clone());
                conductor::spawn(async move {
                    let conn = pool.acquire().await.unwrap();
                    busy.set(busy.get() + 1);
                    peak.set(peak.get().max(busy.get()));
                    let v: i32 = conn.fetchval("SELECT $1::int", &[&i]).await.unwrap();
                    busy.set(busy.get() - 1);
                    v
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), i as i32);
        }
        assert_eq!(
            peak.get(),
            10,
            "at most max_size guards at once, and all of them used"
        );
        assert!(pool.size() <= 10);
        assert_eq!(pool.in_use(), 0);
        assert!(server_connections(&pool, "pool_limits_1000").await <= 10);
        pool.close().await;
        assert_eq!(pool.size(), 0);
    });
}

#[test]
fn min_size_connections_are_open_before_the_first_acquire() {
    let Some(mut config) = common::config() else {
        return;
    };
    config.application_name("pool_min_size");
    common::run(async move {
        let pool = Pool::builder(config)
            .min_size(3)
            .max_size(5)
            .build()
            .await
            .unwrap();
        assert_eq!((pool.size(), pool.idle()), (3, 3));
        // One of them runs the count.
        assert_eq!(server_connections(&pool, "pool_min_size").await, 3);
        pool.close().await;
    });
}

#[test]
fn acquire_times_out_when_every_connection_is_in_use() {
    common::with_config(|config| async move {
        let pool = Pool::builder(config)
            .min_size(1)
            .max_size(1)
            .acquire_timeout(Duration::from_millis(200))
            .build()
            .await
            .unwrap();
        let held = pool.acquire().await.unwrap();
        let started = Instant::now();
        let e = pool.acquire().await.unwrap_err();
        assert!(
            matches!(e, Error::PoolTimedOut(d) if d == Duration::from_millis(200)),
            "{e}"
        );
        assert!(started.elapsed() >= Duration::from_millis(200));
        drop(held);
        let again = pool.acquire().await.unwrap();
        drop(again);
        pool.close().await;
    });
}

#[test]
fn close_waits_for_connections_in_use_and_then_refuses() {
    common::with_config(|config| async move {
        let pool = Pool::builder(config)
            .min_size(1)
            .max_size(2)
            .build()
            .await
            .unwrap();
        let conn = pool.acquire().await.unwrap();
        let closer = {
            let pool = pool.clone();
            conductor::spawn(async move { pool.close().await })
        };
        conductor::sleep(Duration::from_millis(100)).await;
        assert!(
            !closer.is_done(),
            "close waits while a connection is in use"
        );
        assert!(pool.is_closed());
        assert!(matches!(
            pool.acquire().await.unwrap_err(),
            Error::PoolClosed
        ));
        // The connection in use still works until it is given back.
        let _: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        drop(conn);
        conductor::timeout(Duration::from_secs(5), closer)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pool.size(), 0);
    });
}

#[test]
fn bad_sizes_are_refused() {
    common::with_config(|config| async move {
        let e = Pool::builder(config.clone())
            .min_size(3)
            .max_size(2)
            .build()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("min_size=3 max_size=2"), "{e}");
        assert!(
            Pool::builder(config)
                .min_size(0)
                .max_size(0)
                .build()
                .await
                .is_err()
        );
    });
}

#[test]
fn create_pool_uses_asyncpg_s_defaults() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let pool = conductor_postgres::create_pool(&dsn).await.unwrap();
        assert_eq!(
            (pool.min_size(), pool.max_size(), pool.size()),
            (10, 10, 10)
        );
        pool.close().await;
    });
}
