//! Helpers shared by the test files: temporary database files and a query that runs for
//! minutes unless it is interrupted.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use conductor_sqlite::Connection;

/// A fresh directory for database files, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "conductor-sqlite-{name}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Counts to a billion: minutes of work for SQLite, unless interrupted. `started()` (see
/// [`signal_start`]) is called as its first row is made.
pub const RUNAWAY: &str = "WITH RECURSIVE c(x) AS (SELECT started() UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c";

/// How long a test waits, in real time, for something the SQLite thread does in microseconds:
/// generous, since the machine may be loaded; the runaway query takes far longer.
pub const GENEROUS: Duration = Duration::from_secs(20);

/// Registers `started()` on the connection: each call sends on the returned channel.
pub async fn signal_start(db: &Connection) -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    db.call(move |conn| {
        conn.create_scalar_function(
            "started",
            0,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            move |_| {
                let _ = tx.send(());
                Ok(1)
            },
        )
    })
    .await
    .unwrap();
    rx
}

/// Waits (on the thread pool, so a paused clock does not jump meanwhile) until `started()` ran.
pub async fn wait_started(rx: mpsc::Receiver<()>) -> mpsc::Receiver<()> {
    conductor::to_thread(move || {
        rx.recv_timeout(GENEROUS).expect("the query did not start");
        rx
    })
    .await
    .unwrap()
}

/// The single integer of a one-row, one-column query.
pub async fn scalar(db: &Connection, sql: &str) -> i64 {
    db.fetch_one(sql, ())
        .await
        .unwrap()
        .unwrap()
        .get(0)
        .unwrap()
}
