//! conductor-sqlite on a conductor loop: `Transaction::execute` per insert, `fetch_one` per
//! select.

use std::path::Path;
use std::time::Instant;

use super::{INSERT, NAME, SELECT, Sizes, Timing, Workload, check, select_id, value_of};

pub fn run(path: &Path, w: Workload, s: Sizes) -> Timing {
    let rt = conductor::Runtime::new().unwrap();
    let path = path.to_owned();
    rt.block_on(async move {
        let mut db = conductor_sqlite::Options::new(&path)
            .pragma("synchronous", "NORMAL")
            .connect()
            .await
            .unwrap();
        let start = Instant::now();
        match w {
            Workload::InsertSeq => {
                for chunk in 0..s.rows / s.per_tx {
                    let tx = db.transaction().await.unwrap();
                    for i in 0..s.per_tx {
                        let id = chunk * s.per_tx + i + 1;
                        tx.execute(INSERT, (id, NAME, value_of(id))).await.unwrap();
                    }
                    tx.commit().await.unwrap();
                }
            }
            Workload::InsertConcurrent => {
                for chunk in 0..s.rows / s.per_tx {
                    let tx = db.transaction().await.unwrap();
                    let ids = (0..s.per_tx).map(|i| chunk * s.per_tx + i + 1);
                    for window in ids.collect::<Vec<_>>().chunks(s.tasks as usize) {
                        let inserts = window
                            .iter()
                            .map(|&id| tx.execute(INSERT, (id, NAME, value_of(id))));
                        // An `Err` output fails the gather (asyncio's gather raising the first exception).
                        conductor::gather(inserts).await.unwrap();
                    }
                    tx.commit().await.unwrap();
                }
            }
            Workload::SelectSeq => {
                for i in 0..s.rows {
                    select(&db, select_id(i, s.rows)).await;
                }
            }
            Workload::SelectConcurrent => {
                let tasks = (0..s.tasks).map(|t| {
                    let db = db.clone();
                    async move {
                        let mut i = t;
                        while i < s.rows {
                            select(&db, select_id(i, s.rows)).await;
                            i += s.tasks;
                        }
                    }
                });
                conductor::gather(tasks).await.unwrap();
            }
        }
        let took = start.elapsed();
        db.close().await.unwrap();
        took
    })
}

async fn select(db: &conductor_sqlite::Connection, id: i64) {
    let row = db.fetch_one(SELECT, (id,)).await.unwrap().unwrap();
    check(id, &row.get::<String>(0).unwrap(), row.get(1).unwrap());
}
