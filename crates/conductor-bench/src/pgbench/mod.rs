//! The PostgreSQL benchmark's pieces: the workloads (`Work`), what a client reports
//! (`Measure`), the server setup, and the report. Each client runs in its own process, pinned
//! to CPU 1, and prints one line per workload; `conductor.rs` and `tokio.rs` are the Rust
//! clients, `asyncpg_client.py` the Python one.

pub mod conductor;
pub mod tokio;

use std::time::Duration;

/// The 1-row select by primary key.
pub const SELECT_PK: &str = "SELECT id, name, email FROM bench_users WHERE id = $1";
/// The 1,000-row fetch.
pub const FETCH_1000: &str = "SELECT id, name, email FROM bench_users ORDER BY id LIMIT 1000";
/// The batched insert's statement.
pub const INSERT: &str = "INSERT INTO bench_insert (id, name) VALUES ($1, $2)";
/// Rows in `bench_users`.
pub const USERS: i32 = 10_000;

/// How much of each workload a client runs.
#[derive(Clone, Copy, Debug)]
pub struct Work {
    /// Selects by primary key in each of the two concurrency cells.
    pub selects: usize,
    /// 1,000-row fetches.
    pub fetches: usize,
    /// COPYs of 10,000 rows.
    pub copies: usize,
    /// Batches of 1,000 inserted rows.
    pub batches: usize,
}

impl Work {
    pub fn new(quick: bool) -> Work {
        let k = if quick { 10 } else { 1 };
        Work {
            selects: 40_000 / k,
            fetches: 400 / k,
            copies: 20 / k,
            batches: 40 / k,
        }
    }

    /// A tenth, for the warm-up.
    pub fn warmup(self) -> Work {
        Work {
            selects: self.selects / 10,
            fetches: self.fetches / 10,
            copies: 1,
            batches: 1,
        }
    }
}

/// The workloads, in the order clients run them: name, unit, what is counted.
pub const WORKLOADS: &[(&str, &str)] = &[
    ("select_pk_c10", "query"),
    ("select_pk_c100", "query"),
    ("fetch_1000", "fetch"),
    ("copy_in_10000", "row"),
    ("insert_batch_1000", "row"),
];

/// The id the `i`-th select asks for: spread over the table.
pub fn id_for(i: usize) -> i32 {
    ((i as u64 * 7919) % USERS as u64) as i32 + 1
}

/// The rows of one COPY or one insert batch.
pub fn rows(n: usize) -> Vec<(i64, String, f64)> {
    (0..n as i64)
        .map(|i| (i, format!("name {i}"), i as f64 * 0.5))
        .collect()
}

/// One workload's figures in one client.
pub struct Measure {
    pub ops: u64,
    pub wall: Duration,
    pub cpu: Duration,
}

impl Measure {
    /// The line a client prints (the parent parses it).
    pub fn line(&self, workload: &str) -> String {
        format!(
            "RESULT {workload} {} {} {}",
            self.ops,
            self.wall.as_secs_f64(),
            self.cpu.as_secs_f64()
        )
    }
}

/// User plus system CPU time of this process.
pub fn cpu_now() -> Duration {
    // SAFETY: `rusage` is plain old data, valid when zeroed.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid out-pointer.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(rc, 0, "getrusage: {}", std::io::Error::last_os_error());
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Pins this process (its threads to come included) to one CPU.
pub fn pin_to_cpu(cpu: usize) -> std::io::Result<()> {
    // SAFETY: a zeroed `cpu_set_t` is the empty set; CPU_SET writes within it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The tables every client uses: 10,000 users to select from, and two unlogged tables the
/// COPY and the inserts fill (each client truncates them before its run).
pub const SETUP: &str = "
DROP TABLE IF EXISTS bench_users, bench_copy, bench_insert;
CREATE TABLE bench_users (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL);
INSERT INTO bench_users SELECT i, 'user ' || i, 'user' || i || '@example.com'
    FROM generate_series(1, 10000) i;
CREATE UNLOGGED TABLE bench_copy (id int8, name text, score float8);
CREATE UNLOGGED TABLE bench_insert (id int, name text);
ANALYZE bench_users;
";
