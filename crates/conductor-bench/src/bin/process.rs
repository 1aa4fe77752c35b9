//! conductor::process (pidfd and SIGCHLD exit watches) against tokio::process and blocking
//! std::process, in one process.
//!
//! ```text
//! cargo run --release -p conductor-bench --bin process [-- --runs 5] [--n 1000]
//! ```
//!
//! Workload: spawn `n` `true` processes at once, then await each exit in spawn order (each cell
//! the median of `--runs` runs, contenders interleaved in each round). Not part of the test
//! suite.

#[path = "../args.rs"]
mod args;
#[path = "../fsbench/mod.rs"]
mod fsbench;

use fsbench::procs::{self, COLUMNS, Who};
use fsbench::{Row, median, print_tables};

/// What `--help` prints (the doc comment's command line).
const USAGE: args::Usage = args::Usage {
    source: "src/bin/process.rs",
    lines: "cargo run --release -p conductor-bench --bin process [-- --runs 5] [--n 1000]",
};

fn main() {
    let flags = USAGE.flags(&["--runs", "--n"], &[]);
    let arg = |name, default| flags.parsed(&USAGE, name, default);
    let runs: usize = arg("--runs", 5);
    let n: usize = arg("--n", 1000);
    let cols: Vec<(&str, Who)> = COLUMNS
        .iter()
        .copied()
        .filter(|(_, w)| procs::available(*w))
        .collect();
    let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
    println!(
        "conductor::process vs tokio::process vs std::process; {runs} runs per cell; {} cores usable",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut times = vec![Vec::new(); cols.len()];
    for _ in 0..runs {
        for (i, (_, who)) in cols.iter().enumerate() {
            times[i].push(procs::spawn_true(*who, n));
        }
    }
    let rows = [Row {
        workload: format!("spawn + wait {n} × true"),
        cells: times.into_iter().map(|t| Some(median(t))).collect(),
    }];
    print_tables(&names, &rows);
}
