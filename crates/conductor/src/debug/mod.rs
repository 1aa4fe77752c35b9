//! Introspection: a text dump of the loop's tasks, as `python -m asyncio ps` prints; the await
//! graph, as `python -m asyncio pstree` prints it and as data (asyncio's `capture_call_graph`);
//! the loop's counters; the live view's snapshot of the loop ([`snapshot`]: queues, timers,
//! sources, pool, a page of tasks, slow steps) and [`cancel_task`] (aiomonitor's `cancel`).
//!
//! Reads what the engine exposes (`all_tasks`, the task system's await graph, `LoopStats`); the
//! engine never calls here. Debug mode itself (`Builder::debug`, `CONDUCTOR_DEBUG=1`) lives in
//! the loop; out of process, the loop's opt-in debug endpoint (`Builder::debug_endpoint`,
//! `CONDUCTOR_DEBUG_ENDPOINT=1`) answers `conductor-ps`, `conductor-pstree` and
//! `conductor-stats`, and `conductor-monitor`'s live page (crate `conductor-tools`).

// Nothing here needs `unsafe` (ARCHITECTURE.md, "Unsafe").
#![forbid(unsafe_code)]

pub use crate::runtime::snapshot::{
    LISTED, LoopSnapshot, MAX_PAGE, ReadyEntry, SlowStepEntry, SourceEntry, TaskQuery, TaskRow,
    TimerEntry, cancel_task, snapshot,
};
pub use crate::task::graph::{AwaitPoint, CallGraph, TaskNode, call_graph, pstree};

use crate::runtime::core::with_core;

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
    crate::runtime::endpoint::ps_text()
}

/// Counters of the loop running on this thread, if any.
pub fn loop_stats() -> Option<crate::runtime::LoopStats> {
    with_core(|c| c.map(|c| c.stats()))
}

/// The counters of the loop running on this thread in Prometheus' text format (what the debug
/// endpoint's `metrics` request and `conductor-stats --prometheus` answer); empty outside a
/// loop.
///
/// ```
/// # conductor::run(async {
/// let text = conductor::debug::prometheus_metrics();
/// assert!(text.contains("# TYPE conductor_tasks_alive gauge\nconductor_tasks_alive{loop=\""));
/// # });
/// ```
pub fn prometheus_metrics() -> String {
    with_core(|c| c.map(|c| crate::runtime::endpoint::prometheus_text(c.id, &c.stats())))
        .unwrap_or_default()
}
