//! The aiosqlite column: `aiosqlite_bench.py` run by `python3` (embedded, so the benchmark
//! runs from anywhere), one process per cell. Skipped, with the install command, when aiosqlite
//! is missing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Sizes, Timing, Workload};

const SCRIPT: &str = include_str!("aiosqlite_bench.py");

/// Why the column cannot run here, or `None` when it can.
pub fn missing() -> Option<String> {
    let ok = Command::new("python3")
        .args(["-c", "import aiosqlite"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (!ok).then(|| {
        "aiosqlite is not installed for python3: `pip install aiosqlite` adds the column".into()
    })
}

fn name(w: Workload) -> &'static str {
    match w {
        Workload::InsertSeq => "insert_seq",
        Workload::InsertConcurrent => "insert_concurrent",
        Workload::SelectSeq => "select_seq",
        Workload::SelectConcurrent => "select_concurrent",
    }
}

/// Runs one workload; the selects need the file the inserts filled.
pub fn run(path: &Path, w: Workload, s: Sizes) -> Timing {
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(path)
        .args([
            name(w),
            &s.rows.to_string(),
            &s.per_tx.to_string(),
            &s.tasks.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot run python3");
    assert!(out.status.success(), "the aiosqlite benchmark failed");
    let secs: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the aiosqlite benchmark printed no time");
    Duration::from_secs_f64(secs)
}
