//! `Builder`: the knobs of a loop.

use std::fmt;
use std::io;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use super::Runtime;
use super::exception::{ExceptionContext, ExceptionHook};

/// A task step that held the loop longer than the slow-callback duration (debug mode).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SlowStep {
    /// The task's name.
    pub task: String,
    /// Where the task was spawned.
    pub spawned_at: &'static Location<'static>,
    /// How long the step held the loop.
    pub took: Duration,
}

impl fmt::Display for SlowStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task {:?} (spawned at {}) blocked the loop for {:.3?} in one step",
            self.task, self.spawned_at, self.took
        )
    }
}

/// Receives debug mode's reports.
#[derive(Clone)]
pub(crate) struct SlowStepHook(pub(crate) Arc<dyn Fn(&SlowStep) + Send + Sync>);

impl fmt::Debug for SlowStepHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SlowStepHook")
    }
}

/// Runs around the selector's blocking wait (`Builder::on_park`).
#[derive(Clone)]
pub(crate) struct ParkHook {
    pub(crate) before: Arc<dyn Fn() + Send + Sync>,
    pub(crate) after: Arc<dyn Fn() + Send + Sync>,
}

impl fmt::Debug for ParkHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ParkHook")
    }
}

/// The settings a loop was built with.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) paused: bool,
    pub(crate) debug: bool,
    pub(crate) debug_endpoint: bool,
    pub(crate) slow_callback: Duration,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_keep_alive: Duration,
    pub(crate) shutdown_timeout: Option<Duration>,
    pub(crate) on_slow_step: Option<SlowStepHook>,
    pub(crate) exception_handler: Option<ExceptionHook>,
    pub(crate) handle_ctrl_c: bool,
    pub(crate) eager_tasks: bool,
    pub(crate) on_park: Option<ParkHook>,
    pub(crate) event_interval: u32,
}

