//! The live view's data (`debug::snapshot`, the debug endpoint's `snapshot` request): the
//! guides' picture of the loop as it is between two steps — the ready queue, the timer queue's
//! next deadlines, the selector's sources, the thread pool — and one page of its tasks, with
//! the await graph and the slow steps of debug mode.
//!
//! Read on the loop's thread, from what the engine already keeps: one pass over the task list,
//! the wheel's entries and the selector's slab per snapshot, nothing on any step's path. A
//! snapshot carries aggregates of every task but rows of one page only, so that its size stays
//! bounded however many tasks there are.

use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::panic::Location;
use std::time::Duration;

use super::core::{LoopStats, with_core};
use crate::task::graph::{AwaitPoint, Live};
use crate::task::{TaskRef, TaskState, all_tasks};

/// How many of the timer queue's deadlines, the selector's sources and the ready queue's tasks a
/// snapshot lists (their counts are in `stats`).
pub const LISTED: usize = 16;

/// Which tasks a snapshot's page holds: those whose name contains `name`, by id, from the
/// `offset`-th on, at most `limit` (capped at [`MAX_PAGE`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskQuery {
    /// Rows to skip.
    pub offset: usize,
    /// Rows at most.
    pub limit: usize,
    /// A substring of the name; empty: every task.
    pub name: String,
}

/// The largest page a snapshot holds, whatever the query asks.
pub const MAX_PAGE: usize = 500;

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery {
            offset: 0,
            limit: 50,
            name: String::new(),
        }
    }
}

impl TaskQuery {
    /// The page of `limit` rows from `offset`, every name.
    pub fn page(offset: usize, limit: usize) -> TaskQuery {
        TaskQuery {
            offset,
            limit,
            name: String::new(),
        }
    }

    /// Only tasks whose name contains `name`.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> TaskQuery {
        self.name = name.into();
        self
    }
}

/// A task on a snapshot's page.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskRow {
    /// The task's id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: TaskState,
    /// Pending cancellation requests (`cancelling()`).
    pub cancelling: u32,
    /// Where it was spawned.
    pub spawned_at: &'static Location<'static>,
    /// Since its first step (debug mode).
    pub age: Option<Duration>,
    /// Its steps so far (debug mode).
    pub polls: Option<u64>,
    /// The time its steps held the loop (debug mode).
    pub busy: Option<Duration>,
    /// Where it is suspended, as in `debug::call_graph`.
    pub awaiting: Vec<AwaitPoint>,
    /// The ids of the tasks awaiting it.
    pub awaited_by: Vec<u64>,
}

/// A task waiting in the ready queue.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadyEntry {
    /// The task's id.
    pub id: u64,
    /// Its name.
    pub name: String,
}

/// A pending timer of the timer queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimerEntry {
    /// How long until it fires, as the loop's clock reads now (zero: due).
    pub fires_in: Duration,
    /// Whether it wakes a task (a `sleep`, a timeout) rather than runs a callback.
    pub wakes_task: bool,
}

/// A source registered with the selector.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceEntry {
    /// Its slot in the selector.
    pub slot: usize,
    /// The readiness last seen: `readable`, `writable`, `read-closed`, `write-closed`, `error`.
    pub readiness: Vec<&'static str>,
    /// Tasks waiting to read.
    pub readers: usize,
    /// Tasks waiting to write.
    pub writers: usize,
}

/// A slow step of debug mode, as logged (the last 64 of the loop's thread).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SlowStepEntry {
    /// Counts the slow steps of the thread: 1 for the first.
    pub seq: u64,
    /// The task's id and name.
    pub task: u64,
    /// The task's name.
    pub name: String,
    /// Where the task was spawned.
    pub spawned_at: &'static Location<'static>,
    /// How long the step held the loop.
    pub took: Duration,
    /// How long ago it ended.
    pub ago: Duration,
}

