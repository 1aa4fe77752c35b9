//! The floor: rusqlite called directly on the benchmark's thread (no async, no thread hop).

use std::path::Path;
use std::time::Instant;

use super::{INSERT, NAME, SELECT, Sizes, Timing, Workload, check, select_id, value_of};

pub fn run(path: &Path, w: Workload, s: Sizes) -> Timing {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    let start = Instant::now();
    if w.is_insert() {
        // Concurrency changes nothing here: one thread, one call after another.
        for chunk in 0..s.rows / s.per_tx {
            let tx = conn.transaction().unwrap();
            for i in 0..s.per_tx {
                let id = chunk * s.per_tx + i + 1;
                let mut stmt = tx.prepare_cached(INSERT).unwrap();
                stmt.execute(rusqlite::params![id, NAME, value_of(id)])
                    .unwrap();
            }
            tx.commit().unwrap();
        }
    } else {
        for i in 0..s.rows {
            let id = select_id(i, s.rows);
            let mut stmt = conn.prepare_cached(SELECT).unwrap();
            let (name, value): (String, i64) = stmt
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            check(id, &name, value);
        }
    }
    start.elapsed()
}
