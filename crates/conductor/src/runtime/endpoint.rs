//! The opt-in debug endpoint (`Builder::debug_endpoint`, `CONDUCTOR_DEBUG_ENDPOINT=1`): a Unix
//! socket that answers `ps`, `pstree`, `stats`, `metrics` (Prometheus text), `snapshot OFFSET
//! LIMIT [NAME]` (`debug::snapshot` as JSON) and `cancel ID` (`debug::cancel_task`) about a
//! running loop, for `conductor-ps PID`, `conductor-pstree PID`, `conductor-stats PID` and
//! `conductor-monitor PID`.
//!
//! A plain thread accepts the connections and reads each one's request line; the answer is made
//! on the loop's own thread, by a callback sent through the loop's remote queue (what
//! `call_soon_threadsafe` does), so it reads the loop's state as it is between two steps and
//! never touches it from another thread. A loop that does not come back to its queue within
//! `ANSWER_TIMEOUT` (blocked, or not running) gets that said instead of an answer.
//!
//! The socket is `$XDG_RUNTIME_DIR/conductor-debug-PID.sock` (else under `/tmp`), mode 0600; a
//! second loop of the process with an endpoint adds `-LOOPID`. It is removed when the runtime is
//! dropped. The protocol: one request line, the answer until the server closes.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use super::core::{LoopStats, with_core};
use super::handle::Handle;
use super::snapshot::{TaskQuery, cancel_task, snapshot};

/// How long a request waits for the loop to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The running endpoint; dropping it stops the server and removes the socket.
pub(crate) struct Endpoint {
    path: PathBuf,
    stop: Arc<AtomicBool>,
}

