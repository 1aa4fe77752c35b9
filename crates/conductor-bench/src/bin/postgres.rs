//! PostgreSQL clients side by side: conductor-postgres, tokio-postgres + deadpool-postgres on
//! tokio's current_thread runtime, and Python's asyncpg, against the same server.
//!
//! ```text
//! cargo run --release -p conductor-bench --bin postgres [-- --quick] [--runs N] [--clients a,b]
//! ```
//!
//! The server: `CONDUCTOR_PG_DSN` when set, else a throwaway cluster started here with
//! `scripts/pg-cluster.sh` (and stopped at the end), its postmaster pinned to CPU 0 (its
//! backends inherit that). Each client runs in its own process pinned to CPU 1, opens a pool of
//! 10 connections, warms up on a tenth of the work, then runs the workloads and reports each
//! one's wall time and its own CPU time (`getrusage`, user + system):
//! - `select_pk_c10`, `select_pk_c100`: a 1-row SELECT by primary key through the pool
//!   (acquire, fetchrow, release), 10 or 100 concurrent tasks sharing the 10 connections;
//! - `fetch_1000`: a 1,000-row SELECT on one connection;
//! - `copy_in_10000`: COPY of 10,000 rows (int8, text, float8) in the binary format;
//! - `insert_batch_1000`: 1,000 INSERTs as one batch (`executemany`; for tokio-postgres the same
//!   pipelining by hand in a transaction).
//!
//! The clients (`--clients`, comma-separated; all by default): `conductor` (the pool with
//! asyncpg's defaults: the reset on release is queued ahead of the next query),
//! `conductor-noreset` (`Reset::Nothing`, like deadpool's `Fast` recycling), `tokio-deadpool`,
//! `asyncpg` (skipped, saying how to install it, when `import asyncpg` fails). Each cell is the
//! median of `--runs` runs (3; rounds interleave the clients). Not part of the test suite.

#[path = "../args.rs"]
mod args;
#[path = "../pgbench/mod.rs"]
mod pgbench;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use pgbench::{WORKLOADS, Work};

/// Per client, per workload: (ops/s, client CPU µs per op) of each run.
type Results<'a> = BTreeMap<&'a str, BTreeMap<String, Vec<(f64, f64)>>>;

const CLIENTS: &[&str] = &[
    "conductor",
    "conductor-noreset",
    "tokio-deadpool",
    "asyncpg",
];

/// What `--help` prints (the doc comment's command line).
const USAGE: args::Usage = args::Usage {
    source: "src/bin/postgres.rs",
    lines: "cargo run --release -p conductor-bench --bin postgres [-- --quick] [--runs N] [--clients a,b]",
};

/// The command line, checked once (`--client` and `--dsn` are how the clients' own processes
/// are started).
fn flags() -> &'static args::Flags {
    static FLAGS: OnceLock<args::Flags> = OnceLock::new();
    FLAGS.get_or_init(|| USAGE.flags(&["--runs", "--clients", "--client", "--dsn"], &["--quick"]))
}

fn arg(name: &str) -> Option<String> {
    flags().get(name).map(str::to_owned)
}

fn flag(name: &str) -> bool {
    flags().has(name)
}

fn main() {
    let work = Work::new(flag("--quick"));
    if let Some(client) = arg("--client") {
        let dsn = arg("--dsn").unwrap_or_else(|| USAGE.fail("--client needs --dsn"));
        pgbench::pin_to_cpu(1).expect("pinning the client to CPU 1");
        match client.as_str() {
            "conductor" => pgbench::conductor::run(&dsn, work, conductor_postgres::Reset::Asyncpg),
            "conductor-noreset" => {
                pgbench::conductor::run(&dsn, work, conductor_postgres::Reset::Nothing)
            }
            "tokio-deadpool" => pgbench::tokio::run(&dsn, work),
            other => USAGE.fail(&format!(
                "unknown client {other:?}; expected one of {CLIENTS:?}"
            )),
        }
        return;
    }
    let runs: usize = flags().parsed(&USAGE, "--runs", 3);
    let wanted: Vec<String> = arg("--clients").map_or_else(
        || CLIENTS.iter().map(|c| c.to_string()).collect(),
        |l| l.split(',').map(str::to_owned).collect(),
    );
    let cluster = Cluster::start();
    let dsn = cluster.dsn.clone();
    setup(&dsn);
    let mut clients: Vec<&str> = CLIENTS
        .iter()
        .copied()
        .filter(|c| wanted.iter().any(|w| w == c))
        .collect();
    if clients.contains(&"asyncpg") && !have_asyncpg() {
        println!("asyncpg: skipped (python3 cannot import asyncpg; `pip install asyncpg`)");
        clients.retain(|c| *c != "asyncpg");
    }
    println!(
        "server: {} ({}); clients pinned to CPU 1; {} run(s) per cell; work: {work:?}",
        dsn,
        if cluster.own {
            "started here, postmaster on CPU 0"
        } else {
            "CONDUCTOR_PG_DSN"
        },
        runs
    );
    // results[client][workload] = [(ops/s, cpu us/op)] over the runs
    let mut results: Results = BTreeMap::new();
    for round in 0..runs {
        for client in &clients {
            eprintln!("round {}/{runs}: {client}", round + 1);
            for (workload, ops, wall, cpu) in run_client(client, &dsn, work) {
                results
                    .entry(client)
                    .or_default()
                    .entry(workload)
                    .or_default()
                    .push((ops / wall, cpu * 1e6 / ops));
            }
        }
    }
    report(&clients, &results);
    drop(cluster);
}

