//! Shared by the `fs` and `process` benchmark binaries: scratch directories, medians, and the
//! table printer (figures, then ratios to tokio and to the blocking `std` floor).

// Each binary includes this whole module and uses only its own workload's half.
#![allow(dead_code)]

pub mod files;
pub mod procs;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A directory for the benchmark's files, removed on drop (also on panic).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("conductor-bench-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Free bytes on the file system holding `dir` (`statvfs`).
pub fn free_bytes(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: `statvfs` is plain old data; zeroed is a valid value to be overwritten.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return 0;
    }
    s.f_bavail as u64 * s.f_frsize as u64
}

/// Writes dirty pages back, so that one run's writeback does not land in the next's time.
pub fn settle() {
    // SAFETY: sync(2) has no preconditions.
    unsafe { libc::sync() };
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One row: a workload and the median time of each contender (`None` where it does not apply).
pub struct Row {
    pub workload: String,
    pub cells: Vec<Option<Duration>>,
}

/// Prints the figures (ms) and the ratios to the columns named `tokio` and `std`.
pub fn print_tables(columns: &[&str], rows: &[Row]) {
    let header = |first: &str| {
        println!("| {first} | {} |", columns.join(" | "));
        println!("|---|{}", "---:|".repeat(columns.len()));
    };
    println!("\nMedian wall-clock time, ms (lower is better):\n");
    header("workload");
    for r in rows {
        let cells: Vec<String> = r
            .cells
            .iter()
            .map(|c| c.map_or("—".into(), |d| format!("{:.1}", d.as_secs_f64() * 1e3)))
            .collect();
        println!("| {} | {} |", r.workload, cells.join(" | "));
    }
    for base in ["tokio", "std"] {
        let Some(b) = columns.iter().position(|c| *c == base) else {
            continue;
        };
        println!("\nRatio to {base} (lower is better):\n");
        header("workload");
        for r in rows {
            let cells: Vec<String> = r
                .cells
                .iter()
                .map(|c| match (c, r.cells[b]) {
                    (Some(d), Some(base)) => {
                        format!("{:.2}x", d.as_secs_f64() / base.as_secs_f64())
                    }
                    _ => "—".into(),
                })
                .collect();
            println!("| {} | {} |", r.workload, cells.join(" | "));
        }
    }
}