/// The loop as it is between two steps: see [`snapshot`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoopSnapshot {
    /// The loop's id.
    pub loop_id: u64,
    /// Whether the loop runs in debug mode (ages, polls, busy times and slow steps need it).
    pub debug: bool,
    /// The loop's counters (queue depths, pool threads...).
    pub stats: LoopStats,
    /// How many tasks are in each state (ready, running, suspended), of every task.
    pub states: Vec<(TaskState, usize)>,
    /// The first tasks waiting in the ready queue.
    pub ready: Vec<ReadyEntry>,
    /// The timer queue's next deadlines, earliest first.
    pub timers: Vec<TimerEntry>,
    /// The first sources registered with the selector.
    pub sources: Vec<SourceEntry>,
    /// How many tasks the query matched.
    pub matching: usize,
    /// The query's page of them, by id.
    pub tasks: Vec<TaskRow>,
    /// The latest slow steps, oldest first.
    pub slow_steps: Vec<SlowStepEntry>,
}

/// The loop running on this thread, between two steps, with one page of its tasks (`None`
/// outside a loop): what the live view (`conductor-monitor`) draws, and what the debug endpoint's
/// `snapshot OFFSET LIMIT [NAME]` request answers as JSON ([`LoopSnapshot::to_json`]).
///
/// ```
/// use conductor::debug::{TaskQuery, snapshot};
/// use std::time::Duration;
/// let rt = conductor::Runtime::builder().paused_clock().debug(true).build().unwrap();
/// rt.block_on(async {
///     let t = conductor::spawn_named("sleeper", conductor::sleep(Duration::from_secs(5)));
///     conductor::yield_now().await;
///     let s = snapshot(&TaskQuery::default().named("sleep")).unwrap();
///     assert_eq!((s.matching, s.tasks[0].name.as_str()), (1, "sleeper"));
///     assert_eq!(s.tasks[0].awaiting[0].kind, "sleep");
///     assert_eq!(s.timers[0].fires_in, Duration::from_secs(5));
///     assert_eq!(s.tasks[0].polls, Some(1));
///     t.cancel();
/// });
/// ```
pub fn snapshot(query: &TaskQuery) -> Option<LoopSnapshot> {
    let (loop_id, debug, stats, timers, sources) = with_core(|c| {
        let c = c?;
        let now = c.drivers.clock.now_ns();
        let timers = c.drivers.timers.borrow().next_deadlines(LISTED);
        Some((
            c.id,
            c.debug(),
            c.stats(),
            timers
                .into_iter()
                .map(|(at, wakes_task)| TimerEntry {
                    fires_in: Duration::from_nanos(at.saturating_sub(now)),
                    wakes_task,
                })
                .collect(),
            c.drivers.io.describe(LISTED),
        ))
    })?;
    let all = all_tasks();
    let page_end = query.offset.saturating_add(query.limit.min(MAX_PAGE));
    // One pass over the tasks: the counts, the ready queue's first, the page (the `page_end`
    // lowest ids that match, in a bounded max-heap), the addresses, and who awaits whom.
    let mut counts: Vec<(TaskState, usize)> = Vec::with_capacity(4);
    let mut ready = Vec::new();
    let mut matching = 0;
    let mut lowest: BinaryHeap<(u64, usize)> =
        BinaryHeap::with_capacity(page_end.min(all.len()) + 1);
    let mut live = Live::with_capacity(all.len());
    let mut awaited = Vec::new();
    for (i, t) in all.iter().enumerate() {
        let (id, state) = (t.id(), t.state());
        match counts.iter_mut().find(|(s, _)| *s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((state, 1)),
        }
        if state == TaskState::Ready && ready.len() < LISTED {
            ready.push(ReadyEntry {
                id,
                name: t.name().into_owned(),
            });
        }
        if query.name.is_empty() || t.name().contains(query.name.as_str()) {
            matching += 1;
            if page_end > 0 && (lowest.len() < page_end || lowest.peek().is_some_and(|m| m.0 > id))
            {
                lowest.push((id, i));
                if lowest.len() > page_end {
                    lowest.pop();
                }
            }
        }
        live.push(t.erased(), id, state);
        if let Some(awaiter) = t.awaited_by() {
            awaited.push((awaiter, t.erased()));
        }
    }
    let page: Vec<&TaskRef> = lowest
        .into_sorted_vec()
        .into_iter()
        .skip(query.offset)
        .map(|(_, i)| &all[i])
        .collect();
    let tasks = crate::task::graph::rows_of(&live, &awaited, &page);
    let mut states = counts;
    states.sort_unstable_by_key(|(s, _)| s.to_string());
    Some(LoopSnapshot {
        loop_id,
        debug,
        stats,
        states,
        ready,
        timers,
        sources: sources.into_iter().map(source_entry).collect(),
        matching,
        tasks,
        slow_steps: slow_steps(),
    })
}