/// Where the endpoint of loop `loop_id` listens (`first`: the process's first endpoint, named
/// by the PID alone).
fn socket_path(first: bool, loop_id: u64) -> PathBuf {
    let dir =
        std::env::var_os("XDG_RUNTIME_DIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let pid = std::process::id();
    if first {
        dir.join(format!("conductor-debug-{pid}.sock"))
    } else {
        dir.join(format!("conductor-debug-{pid}-{loop_id}.sock"))
    }
}

/// Binds `path`, replacing a stale socket (left by a process that died with this PID).
fn bind(path: &Path) -> io::Result<UnixListener> {
    match UnixListener::bind(path) {
        Err(e) if e.kind() == io::ErrorKind::AddrInUse && UnixStream::connect(path).is_err() => {
            std::fs::remove_file(path)?;
            UnixListener::bind(path)
        }
        r => r,
    }
}

impl Endpoint {
    /// Starts serving the loop behind `handle`.
    ///
    /// # Errors
    /// When the socket cannot be made, or the server thread cannot start.
    pub(crate) fn start(handle: Handle, loop_id: u64) -> io::Result<Endpoint> {
        let (listener, path) = match bind(&socket_path(true, loop_id)) {
            Ok(l) => (l, socket_path(true, loop_id)),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                let path = socket_path(false, loop_id);
                (bind(&path)?, path)
            }
            Err(e) => return Err(e),
        };
        let path = match path.canonicalize() {
            Ok(p) => p,
            Err(_) => path,
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("conductor-debug-endpoint".into())
            .spawn(move || serve(&listener, &handle, &stopped))?;
        Ok(Endpoint { path, stop })
    }

    /// The socket's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the server's accept, which then sees `stop`.
        let _ = UnixStream::connect(&self.path);
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(listener: &UnixListener, handle: &Handle, stop: &AtomicBool) {
    for conn in listener.incoming() {
        if stop.load(Ordering::Acquire) {
            return;
        }
        if let Ok(conn) = conn {
            // One client's failure (it went away, it sent nothing) concerns that client only.
            let _ = answer(conn, handle);
        }
    }
}

fn answer(conn: UnixStream, handle: &Handle) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(io::Read::take(&conn, 256)).read_line(&mut line)?;
    let request = line.trim().to_owned();
    let (tx, rx) = mpsc::channel();
    let text = match handle.call_soon_threadsafe(move || {
        let _ = tx.send(respond(&request));
    }) {
        Err(_) => "error: the event loop has shut down\n".to_owned(),
        Ok(()) => rx.recv_timeout(ANSWER_TIMEOUT).unwrap_or_else(|_| {
            format!(
                "error: the event loop did not answer within {ANSWER_TIMEOUT:?}: it is blocked \
                 in a step, or not running (between two block_on calls)\n"
            )
        }),
    };
    (&conn).write_all(text.as_bytes())
}

/// The answer to `request`, made on the loop's thread.
fn respond(request: &str) -> String {
    match request {
        "ps" => ps_text(),
        "pstree" => crate::task::graph::pstree(),
        "stats" => with_core(|c| c.map(|c| stats_text(&c.stats()))).unwrap_or_default(),
        "metrics" => {
            with_core(|c| c.map(|c| prometheus_text(c.id, &c.stats()))).unwrap_or_default()
        }
        other => match other.split_once(' ') {
            Some(("snapshot", args)) => snapshot_json(args),
            Some(("cancel", id)) => cancel(id),
            _ => format!(
                "error: unknown request {other:?}; ask for ps, pstree, stats, metrics, \
                 snapshot OFFSET LIMIT [NAME] or cancel ID\n"
            ),
        },
    }
}

/// `snapshot OFFSET LIMIT [NAME]`: `debug::snapshot` as JSON, on one line.
fn snapshot_json(args: &str) -> String {
    let mut parts = args.splitn(3, ' ');
    let mut number = || parts.next().and_then(|n| n.parse::<usize>().ok());
    let (Some(offset), Some(limit)) = (number(), number()) else {
        return "error: snapshot OFFSET LIMIT [NAME]\n".to_owned();
    };
    let query = TaskQuery::page(offset, limit).named(parts.next().unwrap_or(""));
    snapshot(&query).map_or_else(String::new, |s| s.to_json() + "\n")
}

/// `cancel ID`: `debug::cancel_task`.
fn cancel(id: &str) -> String {
    match id.trim().parse::<u64>() {
        Ok(id) if cancel_task(id) => format!("cancelled {id}\n"),
        Ok(id) => format!("error: no task {id} is pending\n"),
        Err(_) => "error: cancel ID\n".to_owned(),
    }
}

/// The task table of `debug::dump_tasks` and `conductor-ps` (as `python -m asyncio ps`).
pub(crate) fn ps_text() -> String {
    let mut out = String::new();
    let Some(s) = with_core(|c| c.map(|c| c.stats())) else {
        return "no event loop is running on this thread\n".to_owned();
    };
    let _ = writeln!(
        out,
        "{} tasks; ready queue {}, timers {}, IO sources {}; {} iterations, {} polls",
        s.tasks, s.ready, s.timers, s.io_sources, s.iterations, s.polls
    );
    let _ = writeln!(
        out,
        "{:>6}  {:<24} {:<10} {:>10}  spawned at",
        "id", "name", "state", "cancelling"
    );
    for t in crate::task::all_tasks() {
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

/// Every counter, with the name and kind Prometheus text gives it.
fn metrics(s: &LoopStats) -> [(&'static str, &'static str, &'static str, f64); 14] {
    #[allow(clippy::cast_precision_loss)] // counters far below 2^53
    let n = |v: u64| v as f64;
    let u = |v: usize| v as f64;
    [
        (
            "tasks_alive",
            "gauge",
            "Tasks spawned and not done",
            u(s.tasks),
        ),
        (
            "tasks_spawned_total",
            "counter",
            "Tasks ever spawned",
            n(s.tasks_spawned),
        ),
        (
            "ready_queue_depth",
            "gauge",
            "Tasks and callbacks in the ready queue",
            u(s.ready),
        ),
        ("timers_armed", "gauge", "Pending timers", u(s.timers)),
        (
            "io_sources",
            "gauge",
            "Registered IO sources",
            u(s.io_sources),
        ),
        (
            "iterations_total",
            "counter",
            "Iterations of the loop",
            n(s.iterations),
        ),
        ("polls_total", "counter", "Task polls", n(s.polls)),
        (
            "parks_total",
            "counter",
            "Times the loop parked in the selector",
            n(s.parks),
        ),
        (
            "parked_seconds_total",
            "counter",
            "Time parked in the selector",
            s.parked.as_secs_f64(),
        ),
        (
            "busy_seconds_total",
            "counter",
            "Time not parked since the loop was built",
            s.busy.as_secs_f64(),
        ),
        (
            "budget_forced_yields_total",
            "counter",
            "Yields forced by a spent budget",
            n(s.forced_yields),
        ),
        (
            "pool_threads_busy",
            "gauge",
            "Pool threads running blocking work",
            u(s.pool_busy),
        ),
        (
            "pool_threads_idle",
            "gauge",
            "Pool threads waiting for work",
            u(s.pool_idle),
        ),
        (
            "pool_jobs_queued",
            "gauge",
            "Blocking jobs waiting for a thread",
            u(s.pool_queued),
        ),
    ]
}

/// `stats`: one `name value` line per counter.
pub(crate) fn stats_text(s: &LoopStats) -> String {
    let mut out = String::new();
    for (name, _, _, v) in metrics(s) {
        let _ = writeln!(out, "{name} {v}");
    }
    out
}

/// `metrics`: the Prometheus text exposition format, labelled by loop id.
pub(crate) fn prometheus_text(loop_id: u64, s: &LoopStats) -> String {
    let mut out = String::new();
    for (name, kind, help, v) in metrics(s) {
        let _ = writeln!(out, "# HELP conductor_{name} {help}");
        let _ = writeln!(out, "# TYPE conductor_{name} {kind}");
        let _ = writeln!(out, "conductor_{name}{{loop=\"{loop_id}\"}} {v}");
    }
    out
}
