//! `--instructions`: instructions per operation of each task and timer workload, for every
//! runtime, counted by callgrind. Time on a shared machine moves 10-30% from run to run; the
//! instruction count of the same binary and input repeats within a fraction of a percent, so
//! this is the table that proves a gain.
//!
//! Each cell is one child run of this binary under `valgrind --tool=callgrind` with
//! `--toggle-collect` set to the contender's method for that row (`*Contender>::spawn`), so
//! only the workload's own call is counted: building the runtime inside the method is included
//! (a few thousand instructions, under 0.1 per operation at these sizes), the harness around it
//! is not.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::Sizes;

/// A row: its label, the `--only` workload that runs it, the contender method to count, and
/// how many operations one call of that method does.
struct Cell {
    label: &'static str,
    workload: &'static str,
    method: &'static str,
    ops: fn(&Sizes) -> usize,
}

const CELLS: &[Cell] = &[
    Cell {
        label: "spawn",
        workload: "spawn",
        method: "spawn",
        ops: |s| s.spawn,
    },
    Cell {
        label: "spawn (eager)",
        workload: "spawn",
        method: "spawn_eager",
        ops: |s| s.spawn,
    },
    Cell {
        label: "chained_spawn",
        workload: "chained_spawn",
        method: "chained_spawn",
        ops: |s| s.chained,
    },
    Cell {
        label: "yield",
        workload: "yield",
        method: "yield_now",
        ops: |s| s.yield_tasks * s.yields,
    },
    Cell {
        label: "ping_pong",
        workload: "ping_pong",
        method: "ping_pong",
        ops: |s| s.ping_pong,
    },
    Cell {
        label: "ping_pong (native)",
        workload: "ping_pong",
        method: "ping_pong_native",
        ops: |s| s.ping_pong,
    },
    Cell {
        label: "timeout",
        workload: "timeout",
        method: "timeout",
        ops: |s| s.timeout,
    },
    Cell {
        label: "timeout (burst)",
        workload: "timeout_burst",
        method: "timeout",
        ops: |s| s.timeout,
    },
];

/// Whether valgrind runs here.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Counts every cell of the selected `workloads` for each of `runtimes` and prints the table:
/// instructions per operation, and the ratio to tokio's.
pub fn run(workloads: &[&str], runtimes: &[&str], sizes: &Sizes, quick: bool) {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let cells: Vec<&Cell> = CELLS
        .iter()
        .filter(|c| workloads.contains(&c.workload))
        .collect();
    println!("# conductor-bench --instructions (callgrind; instructions per operation)");
    println!();
    println!("| workload | {} |", runtimes.join(" | "));
    println!("|---|{}", "---:|".repeat(runtimes.len()));
    let mut table = Vec::new();
    for cell in &cells {
        let ops = (cell.ops)(sizes);
        let counts: Vec<Option<f64>> = runtimes
            .iter()
            .map(|rt| {
                eprintln!("  {} on {rt}...", cell.label);
                count(&exe, cell, rt, quick).map(|n| n as f64 / ops as f64)
            })
            // Less than an instruction per operation: the runtime has no such variant (the
            // method returned at once).
            .map(|v| v.filter(|&per_op| per_op >= 1.0))
            .collect();
        let shown: Vec<String> = counts
            .iter()
            .map(|c| c.map_or("—".into(), |v| format!("{v:.0}")))
            .collect();
        println!("| {} | {} |", cell.label, shown.join(" | "));
        table.push((cell.label, counts));
    }
    let Some(tokio) = runtimes.iter().position(|&r| r == "tokio") else {
        return;
    };
    println!();
    println!("Ratio to tokio:");
    println!();
    println!("| workload | {} |", runtimes.join(" | "));
    println!("|---|{}", "---:|".repeat(runtimes.len()));
    for (label, counts) in &table {
        let base = counts[tokio].or_else(|| {
            // A variant tokio lacks (eager spawn) compares with tokio's plain form.
            let plain = label.split(" (").next()?;
            table.iter().find(|(l, _)| *l == plain)?.1[tokio]
        });
        let ratios: Vec<String> = counts
            .iter()
            .map(|c| match (c, base) {
                (Some(v), Some(b)) => format!("{:.2}", v / b),
                _ => "—".into(),
            })
            .collect();
        println!("| {label} | {} |", ratios.join(" | "));
    }
}

/// The instructions one run of `cell` on `runtime` executes inside the contender's method, or
/// `None` (saying why) when the run fails.
fn count(exe: &Path, cell: &Cell, runtime: &str, quick: bool) -> Option<u64> {
    let out = std::env::temp_dir().join(format!(
        "conductor-bench.{}.{}.{runtime}.callgrind",
        std::process::id(),
        cell.method
    ));
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(format!("--toggle-collect=*Contender>::{}", cell.method))
        .arg(exe)
        .args(["--only", cell.workload, "--runtime", runtime, "--runs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if quick {
        cmd.arg("--quick");
    }
    let result = cmd.output().ok()?;
    let text = std::fs::read_to_string(&out).ok();
    let _ = std::fs::remove_file(&out);
    if !result.status.success() {
        eprintln!(
            "  {} on {runtime} failed under callgrind: {}",
            cell.label,
            String::from_utf8_lossy(&result.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    total(&text?)
}

/// The event total of a callgrind output file (its `summary:` or `totals:` line).
fn total(callgrind_out: &str) -> Option<u64> {
    callgrind_out
        .lines()
        .find_map(|l| l.strip_prefix("summary:").or(l.strip_prefix("totals:")))
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_total_is_read_from_either_line() {
        assert_eq!(super::total("events: Ir\nsummary: 12345\n"), Some(12345));
        assert_eq!(super::total("totals: 77 3\n"), Some(77));
        assert_eq!(super::total("events: Ir\n"), None);
    }
}