fn source_entry((slot, bits, readers, writers): (usize, u8, usize, usize)) -> SourceEntry {
    use crate::io::driver::{ERROR, READ_CLOSED, READABLE, WRITABLE, WRITE_CLOSED};
    let names = [
        (READABLE, "readable"),
        (WRITABLE, "writable"),
        (READ_CLOSED, "read-closed"),
        (WRITE_CLOSED, "write-closed"),
        (ERROR, "error"),
    ];
    SourceEntry {
        slot,
        readiness: names
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, n)| *n)
            .collect(),
        readers,
        writers,
    }
}

fn slow_steps() -> Vec<SlowStepEntry> {
    crate::trace::slow_log()
        .into_iter()
        .map(|r| SlowStepEntry {
            seq: r.seq,
            task: r.task,
            name: r.name,
            spawned_at: r.spawned_at,
            took: r.took,
            ago: r.at.elapsed(),
        })
        .collect()
}

/// Cancels the task of this thread's loop with id `id` (aiomonitor's `cancel`; the debug
/// endpoint's `cancel ID`), as `task.cancel()` would. Returns whether a task not done had that
/// id and the request was made.
///
/// ```
/// conductor::run(async {
///     let t = conductor::spawn_named("victim", std::future::pending::<()>());
///     conductor::yield_now().await;
///     assert!(conductor::debug::cancel_task(t.id()));
///     assert!(t.await.unwrap_err().is_cancelled());
///     assert!(!conductor::debug::cancel_task(u64::MAX));
/// });
/// ```
pub fn cancel_task(id: u64) -> bool {
    all_tasks()
        .into_iter()
        .find(|t| t.id() == id)
        .is_some_and(|t| t.cancel())
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// A JSON string literal of `s`.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

fn ids(v: &[u64]) -> String {
    let v: Vec<String> = v.iter().map(u64::to_string).collect();
    format!("[{}]", v.join(","))
}

impl LoopSnapshot {
    /// The snapshot as one JSON object (what the debug endpoint's `snapshot` request answers):
    /// `loop`, `debug`, `stats` (every counter of `LoopStats`, durations in seconds), `states`
    /// (`{"suspended": n, ...}`), `ready` (`id`, `name`), `timers` (`fires_in` seconds, `wakes_task`),
    /// `sources` (`slot`, `readiness`, `readers`, `writers`), `matching`, `tasks` (`id`,
    /// `name`, `state`, `cancelling`, `spawned_at`, `age`, `polls`, `busy` — null outside debug
    /// mode —, `awaiting` (`kind`, `text`, `awaits`), `awaited_by`), `slow_steps` (`seq`, `task`,
    /// `name`, `spawned_at`, `took`, `ago`).
    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(4096 + self.tasks.len() * 256);
        let s = &self.stats;
        let _ = write!(
            o,
            "{{\"loop\":{},\"debug\":{},\"stats\":{{\"tasks\":{},\"tasks_spawned\":{},\
             \"ready\":{},\"timers\":{},\"io_sources\":{},\"iterations\":{},\"polls\":{},\
             \"parks\":{},\"parked\":{},\"busy\":{},\"forced_yields\":{},\"pool_busy\":{},\
             \"pool_idle\":{},\"pool_queued\":{}}},\"states\":{{",
            self.loop_id,
            self.debug,
            s.tasks,
            s.tasks_spawned,
            s.ready,
            s.timers,
            s.io_sources,
            s.iterations,
            s.polls,
            s.parks,
            secs(s.parked),
            secs(s.busy),
            s.forced_yields,
            s.pool_busy,
            s.pool_idle,
            s.pool_queued
        );
        let states: Vec<String> = self
            .states
            .iter()
            .map(|(st, n)| format!("\"{st}\":{n}"))
            .collect();
        let _ = write!(o, "{}}},\"ready\":[", states.join(","));
        for (i, r) in self.ready.iter().enumerate() {
            let _ = write!(
                o,
                "{}{{\"id\":{},\"name\":",
                if i == 0 { "" } else { "," },
                r.id
            );
            quote(&mut o, &r.name);
            o.push('}');
        }
        o.push_str("],\"timers\":[");
        let timers: Vec<String> = self
            .timers
            .iter()
            .map(|t| {
                format!(
                    "{{\"fires_in\":{},\"wakes_task\":{}}}",
                    secs(t.fires_in),
                    t.wakes_task
                )
            })
            .collect();
        let _ = write!(o, "{}],\"sources\":[", timers.join(","));
        for (i, src) in self.sources.iter().enumerate() {
            let r: Vec<String> = src.readiness.iter().map(|r| format!("\"{r}\"")).collect();
            let _ = write!(
                o,
                "{}{{\"slot\":{},\"readiness\":[{}],\"readers\":{},\"writers\":{}}}",
                if i == 0 { "" } else { "," },
                src.slot,
                r.join(","),
                src.readers,
                src.writers
            );
        }
        let _ = write!(o, "],\"matching\":{},\"tasks\":[", self.matching);
        for (i, t) in self.tasks.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            task_json(&mut o, t);
        }
        o.push_str("],\"slow_steps\":[");
        for (i, st) in self.slow_steps.iter().enumerate() {
            let _ = write!(
                o,
                "{}{{\"seq\":{},\"task\":{},\"name\":",
                if i == 0 { "" } else { "," },
                st.seq,
                st.task
            );
            quote(&mut o, &st.name);
            o.push_str(",\"spawned_at\":");
            quote(&mut o, &st.spawned_at.to_string());
            let _ = write!(o, ",\"took\":{},\"ago\":{}}}", secs(st.took), secs(st.ago));
        }
        o.push_str("]}");
        o
    }
}

