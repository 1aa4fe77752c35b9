//! The tokio-postgres + deadpool-postgres client on tokio's current_thread runtime: the
//! field's usual stack. deadpool's default recycling (`Fast`: only `is_closed`), its
//! statement cache (`prepare_cached`), and for the batches the same pipelining as
//! conductor-postgres' `executemany` (every execute sent before the first reply, in a
//! transaction).

use std::time::Instant;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::join_all;
use tokio_postgres::NoTls;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::{FETCH_1000, INSERT, Measure, SELECT_PK, Work, cpu_now, id_for, rows};

pub fn run(dsn: &str, work: Work) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let config: tokio_postgres::Config = dsn.parse().unwrap();
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(10).build().unwrap();
        // Open the ten connections up front, as the other clients do.
        let warm: Vec<_> = join_all((0..10).map(|_| pool.get())).await;
        drop(warm);
        let _ = all(&pool, work.warmup()).await;
        for (name, m) in all(&pool, work).await {
            println!("{}", m.line(name));
        }
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
            tokio::spawn(async move {
                for i in 0..per {
                    let client = pool.get().await.unwrap();
                    let st = client.prepare_cached(SELECT_PK).await.unwrap();
                    let row = client
                        .query_opt(&st, &[&id_for(t * per + i)])
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
    let client = pool.get().await.unwrap();
    let (t0, c0) = (Instant::now(), cpu_now());
    for _ in 0..n {
        let st = client.prepare_cached(FETCH_1000).await.unwrap();
        assert_eq!(client.query(&st, &[]).await.unwrap().len(), 1000);
    }
    measure(n as u64, t0, c0)
}

async fn copies(pool: &Pool, n: usize) -> Measure {
    let client = pool.get().await.unwrap();
    client.batch_execute("TRUNCATE bench_copy").await.unwrap();
    let data = rows(10_000);
    let (t0, c0) = (Instant::now(), cpu_now());
    for _ in 0..n {
        let sink = client
            .copy_in("COPY bench_copy (id, name, score) FROM STDIN (FORMAT binary)")
            .await
            .unwrap();
        let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::TEXT, Type::FLOAT8]);
        futures_util::pin_mut!(writer);
        for (i, s, f) in &data {
            writer.as_mut().write(&[i, s, f]).await.unwrap();
        }
        assert_eq!(writer.finish().await.unwrap(), 10_000);
    }
    measure((n * 10_000) as u64, t0, c0)
}

async fn inserts(pool: &Pool, n: usize) -> Measure {
    let mut client = pool.get().await.unwrap();
    client.batch_execute("TRUNCATE bench_insert").await.unwrap();
    let data: Vec<(i32, String)> = (0..1000).map(|i| (i, format!("name {i}"))).collect();
    let (t0, c0) = (Instant::now(), cpu_now());
    for _ in 0..n {
        let st = client.prepare_cached(INSERT).await.unwrap();
        let tx = client.transaction().await.unwrap();
        let params: Vec<[&(dyn ToSql + Sync); 2]> = data
            .iter()
            .map(|(i, s)| [i as &(dyn ToSql + Sync), s])
            .collect();
        let results = join_all(params.iter().map(|p| tx.execute(&st, p))).await;
        for r in results {
            r.unwrap();
        }
        tx.commit().await.unwrap();
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
