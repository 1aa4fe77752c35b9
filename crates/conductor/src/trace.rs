//! Await points: the conductor futures each task is suspended in, recorded only while a loop
//! in debug mode runs on this thread (the await graph of `debug::call_graph`).
//!
//! A leaf above `context`: the user-facing futures (`sleep`, a lock's acquire, a queue's get, a
//! socket's readiness wait, awaiting a task, `gather`, a `TaskGroup`, `shield`) call [`note`]
//! when they return `Pending`; the task system calls [`begin_step`] before each poll of a task
//! in debug mode, which forgets that task's previous points, so that after the poll the table
//! holds exactly the points of the task's current suspension (no `Drop` bookkeeping, nothing
//! stale). The engine does not call in here on any path taken when debug mode is off.
//!
//! Off, [`note`] costs one relaxed load of a process-wide counter of debug loops, and a branch.
//! The table lives in a thread-local map keyed by the task's address, outside the task header.
//!
//! Beside it, for the live view (`debug::snapshot`): each task's step count, busy time and first
//! step ([`count_step`], from the step timing debug mode already does), and the log of the
//! latest slow steps ([`log_slow`]). Both are swept with the table, when the graph is read.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::context;

/// How many loops in debug mode exist in the process: while none does, `note` does nothing.
static DEBUG_LOOPS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// A debug-mode loop is entered on this thread.
    static ON: Cell<bool> = const { Cell::new(false) };
    static TABLE: RefCell<HashMap<usize, Vec<Point>>> = RefCell::new(HashMap::new());
    /// Each task's steps so far (debug mode), by address.
    static STEPS: RefCell<HashMap<usize, Steps>> = RefCell::new(HashMap::new());
    /// The step table's size at which the next sweep is due.
    static SWEEP_AT: Cell<usize> = const { Cell::new(MIN_SWEEP) };
    /// The latest slow steps, oldest first, at most `SLOW_KEPT`; and how many were ever logged.
    static SLOW: RefCell<(VecDeque<SlowRecord>, u64)> = const { RefCell::new((VecDeque::new(), 0)) };
}

/// The step table's size below which it is never swept.
const MIN_SWEEP: usize = 4096;

/// How many slow steps the log keeps.
const SLOW_KEPT: usize = 64;

/// A task's steps (debug mode): how many, how long in all, when the first began.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Steps {
    pub(crate) polls: u64,
    pub(crate) busy: Duration,
    pub(crate) first: Instant,
}

/// A slow step as logged (debug mode): the `seq`-th ever, of task `task`, that took `took`.
#[derive(Clone, Debug)]
pub(crate) struct SlowRecord {
    pub(crate) seq: u64,
    pub(crate) task: u64,
    pub(crate) name: String,
    pub(crate) spawned_at: &'static std::panic::Location<'static>,
    pub(crate) took: Duration,
    pub(crate) at: Instant,
}

/// One await point, as recorded (tasks by address; `debug` turns them into ids).
#[derive(Clone, Debug)]
pub(crate) struct Point {
    /// What is awaited: `"sleep"`, `"Lock.acquire"`, `"Queue.get"`, `"read"`, `"task"`...
    pub(crate) kind: &'static str,
    /// When the point is a timer: its deadline on the loop's clock.
    pub(crate) deadline: Option<Instant>,
    /// More about it (a file descriptor, a direction).
    pub(crate) detail: Option<String>,
    /// The tasks this point waits for (a joined task, gather's or a group's children).
    pub(crate) awaits: Vec<NonNull<()>>,
}

impl Point {
    pub(crate) fn new(kind: &'static str) -> Point {
        Point {
            kind,
            deadline: None,
            detail: None,
            awaits: Vec::new(),
        }
    }

    pub(crate) fn deadline(mut self, at: Instant) -> Point {
        self.deadline = Some(at);
        self
    }

    pub(crate) fn detail(mut self, d: impl Into<String>) -> Point {
        self.detail = Some(d.into());
        self
    }

    pub(crate) fn awaits(mut self, tasks: impl IntoIterator<Item = NonNull<()>>) -> Point {
        self.awaits.extend(tasks);
        self
    }
}

/// Whether a debug-mode loop exists anywhere in the process (the cheap first check).
#[inline]
pub(crate) fn capturing() -> bool {
    DEBUG_LOOPS.load(Ordering::Relaxed) != 0
}

/// Records that the task being polled is suspended in the point `make` describes. `make` runs
/// only when a debug-mode loop is entered on this thread.
#[inline]
pub(crate) fn note(make: impl FnOnce() -> Point) {
    if capturing() {
        note_slow(make);
    }
}

#[cold]
#[inline(never)]
fn note_slow(make: impl FnOnce() -> Point) {
    if !ON.with(Cell::get) {
        return;
    }
    let Some(task) = context::current_task() else {
        return;
    };
    let point = make();
    TABLE.with(|t| {
        t.borrow_mut()
            .entry(task.as_ptr() as usize)
            .or_default()
            .push(point);
    });
}