fn task_json(o: &mut String, t: &TaskRow) {
    let _ = write!(o, "{{\"id\":{},\"name\":", t.id);
    quote(o, &t.name);
    let _ = write!(
        o,
        ",\"state\":\"{}\",\"cancelling\":{},\"spawned_at\":",
        t.state, t.cancelling
    );
    quote(o, &t.spawned_at.to_string());
    let _ = write!(
        o,
        ",\"age\":{},\"polls\":{},\"busy\":{},\"awaiting\":[",
        opt(t.age.map(secs)),
        opt(t.polls),
        opt(t.busy.map(secs))
    );
    for (i, p) in t.awaiting.iter().enumerate() {
        let _ = write!(
            o,
            "{}{{\"kind\":\"{}\",\"text\":",
            if i == 0 { "" } else { "," },
            p.kind
        );
        quote(o, &p.to_string());
        let _ = write!(o, ",\"awaits\":{}}}", ids(&p.awaits));
    }
    let _ = write!(o, "],\"awaited_by\":{}}}", ids(&t.awaited_by));
}

#[cfg(test)]
mod tests {
    use crate::trace::{MIN_SWEEP_FOR_TESTS as MIN, steps_len};

    #[test]
    fn the_step_table_of_a_program_nobody_inspects_stays_bounded() {
        let rt = crate::Runtime::builder().debug(true).build().unwrap();
        rt.block_on(async {
            for _ in 0..5 * MIN {
                crate::spawn(async {}).await.unwrap();
            }
        });
        let (len, next) = steps_len();
        assert!(len <= 2 * MIN + 1, "{len} entries");
        assert!(next <= 2 * MIN + 2, "next sweep at {next}");
    }
}