/// Builds a [`Runtime`] (one event loop, for the thread that builds it).
///
/// ```
/// let rt = conductor::Runtime::builder().paused_clock().debug(true).build().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: Config,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// Real clock; debug mode from `CONDUCTOR_DEBUG=1` (like `PYTHONASYNCIODEBUG`), the debug
    /// endpoint from `CONDUCTOR_DEBUG_ENDPOINT=1`; a thread
    /// pool of `min(32, cores + 4)` threads (asyncio's default executor size).
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Builder {
            config: Config {
                paused: false,
                debug: std::env::var_os("CONDUCTOR_DEBUG").is_some_and(|v| v == "1"),
                debug_endpoint: std::env::var_os("CONDUCTOR_DEBUG_ENDPOINT")
                    .is_some_and(|v| v == "1"),
                slow_callback: Duration::from_millis(100),
                max_blocking_threads: (cores + 4).min(32),
                blocking_keep_alive: Duration::from_secs(10),
                shutdown_timeout: None,
                on_slow_step: None,
                exception_handler: None,
                handle_ctrl_c: true,
                eager_tasks: false,
                on_park: None,
                event_interval: super::core::EVENT_INTERVAL,
            },
        }
    }

    /// A paused (virtual) clock: time moves only when every task waits, and then jumps straight
    /// to the next timer. For deterministic tests of time-based code.
    pub fn paused_clock(mut self) -> Self {
        self.config.paused = true;
        self
    }

    /// Debug mode (asyncio's debug mode; also `CONDUCTOR_DEBUG=1`, without recompiling). It
    /// reports every task step that holds the loop longer than the slow-callback duration,
    /// naming the task and where it was spawned; and, through the loop's exception handler, a
    /// task destroyed while pending, a `RemoteTask::wait` blocking an event loop's thread, a
    /// `StreamWriter` whose buffered data was never sent, a `File` dropped with unflushed data,
    /// a `Child` dropped before its exit was awaited. (A task failure nobody retrieved is
    /// reported in any mode.) It records each task's await points for
    /// [`debug::call_graph`](crate::debug::call_graph). Off, none of this costs anything
    /// measurable (ARCHITECTURE.md, "Debug mode").
    pub fn debug(mut self, on: bool) -> Self {
        self.config.debug = on;
        self
    }

    /// The debug endpoint (also `CONDUCTOR_DEBUG_ENDPOINT=1`, without recompiling): a Unix
    /// socket, `$XDG_RUNTIME_DIR/conductor-debug-PID.sock` (else in `/tmp`), mode 0600, where
    /// `conductor-ps PID`, `conductor-pstree PID` and `conductor-stats PID [--prometheus]`
    /// (crate `conductor-tools`) question the running loop: its tasks, its await graph, its
    /// counters; and where `conductor-monitor PID` reads the live view
    /// ([`debug::snapshot`](crate::debug::snapshot)) and cancels tasks
    /// ([`debug::cancel_task`](crate::debug::cancel_task)). A thread accepts the connections;
    /// the loop answers between two steps. Off by default; see [`Runtime::debug_endpoint`].
    pub fn debug_endpoint(mut self, on: bool) -> Self {
        self.config.debug_endpoint = on;
        self
    }

    /// The threshold of debug mode's slow-step report (asyncio's `slow_callback_duration`,
    /// 100 ms by default).
    pub fn slow_callback_duration(mut self, d: Duration) -> Self {
        self.config.slow_callback = d;
        self
    }

    /// Where debug mode's slow-step reports go (standard error by default), for routing them
    /// to a logger or collecting them in a test.
    pub fn on_slow_step(mut self, hook: impl Fn(&SlowStep) + Send + Sync + 'static) -> Self {
        self.config.on_slow_step = Some(SlowStepHook(Arc::new(hook)));
        self
    }

    /// The loop's exception handler (asyncio's `loop.set_exception_handler`), from its start:
    /// it receives every error nobody retrieved (see
    /// [`call_exception_handler`](crate::runtime::call_exception_handler)) instead of the
    /// [`default_exception_handler`](crate::runtime::default_exception_handler), which prints
    /// to standard error. [`set_exception_handler`](crate::runtime::set_exception_handler)
    /// replaces it while the loop runs.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let rt = conductor::Runtime::builder()
    ///     .exception_handler(move |ctx| log.lock().unwrap().push(ctx.to_string()))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     conductor::call_soon(|| panic!("oops"));
    ///     conductor::yield_now().await;
    /// });
    /// let seen = seen.lock().unwrap();
    /// assert!(seen[0].starts_with("Exception in callback\ncallback: scheduled at "));
    /// assert!(seen[0].ends_with("\npanic: oops"));
    /// ```
    pub fn exception_handler(
        mut self,
        handler: impl Fn(&ExceptionContext) + Send + Sync + 'static,
    ) -> Self {
        self.config.exception_handler = Some(ExceptionHook(Arc::new(handler)));
        self
    }

    /// Starts every task spawned while the loop runs at once, inside `spawn`, until its first
    /// suspension (asyncio 3.12's `loop.set_task_factory(asyncio.eager_task_factory)`). A task
    /// that finishes without suspending never touches the ready queue. Per task:
    /// [`task::Builder::eager`](crate::task::Builder::eager), [`spawn_eager`](crate::spawn_eager).
    ///
    /// ```
    /// let rt = conductor::Runtime::builder().eager_tasks(true).build().unwrap();
    /// rt.block_on(async {
    ///     let t = conductor::spawn(async { 1 });
    ///     assert!(t.is_done());
    /// });
    /// ```
    pub fn eager_tasks(mut self, on: bool) -> Self {
        self.config.eager_tasks = on;
        self
    }

    /// The most threads `to_thread`/`spawn_blocking` may use at once (at least 1).
    pub fn max_blocking_threads(mut self, n: usize) -> Self {
        self.config.max_blocking_threads = n.max(1);
        self
    }

    /// How long an idle pool thread waits for work before it exits (10 s by default).
    pub fn blocking_keep_alive(mut self, d: Duration) -> Self {
        self.config.blocking_keep_alive = d;
        self
    }

    /// How long `conductor::run` (and `Runtime::run`) wait, at the end, for cancelled tasks to
    /// finish their cleanup. Unbounded by default, as in asyncio.
    pub fn shutdown_timeout(mut self, d: Duration) -> Self {
        self.config.shutdown_timeout = Some(d);
        self
    }

    /// Whether [`Runtime::run`] (and so `conductor::run` and `#[conductor::main]`) handles
    /// Ctrl-C as `asyncio.run` does: the first SIGINT cancels the main task, lets its cleanup
    /// run, then ends the process by SIGINT; a second one ends it at once. On by default.
    /// Off, a SIGINT that the program does not listen for ends the process at once, without
    /// cleanup (the signal's default action).
    ///
    /// ```
    /// let rt = conductor::Runtime::builder().handle_ctrl_c(false).build().unwrap();
    /// rt.run(async {});
    /// ```
    pub fn handle_ctrl_c(mut self, on: bool) -> Self {
        self.config.handle_ctrl_c = on;
        self
    }

    /// Calls `before` on the loop's thread just before the selector blocks (nothing is ready,
    /// the loop waits for IO, a timer or a wake from another thread) and `after` as soon as it
    /// returns, before any callback or task runs. Not called for the selector's non-blocking
    /// looks. An embedding uses it to release a lock the loop's callbacks need while the
    /// thread sleeps: conductor for Python releases the GIL there (`crates/conductor-py`).
    /// The hooks must not reach the loop (no spawn, no `call_soon`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// let parks = Arc::new(AtomicUsize::new(0));
    /// let p = parks.clone();
    /// let rt = conductor::Runtime::builder()
    ///     .on_park(move || { p.fetch_add(1, Ordering::Relaxed); }, || {})
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(conductor::sleep(std::time::Duration::from_millis(1)));
    /// assert!(parks.load(Ordering::Relaxed) >= 1);
    /// ```
    pub fn on_park(
        mut self,
        before: impl Fn() + Send + Sync + 'static,
        after: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        self.config.on_park = Some(ParkHook {
            before: Arc::new(before),
            after: Arc::new(after),
        });
        self
    }

    /// How many task polls and callbacks run between two non-blocking looks at the selector
    /// while work stays queued (61 by default, as tokio's `event_interval`: a busy loop spends
    /// no system call per iteration). 1 looks at every iteration that ran something, as
    /// asyncio's `_run_once` does; conductor for Python uses 1, so that IO callbacks interleave
    /// with ready callbacks as they do on asyncio's loop. 0 counts as 1.
    ///
    /// ```
    /// let rt = conductor::Runtime::builder().event_interval(1).build().unwrap();
    /// assert_eq!(rt.block_on(async { 7 }), 7);
    /// ```
    pub fn event_interval(mut self, n: u32) -> Self {
        self.config.event_interval = n.max(1);
        self
    }

    /// Builds the loop. It belongs to this thread.
    ///
    /// # Errors
    /// When the OS refuses the selector or its wake-up descriptor (file descriptor exhaustion).
    pub fn build(self) -> io::Result<Runtime> {
        Runtime::with_config(self.config)
    }
}
