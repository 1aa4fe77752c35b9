//! The conductor-postgres client: conductor's loop, the pool with asyncpg's defaults (its
//! reset on release included, unless `reset=nothing`).

use std::time::Instant;

use conductor_postgres::{Pool, Reset, ToSql};

use super::{FETCH_1000, INSERT, Measure, SELECT_PK, Work, cpu_now, id_for, rows};

pub fn run(dsn: &str, work: Work, reset: Reset) {
    let dsn = dsn.to_owned();
    conductor::run(async move {
        let config: conductor_postgres::Config = dsn.parse().expect("the DSN parses");
        let pool = Pool::builder(config)
            .min_size(10)
            .max_size(10)
            .reset(reset)
            .build()
            .await
            .expect("the server accepts 10 connections");
        let _ = all(&pool, work.warmup()).await;
        for (name, m) in all(&pool, work).await {
            println!("{}", m.line(name));
        }
        pool.close().await;
    });
}

async fn all(pool: &Pool, work: Work) -> Vec<(&'static str, Measure)> {
    vec![
        ("select_pk_c10", selects(pool, 10, work.selects).await),
        ("select_pk_c100", selects(pool, 100, work.selects).await),
        ("fetch_1000", fetches(pool, work.fetches).await),
        ("copy_in_10000", copies(pool, work.copies).await),
        ("insert_batch_1000", inserts(pool, work.batches).await),
    ]
}

async fn selects(pool: &Pool, tasks: usize, total: usize) -> Measure {
    let (t0, c0) = (Instant::now(), cpu_now());
    let per = total / tasks;
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let pool = pool.clone();
            conductor::spawn(async move {
                for i in 0..per {
                    let conn = pool.acquire().await.unwrap();
                    let row = conn
                        .fetchrow(SELECT_PK, &[&id_for(t * per + i)])
                        .await
                        .unwrap();
                    assert!(row.is_some());
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    measure((per * tasks) as u64, t0, c0)
}

async fn fetches(pool: &Pool, n: usize) -> Measure {
    let conn = pool.acquire().await.unwrap();
    let (t0, c0) = (Instant::now(), cpu_now());
    for _ in 0..n {
        assert_eq!(conn.fetch(FETCH_1000, &[]).await.unwrap().len(), 1000);
    }
    measure(n as u64, t0, c0)
}

async fn copies(pool: &Pool, n: usize) -> Measure {
    let conn = pool.acquire().await.unwrap();
    conn.execute_script("TRUNCATE bench_copy").await.unwrap();
    let data = rows(10_000);
    let (t0, c0) = (Instant::now(), cpu_now());
    for _ in 0..n {
        let copied = conn
            .copy_records_to_table(
                "bench_copy",
                &["id", "name", "score"],
                data.iter()
                    .map(|(i, s, f)| [i as &(dyn ToSql + Sync), s, f]),
            )
            .await
            .unwrap();
        assert_eq!(copied, 10_000);
    }
    measure((n * 10_000) as u64, t0, c0)
}

async fn inserts(pool: &Pool, n: usize) -> Measure {
    let conn = pool.acquire().await.unwrap();
    conn.execute_script("TRUNCATE bench_insert").await.unwrap();
    let data: Vec<(i32, String)> = (0..1000).map(|i| (i, format!("name {i}"))).collect();
    let (t0, c0) = (Instant::now(), cpu_now());
    for _ in 0..n {
        conn.executemany(
            INSERT,
            data.iter().map(|(i, s)| [i as &(dyn ToSql + Sync), s]),
        )
        .await
        .unwrap();
    }
    measure((n * 1000) as u64, t0, c0)
}

fn measure(ops: u64, t0: Instant, c0: std::time::Duration) -> Measure {
    Measure {
        ops,
        wall: t0.elapsed(),
        cpu: cpu_now() - c0,
    }
}
