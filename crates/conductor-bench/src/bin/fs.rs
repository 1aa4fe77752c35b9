//! conductor::fs (thread pool and io_uring) against tokio::fs and blocking std::fs, in one
//! process.
//!
//! ```text
//! cargo run --release -p conductor-bench --bin fs [-- --runs 5] [--files 1000] [--copy-mib 1024] [--only TEXT]
//! ```
//!
//! Workloads (each cell the median of `--runs` runs, contenders interleaved in each round):
//! - `read 1000 × 64 KiB`: every file read whole at once, one task each (`fs::read`,
//!   `tokio::fs::read`; std reads them one after the other, the single-thread floor). The files
//!   are in the page cache after the first round, so this measures the runtimes, not the disk.
//! - `copy 1 GiB`: the library's whole-file copy (`fs::copy`, `tokio::fs::copy`,
//!   `std::fs::copy`); all three end in `copy_file_range`, so this measures the overhead around
//!   one kernel copy.
//! - `stream 1 GiB`: the same copy through `File`, reading and writing 64 KiB at a time (what a
//!   program that processes a file piece by piece does): the number of thread hops shows here.
//!
//! Before the big file is made, free space is checked (`statvfs`); the scratch directory is
//! removed at the end, also on a panic. `--only TEXT` keeps the columns whose name contains
//! TEXT (for profiling one). Not part of the test suite.

#[path = "../args.rs"]
mod args;
#[path = "../fsbench/mod.rs"]
mod fsbench;

use fsbench::files::{self, COLUMNS, Who};
use fsbench::{Row, Scratch, free_bytes, median, print_tables};

/// What `--help` prints (the doc comment's command line).
const USAGE: args::Usage = args::Usage {
    source: "src/bin/fs.rs",
    lines: "cargo run --release -p conductor-bench --bin fs [-- --runs 5] [--files 1000] [--copy-mib 1024] [--only TEXT]",
};

fn main() {
    let flags = USAGE.flags(&["--runs", "--files", "--copy-mib", "--only"], &[]);
    let runs: usize = flags.parsed(&USAGE, "--runs", 5);
    let nfiles: usize = flags.parsed(&USAGE, "--files", 1000);
    let copy_mib: u64 = flags.parsed(&USAGE, "--copy-mib", 1024);
    let size = 64 << 10;
    let only = flags.get("--only").unwrap_or("").to_owned();
    let cols: Vec<(&str, Who)> = COLUMNS
        .iter()
        .copied()
        .filter(|(_, w)| files::available(*w))
        .filter(|(n, _)| n.contains(only.as_str()))
        .collect();
    let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
    println!(
        "conductor::fs vs tokio::fs vs std::fs; {runs} runs per cell; {} cores usable",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let scratch = Scratch::new("fs");
    let mut rows = Vec::new();

    let paths = files::make_files(&scratch.0, nfiles, size);
    let mut times = vec![Vec::new(); cols.len()];
    for _ in 0..runs {
        for (i, (_, who)) in cols.iter().enumerate() {
            times[i].push(files::read_many(*who, &paths, size));
        }
    }
    rows.push(Row {
        workload: format!("read {nfiles} × 64 KiB"),
        cells: times.into_iter().map(|t| Some(median(t))).collect(),
    });

    let big = copy_mib << 20;
    let need = 2 * big + (256 << 20);
    if free_bytes(&scratch.0) < need {
        eprintln!(
            "skipping the copies: {} MiB free, {} MiB needed",
            free_bytes(&scratch.0) >> 20,
            need >> 20
        );
    } else {
        let src = scratch.0.join("big");
        make_big(&src, big);
        let dst = scratch.0.join("big.copy");
        type Copy = fn(Who, &std::path::Path, &std::path::Path) -> std::time::Duration;
        for (name, f) in [
            (format!("copy {copy_mib} MiB"), files::copy_whole as Copy),
            (
                format!("stream {copy_mib} MiB in 64 KiB"),
                files::copy_streamed as Copy,
            ),
        ] {
            let mut times = vec![Vec::new(); cols.len()];
            for _ in 0..runs.min(3) {
                for (i, (_, who)) in cols.iter().enumerate() {
                    times[i].push(f(*who, &src, &dst));
                }
            }
            rows.push(Row {
                workload: name,
                cells: times.into_iter().map(|t| Some(median(t))).collect(),
            });
        }
    }
    drop(scratch);
    print_tables(&names, &rows);
}

/// Writes `len` bytes of a non-repeating pattern (so no file system can deduplicate it).
fn make_big(path: &std::path::Path, len: u64) {
    use std::io::Write;
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..len >> 20 {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_ne_bytes());
        }
        f.write_all(&block).unwrap();
    }
    f.flush().unwrap();
    fsbench::settle();
}
