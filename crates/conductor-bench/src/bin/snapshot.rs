//! The live view's cost: `debug::snapshot` of a loop with many tasks, as `conductor-monitor`
//! takes it (one page of 50 rows, every task counted), counted by callgrind.
//!
//! ```text
//! cargo build --release -p conductor-bench --bin snapshot
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/snapshot.cg \
//!     --toggle-collect='*take_snapshots*' target/release/snapshot \
//!     [--tasks N] [--snapshots N] [--debug]
//! callgrind_annotate /tmp/snapshot.cg | head -n 20   # the total, over SNAPSHOTS snapshots
//! ```
//!
//! The tasks: half sleep, half wait in one `gather` (so each has an awaiter: the await graph's
//! edges), as a server's connections and a fan-out of workers would.

use std::hint::black_box;
use std::time::Duration;

use conductor::debug::{TaskQuery, snapshot};

#[path = "../args.rs"]
mod args;

const USAGE: args::Usage = args::Usage {
    source: "src/bin/snapshot.rs",
    lines: "cargo build --release -p conductor-bench --bin snapshot; \
            valgrind --tool=callgrind --toggle-collect='*take_snapshots*' target/release/snapshot \
            [--tasks N (100000)] [--snapshots N (5)] [--debug]",
};

#[inline(never)]
fn take_snapshots(n: usize) -> usize {
    let mut rows = 0;
    for _ in 0..n {
        let s = snapshot(&TaskQuery::default()).expect("inside the loop");
        rows += black_box(s).tasks.len();
    }
    rows
}

fn main() {
    let flags = USAGE.flags(&["--tasks", "--snapshots"], &["--debug"]);
    let tasks: usize = flags.parsed(&USAGE, "--tasks", 100_000);
    let snapshots: usize = flags.parsed(&USAGE, "--snapshots", 5);
    let debug = flags.has("--debug");
    let rt = conductor::Runtime::builder()
        .paused_clock()
        .debug(debug)
        .build()
        .expect("a runtime");
    rt.block_on(async move {
        let sleepers: Vec<_> = (0..tasks / 2)
            .map(|_| conductor::spawn(conductor::sleep(Duration::from_secs(3600))))
            .collect();
        let workers: Vec<_> = (0..tasks - tasks / 2)
            .map(|_| conductor::spawn(std::future::pending::<Result<(), String>>()))
            .collect();
        let gather = conductor::spawn_named("fan-out", conductor::gather_tasks(workers));
        conductor::yield_now().await;
        conductor::yield_now().await;
        let rows = take_snapshots(snapshots);
        println!("{tasks} tasks, {snapshots} snapshots, {rows} rows");
        // Every task ends before the loop does (debug mode would report each one dropped
        // pending): cancelling the gather cancels its workers.
        gather.cancel();
        let _ = gather.await;
        for s in &sleepers {
            s.cancel();
        }
        for s in sleepers {
            let _ = s.await;
        }
    });
}
