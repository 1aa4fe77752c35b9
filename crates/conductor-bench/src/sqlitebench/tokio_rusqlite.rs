//! tokio-rusqlite on tokio's current-thread runtime: the same thread-per-connection design,
//! one `call` per statement.

use std::path::Path;
use std::time::Instant;

use super::{INSERT, NAME, SELECT, Sizes, Timing, Workload, check, select_id, value_of};

type Conn = tokio_rusqlite::Connection;

pub fn run(path: &Path, w: Workload, s: Sizes) -> Timing {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let db = Conn::open(path).await.unwrap();
        db.call(|c| c.pragma_update(None, "synchronous", "NORMAL"))
            .await
            .unwrap();
        let start = Instant::now();
        match w {
            Workload::InsertSeq => {
                for chunk in 0..s.rows / s.per_tx {
                    batch(&db, "BEGIN").await;
                    for i in 0..s.per_tx {
                        insert(&db, chunk * s.per_tx + i + 1).await;
                    }
                    batch(&db, "COMMIT").await;
                }
            }
            Workload::InsertConcurrent => {
                for chunk in 0..s.rows / s.per_tx {
                    batch(&db, "BEGIN").await;
                    let ids: Vec<i64> = (0..s.per_tx).map(|i| chunk * s.per_tx + i + 1).collect();
                    for window in ids.chunks(s.tasks as usize) {
                        let handles: Vec<_> = window
                            .iter()
                            .map(|&id| {
                                let db = db.clone();
                                tokio::task::spawn_local(async move { insert(&db, id).await })
                            })
                            .collect();
                        for h in handles {
                            h.await.unwrap();
                        }
                    }
                    batch(&db, "COMMIT").await;
                }
            }
            Workload::SelectSeq => {
                for i in 0..s.rows {
                    select(&db, select_id(i, s.rows)).await;
                }
            }
            Workload::SelectConcurrent => {
                let handles: Vec<_> = (0..s.tasks)
                    .map(|t| {
                        let db = db.clone();
                        tokio::task::spawn_local(async move {
                            let mut i = t;
                            while i < s.rows {
                                select(&db, select_id(i, s.rows)).await;
                                i += s.tasks;
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            }
        }
        let took = start.elapsed();
        db.close().await.unwrap();
        took
    })
}

async fn batch(db: &Conn, sql: &'static str) {
    db.call(move |c| c.execute_batch(sql)).await.unwrap();
}

async fn insert(db: &Conn, id: i64) {
    db.call(move |c| {
        c.prepare_cached(INSERT)?
            .execute(rusqlite::params![id, NAME, value_of(id)])
    })
    .await
    .unwrap();
}

async fn select(db: &Conn, id: i64) {
    let (name, value): (String, i64) = db
        .call(move |c| {
            c.prepare_cached(SELECT)?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        })
        .await
        .unwrap();
    check(id, &name, value);
}
