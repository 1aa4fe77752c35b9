//! conductor-sqlite against rusqlite called directly, tokio-rusqlite (tokio current_thread) and
//! Python's aiosqlite, on one database file each, in one command:
//!
//! ```text
//! cargo run --release -p conductor-bench --bin sqlite [-- --runs 3] [--rows 100000] [--per-tx 1000] [--tasks 100] [--only TEXT] [--workload TEXT]
//! ```
//!
//! Workloads (each cell the median of `--runs` rounds, contenders interleaved in each round):
//! - `insert, 1 task`: `--rows` single-row inserts, in transactions of `--per-tx`, each call
//!   awaited before the next (BEGIN and COMMIT included in the time).
//! - `insert, N in flight`: the same inserts, `--tasks` at a time in flight inside each
//!   transaction (gathered): the connection's thread never waits for the loop.
//! - `point select, 1 task` / `N tasks`: `--rows` selects by primary key of two columns.
//!
//! rusqlite called directly is the floor (no async, no thread hop; its two insert rows are the
//! same loop). Every contender uses WAL and `synchronous=NORMAL`, prepared statements from the
//! cache, and checks each selected row. aiosqlite runs under `python3` (skipped, saying how to
//! install it, when missing). Not part of the test suite.

#[path = "../args.rs"]
mod args;
#[path = "../sqlitebench/mod.rs"]
mod sqlitebench;

use std::time::Duration;

use sqlitebench::{
    Scratch, Sizes, Timing, WORKLOADS, Workload, conductor_sqlite, create, direct, python,
    tokio_rusqlite,
};

type Run = fn(&std::path::Path, Workload, Sizes) -> Timing;

const CONTENDERS: &[(&str, Run)] = &[
    ("rusqlite (direct)", direct::run),
    ("conductor-sqlite", conductor_sqlite::run),
    ("tokio-rusqlite", tokio_rusqlite::run),
    ("aiosqlite", python::run),
];

/// What `--help` prints (the doc comment's command line).
const USAGE: args::Usage = args::Usage {
    source: "src/bin/sqlite.rs",
    lines: "cargo run --release -p conductor-bench --bin sqlite [-- --runs 3] [--rows 100000] [--per-tx 1000] [--tasks 100] [--only TEXT] [--workload TEXT]",
};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let flags = USAGE.flags(
        &[
            "--rows",
            "--per-tx",
            "--tasks",
            "--runs",
            "--only",
            "--workload",
        ],
        &[],
    );
    let arg = |name, default| flags.parsed(&USAGE, name, default);
    let sizes = Sizes {
        rows: arg("--rows", 100_000),
        per_tx: arg("--per-tx", 1_000),
        tasks: arg("--tasks", 100),
    };
    let runs = arg("--runs", 3);
    if sizes.per_tx == 0 || sizes.rows % sizes.per_tx != 0 {
        USAGE.fail("--rows must be a multiple of --per-tx");
    }
    let only = flags.get("--only").unwrap_or("").to_owned();
    // `--workload TEXT`: the workloads whose label contains TEXT (`insert`, `select`, `1 task`).
    let kind = flags.get("--workload").unwrap_or("").to_owned();
    let mut contenders: Vec<(&str, Run)> = CONTENDERS.to_vec();
    // `--only TEXT`: the contenders whose name contains TEXT, and the floor (for profiling).
    contenders.retain(|(n, _)| only.split(',').any(|o| n.contains(o)) || n.starts_with("rusqlite"));
    if let Some(why) = python::missing() {
        println!("aiosqlite column skipped: {why}");
        contenders.retain(|(n, _)| *n != "aiosqlite");
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{} rows, transactions of {}, {} in flight; {runs} rounds, median; {cpus} CPUs usable",
        sizes.rows, sizes.per_tx, sizes.tasks
    );
    let scratch = Scratch::new();
    // times[contender][workload]
    let mut times = vec![vec![Vec::new(); WORKLOADS.len()]; contenders.len()];
    for round in 0..runs {
        for (c, (name, run)) in contenders.iter().enumerate() {
            for (w, &workload) in WORKLOADS.iter().enumerate() {
                if !workload.label(sizes).contains(kind.as_str()) {
                    continue;
                }
                let file = name.replace([' ', '(', ')'], "_");
                // The inserts start from an empty table; the selects read what they left.
                let path = if workload.is_insert() {
                    let path = scratch.fresh(&file);
                    create(&path);
                    path
                } else {
                    scratch.path(&file)
                };
                let took = run(&path, workload, sizes);
                times[c][w].push(took);
            }
            eprintln!("round {} of {runs}: {name} done", round + 1);
        }
    }
    let per_call: Vec<Vec<f64>> = times
        .into_iter()
        .map(|ws| {
            ws.into_iter()
                .map(|t| median(t).as_secs_f64() * 1e6 / sizes.rows as f64)
                .collect()
        })
        .collect();
    report(&contenders, &per_call, sizes);
}

fn report(contenders: &[(&str, Run)], per_call: &[Vec<f64>], sizes: Sizes) {
    let names: Vec<&str> = contenders.iter().map(|(n, _)| *n).collect();
    let header = |first: &str| {
        println!("\n| {first} | {} |", names.join(" | "));
        println!("|---|{}", "---:|".repeat(names.len()));
    };
    header("µs per call");
    for (w, workload) in WORKLOADS.iter().enumerate() {
        let cells: Vec<String> = per_call.iter().map(|c| format!("{:.2}", c[w])).collect();
        println!("| {} | {} |", workload.label(sizes), cells.join(" | "));
    }
    header("time per call / rusqlite's (lower is better)");
    for (w, workload) in WORKLOADS.iter().enumerate() {
        let floor = per_call[0][w];
        let cells: Vec<String> = per_call
            .iter()
            .map(|c| format!("{:.2}x", c[w] / floor))
            .collect();
        println!("| {} | {} |", workload.label(sizes), cells.join(" | "));
    }
    let conductor = names.iter().position(|n| *n == "conductor-sqlite");
    let aiosqlite = names.iter().position(|n| *n == "aiosqlite");
    let (Some(c), Some(a)) = (conductor, aiosqlite) else {
        return;
    };
    println!("\n| calls/s | conductor-sqlite | aiosqlite | conductor-sqlite / aiosqlite |");
    println!("|---|---:|---:|---:|");
    for (w, workload) in WORKLOADS.iter().enumerate() {
        let (cs, as_) = (1e6 / per_call[c][w], 1e6 / per_call[a][w]);
        println!(
            "| {} | {cs:.0} | {as_:.0} | {:.1}x |",
            workload.label(sizes),
            cs / as_
        );
    }
}
