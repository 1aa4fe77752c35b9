//! The SQLite benchmark's workloads and contenders (see `src/bin/sqlite.rs`).

pub mod conductor_sqlite;
pub mod direct;
pub mod python;
pub mod tokio_rusqlite;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The table every contender fills and reads, with the same settings: WAL (conductor-sqlite's
/// default for files) and `synchronous=NORMAL` (so that 100 commits measure the calls, not
/// the disk's flushes).
pub const SETUP: &str = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
    CREATE TABLE bench(id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL);";
pub const INSERT: &str = "INSERT INTO bench(id, name, value) VALUES (?1, ?2, ?3)";
pub const SELECT: &str = "SELECT name, value FROM bench WHERE id = ?1";
pub const NAME: &str = "a row of the benchmark";

/// Sizes: `rows` single-row inserts in transactions of `per_tx`, then `rows` point selects.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub rows: i64,
    pub per_tx: i64,
    /// Calls in flight at once in the concurrent workloads.
    pub tasks: i64,
}

/// The workloads, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// One task: each insert awaited before the next.
    InsertSeq,
    /// The inserts of each transaction all in flight at once (`tasks` at a time).
    InsertConcurrent,
    /// One task: each select awaited before the next.
    SelectSeq,
    /// `tasks` tasks selecting at once.
    SelectConcurrent,
}

pub const WORKLOADS: [Workload; 4] = [
    Workload::InsertSeq,
    Workload::InsertConcurrent,
    Workload::SelectSeq,
    Workload::SelectConcurrent,
];

impl Workload {
    pub fn label(self, s: Sizes) -> String {
        match self {
            Workload::InsertSeq => format!("insert, 1 task (tx of {})", s.per_tx),
            Workload::InsertConcurrent => {
                format!("insert, {} in flight (tx of {})", s.tasks, s.per_tx)
            }
            Workload::SelectSeq => "point select, 1 task".into(),
            Workload::SelectConcurrent => format!("point select, {} tasks", s.tasks),
        }
    }

    pub fn is_insert(self) -> bool {
        matches!(self, Workload::InsertSeq | Workload::InsertConcurrent)
    }
}

/// The id of the `i`-th point select: a fixed permutation-like walk over 1..=rows, the same
/// for every contender.
pub fn select_id(i: i64, rows: i64) -> i64 {
    (i * 2_654_435_761) % rows + 1
}

/// The value stored for `id`, checked by the selects.
pub fn value_of(id: i64) -> i64 {
    id * 7
}

/// A contender's time for one workload: the total for `rows` calls.
pub type Timing = Duration;

/// A scratch directory for the database files, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("conductor-bench-sqlite-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cannot create the scratch directory");
        Scratch(dir)
    }

    /// The database file `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(format!("{name}.db"))
    }

    /// The database file `name`, with any previous file and its WAL removed.
    pub fn fresh(&self, name: &str) -> PathBuf {
        let path = self.path(name);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks a select's result, so no contender can skip the work.
pub fn check(id: i64, name: &str, value: i64) {
    assert_eq!((name, value), (NAME, value_of(id)), "row {id}");
}

/// Opens the file the way every Rust contender does, for the setup.
pub fn create(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(SETUP).unwrap();
}