fn run_client(client: &str, dsn: &str, work: Work) -> Vec<(String, f64, f64, f64)> {
    let out = if client == "asyncpg" {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/pgbench/asyncpg_client.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg(dsn)
            .args([work.selects, work.fetches, work.copies, work.batches].map(|n| n.to_string()));
        // Pinned like the Rust clients: the child inherits this process's affinity.
        with_affinity_1(cmd)
    } else {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--client", client, "--dsn", dsn]);
        if flag("--quick") {
            cmd.arg("--quick");
        }
        cmd.output().expect("the client runs")
    };
    assert!(
        out.status.success(),
        "{client} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let n = |i: usize| f[i].parse::<f64>().unwrap();
            (f[0].to_owned(), n(1), n(2), n(3))
        })
        .collect()
}

fn with_affinity_1(mut cmd: Command) -> std::process::Output {
    let mut taskset = Command::new("taskset");
    taskset
        .arg("-c")
        .arg("1")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    match taskset.output() {
        Ok(out) => out,
        Err(_) => cmd.output().expect("python3 runs"),
    }
}

fn have_asyncpg() -> bool {
    Command::new("python3")
        .args(["-c", "import asyncpg"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn setup(dsn: &str) {
    let dsn = dsn.to_owned();
    conductor::run(async move {
        let conn = conductor_postgres::connect(&dsn)
            .await
            .expect("the server answers");
        conn.execute_script(pgbench::SETUP)
            .await
            .expect("the tables are made");
        conn.close().await;
    });
}

fn median(v: &[(f64, f64)], pick: impl Fn(&(f64, f64)) -> f64) -> f64 {
    let mut xs: Vec<f64> = v.iter().map(pick).collect();
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn report(clients: &[&str], results: &Results) {
    let cell = |client: &str, w: &str| {
        results
            .get(client)
            .and_then(|m| m.get(w))
            .map(|v| (median(v, |x| x.0), median(v, |x| x.1)))
    };
    println!(
        "\n| workload | client | ops/s | client CPU µs/op | CPU vs tokio-deadpool | CPU vs asyncpg |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for (w, unit) in WORKLOADS {
        for c in clients {
            let Some((ops, cpu)) = cell(c, w) else {
                continue;
            };
            let ratio = |other: &str| {
                cell(other, w).map_or("—".to_owned(), |(_, o)| format!("{:.2}x", cpu / o))
            };
            println!(
                "| {w} (per {unit}) | {c} | {ops:.0} | {cpu:.2} | {} | {} |",
                ratio("tokio-deadpool"),
                ratio("asyncpg")
            );
        }
    }
    println!(
        "\nTargets (conductor's client CPU per op): at most 0.8x tokio-deadpool's, at most 0.5x asyncpg's"
    );
    for (w, _) in WORKLOADS {
        for c in ["conductor", "conductor-noreset"] {
            let Some((_, cpu)) = cell(c, w) else { continue };
            let check = |other: &str, target: f64| {
                cell(other, w).map_or("—".to_owned(), |(_, o)| {
                    let r = cpu / o;
                    format!("{r:.2}x {}", if r <= target { "met" } else { "MISSED" })
                })
            };
            println!(
                "- {w}, {c}: vs tokio-deadpool {}; vs asyncpg {}",
                check("tokio-deadpool", 0.8),
                check("asyncpg", 0.5)
            );
        }
    }
}

/// Every client in plain TCP (the test cluster has TLS on, and libpq's default `prefer` would
/// encrypt some clients and not others).
fn plain(dsn: &str) -> String {
    let sep = if dsn.contains('?') { '&' } else { '?' };
    format!("{dsn}{sep}sslmode=disable")
}

/// The server: `CONDUCTOR_PG_DSN`, or a throwaway cluster of `scripts/pg-cluster.sh`.
struct Cluster {
    dsn: String,
    own: bool,
    env: Vec<(String, String)>,
}

impl Cluster {
    fn script() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-cluster.sh")
    }

    fn start() -> Cluster {
        if let Ok(dsn) = std::env::var("CONDUCTOR_PG_DSN") {
            return Cluster {
                dsn: plain(&dsn),
                own: false,
                env: Vec::new(),
            };
        }
        let out = Command::new("bash")
            .arg(Self::script())
            .arg("start")
            .output()
            .expect("scripts/pg-cluster.sh runs");
        assert!(
            out.status.success(),
            "starting the cluster failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let pidfile = PathBuf::from(get("CONDUCTOR_PG_STATE")).join("data/postmaster.pid");
        let pid: i32 = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse().ok()))
            .expect("the postmaster's pid");
        // SAFETY: a zeroed `cpu_set_t` is the empty set; CPU_SET writes within it.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
        Cluster {
            dsn: plain(&get("CONDUCTOR_PG_DSN")),
            own: true,
            env,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.own {
            let _ = Command::new("bash")
                .arg(Self::script())
                .arg("stop")
                .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .status();
        }
    }
}
