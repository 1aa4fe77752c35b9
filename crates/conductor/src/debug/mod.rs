//! Introspection: a text dump of the loop's tasks, as `python -m asyncio ps` prints.
//!
//! Reads what the engine exposes (`all_tasks`, `Runtime::stats`); the engine never calls here.

// Nothing here needs `unsafe` (ARCHITECTURE.md, "Unsafe").
#![forbid(unsafe_code)]

use std::fmt::Write;

mod graph;

pub use graph::{AwaitPoint, CallGraph, TaskNode, call_graph, pstree};

use crate::runtime::core::with_core;
use crate::task::all_tasks;

/// A table of every task of this thread's loop that is not done, with its id, name, state,
/// pending cancellation requests and spawn location.
///
/// ```
/// # conductor::run(async {
/// let worker = conductor::spawn_named("worker", std::future::pending::<()>());
/// conductor::yield_now().await;
/// let dump = conductor::debug::dump_tasks();
/// assert!(dump.contains("worker") && dump.contains("suspended"));
/// # worker.cancel();
/// # });
/// ```
pub fn dump_tasks() -> String {
    let tasks = all_tasks();
    let mut out = String::new();
    let stats = with_core(|c| c.map(|c| c.stats()));
    if let Some(s) = stats {
        let _ = writeln!(
            out,
            "{} tasks; ready queue {}, timers {}, IO sources {}; {} iterations, {} polls",
            s.tasks, s.ready, s.timers, s.io_sources, s.iterations, s.polls
        );
    } else {
        let _ = writeln!(out, "no event loop is running on this thread");
        return out;
    }
    let _ = writeln!(
        out,
        "{:>6}  {:<24} {:<10} {:>10}  spawned at",
        "id", "name", "state", "cancelling"
    );
    for t in tasks {
        let _ = writeln!(
            out,
            "{:>6}  {:<24} {:<10} {:>10}  {}",
            t.id(),
            t.name(),
            t.state().to_string(),
            t.cancelling(),
            t.spawned_at()
        );
    }
    out
}

/// Counters of the loop running on this thread, if any.
pub fn loop_stats() -> Option<crate::runtime::LoopStats> {
    with_core(|c| c.map(|c| c.stats()))
}