/// A step of `task` begins (debug mode): its previous points are gone.
pub(crate) fn begin_step(task: NonNull<()>) {
    TABLE.with(|t| {
        if let Some(v) = t.borrow_mut().get_mut(&(task.as_ptr() as usize)) {
            v.clear();
        }
    });
}

/// The points of `task`'s current suspension.
pub(crate) fn points_of(task: NonNull<()>) -> Vec<Point> {
    TABLE.with(|t| {
        t.borrow()
            .get(&(task.as_ptr() as usize))
            .cloned()
            .unwrap_or_default()
    })
}

/// Forgets every task but `live` (the tables are swept when read, so that they hold no more
/// entries than the loop has tasks).
pub(crate) fn retain(live: &std::collections::HashSet<usize>) {
    TABLE.with(|t| t.borrow_mut().retain(|k, _| live.contains(k)));
    STEPS.with(|t| t.borrow_mut().retain(|k, _| live.contains(k)));
}

/// Forgets every task for which `live` says no (as [`retain`], without a set of addresses).
pub(crate) fn retain_with(live: impl Fn(NonNull<()>) -> bool) {
    let keep = |k: &usize| NonNull::new(*k as *mut ()).is_some_and(&live);
    TABLE.with(|t| t.borrow_mut().retain(|k, _| keep(k)));
    STEPS.with(|t| t.borrow_mut().retain(|k, _| keep(k)));
}

/// Calls `f` with each recorded point and its task (points of tasks not suspended included:
/// the caller checks).
pub(crate) fn for_each_point(mut f: impl FnMut(NonNull<()>, &Point)) {
    TABLE.with(|t| {
        for (k, points) in t.borrow().iter() {
            if let Some(task) = NonNull::new(*k as *mut ()) {
                points.iter().for_each(|p| f(task, p));
            }
        }
    });
}

/// A step of `task` that began at `started` took `took` (debug mode; the loop times each step).
/// Returns whether the tables should be swept of finished tasks ([`swept`] after): they hold
/// twice as many tasks as at the last sweep, so that a program nobody inspects does not grow
/// them with every task it ever ran.
pub(crate) fn count_step(task: NonNull<()>, started: Instant, took: Duration) -> bool {
    STEPS.with(|t| {
        let mut t = t.borrow_mut();
        let s = t.entry(task.as_ptr() as usize).or_insert(Steps {
            polls: 0,
            busy: Duration::ZERO,
            first: started,
        });
        s.polls += 1;
        s.busy += took;
        t.len() > SWEEP_AT.with(Cell::get)
    })
}

/// The tables were swept: the next sweep is due at twice their size.
pub(crate) fn swept() {
    let len = STEPS
        .with(|t| t.borrow().len())
        .max(TABLE.with(|t| t.borrow().len()));
    SWEEP_AT.with(|s| s.set((2 * len).max(MIN_SWEEP)));
}

/// The steps of `task` so far, if it took one in debug mode.
pub(crate) fn steps_of(task: NonNull<()>) -> Option<Steps> {
    STEPS.with(|t| t.borrow().get(&(task.as_ptr() as usize)).copied())
}

/// Logs a slow step (the record's `seq` is set here).
pub(crate) fn log_slow(mut record: SlowRecord) {
    SLOW.with(|s| {
        let (log, count) = &mut *s.borrow_mut();
        *count += 1;
        record.seq = *count;
        if log.len() == SLOW_KEPT {
            log.pop_front();
        }
        log.push_back(record);
    });
}

/// The slow steps logged on this thread, oldest first (the last `SLOW_KEPT`).
pub(crate) fn slow_log() -> Vec<SlowRecord> {
    SLOW.with(|s| s.borrow().0.iter().cloned().collect())
}

/// A debug-mode loop exists from `Core::new` until this guard drops.
pub(crate) struct DebugLoop(());

impl DebugLoop {
    pub(crate) fn new() -> DebugLoop {
        DEBUG_LOOPS.fetch_add(1, Ordering::Relaxed);
        DebugLoop(())
    }
}

impl Drop for DebugLoop {
    fn drop(&mut self) {
        DEBUG_LOOPS.fetch_sub(1, Ordering::Relaxed);
        // The loop is dropped on its own thread (a `Runtime` is `!Send`): its tasks are gone.
        TABLE.with(|t| t.borrow_mut().clear());
        STEPS.with(|t| t.borrow_mut().clear());
    }
}

/// A debug-mode loop is entered on this thread until this guard drops.
pub(crate) struct Entered(bool);

impl Entered {
    pub(crate) fn new(debug: bool) -> Entered {
        Entered(ON.with(|on| on.replace(debug)))
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        ON.with(|on| on.set(self.0));
    }
}

/// How many tasks the step table holds, and the size at which its next sweep is due (tests).
#[cfg(test)]
pub(crate) fn steps_len() -> (usize, usize) {
    (STEPS.with(|t| t.borrow().len()), SWEEP_AT.with(Cell::get))
}

/// See [`MIN_SWEEP`] (tests).
#[cfg(test)]
pub(crate) const MIN_SWEEP_FOR_TESTS: usize = MIN_SWEEP;
