//! The live view's cost: `debug::snapshot` of a loop with many tasks, as `conductor-monitor`
//! takes it (one page of 50 rows, every task counted), counted by callgrind.
//!
//! ```text
//! cargo build --release -p conductor-bench --bin snapshot
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/snapshot.cg \
//!     --toggle-collect='*take_snapshots*' target/release/snapshot [TASKS] [SNAPSHOTS] [--debug]
//! callgrind_annotate /tmp/snapshot.cg | head -n 20   # the total, over SNAPSHOTS snapshots
//! ```
//!
//! The tasks: half sleep, half wait in one `gather` (so each has an awaiter: the await graph's
//! edges), as a server's connections and a fan-out of workers would.

use std::hint::black_box;
use std::time::Duration;

use conductor::debug::{TaskQuery, snapshot};

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
    let mut args = std::env::args().skip(1);
    let tasks: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let snapshots: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let debug = std::env::args().any(|a| a == "--debug");
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
