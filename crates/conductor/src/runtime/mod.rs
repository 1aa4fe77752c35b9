//! The runtime engine: one event loop per thread.
//!
//! - `core`: the loop iteration (selector, remote queue, timers, ready queue) and shutdown.
//! - `ready`: the ready queue of tasks and callbacks.
//! - `remote`: the thread-safe queue through which other threads reach the loop.
//! - `shared`: the part of a loop that tasks and other threads hold on to.
//! - `budget`: the cooperative budget.
//! - `callback`: `call_soon`, `call_later`, `call_at`.
//! - `exception`: the exception handler, where every error nobody retrieved is reported.
//! - `handle`: `Handle`, to reach a loop from other threads.
//! - `per_core`: `LoopGroup`, one loop per thread for multi-core programs.
//!
//! - `runner`: `run`'s Ctrl-C handling (asyncio's `Runner`), on the signal driver
//!   (`signal::registry`).
//!
//! The loop (`core`, `ready`, `remote`, `shared`, `shutdown`) composes the drivers, which it
//! lends to the code it runs through `crate::context`, and steps the tasks; it knows nothing of
//! sync, net, fs or process. Of `signal` it uses only the driver, the process-wide handler
//! registry, for the runner (as asyncio's `runners.py` installs its SIGINT handler).

pub(crate) mod budget;
mod builder;
mod callback;
pub(crate) mod core;
pub(crate) mod endpoint;
pub(crate) mod exception;
mod handle;
mod per_core;
pub(crate) mod ready;
pub(crate) mod remote;
mod runner;
pub(crate) mod shared;
mod shutdown;
pub(crate) mod snapshot;

use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::panic::Location;
use std::time::{Duration, Instant};

pub use self::core::LoopStats;
pub use budget::{consume_budget, poll_proceed};
pub use builder::{Builder, SlowStep};
pub(crate) use callback::call_soon_internal;
pub use callback::{CallbackHandle, TimerHandle, call_at, call_later, call_soon};
pub use exception::{
    ContextError, ExceptionContext, TaskInfo, call_exception_handler, default_exception_handler,
    reset_exception_handler, set_exception_handler,
};
pub use handle::{Handle, LoopClosed, RemoteTask};
pub use per_core::LoopGroup;

use self::core::Core;
use self::core::Entered;
use crate::context;
use builder::Config;

use crate::task::{Task, TaskError, spawn_on};
use runner::CtrlC;

/// An event loop (asyncio's `EventLoop`) and the thread pool it sends blocking work to.
///
/// A `Runtime` belongs to the thread that built it (it is `!Send`), and so do the tasks spawned
/// on it. Most programs use [`run`] instead; a `Runtime` is for running a loop more than once,
/// stepping it in tests, or reaching it from other threads through its [`Handle`].
pub struct Runtime {
    core: Box<Core>,
    /// The debug endpoint, when enabled; dropped after the loop has closed.
    endpoint: Option<endpoint::Endpoint>,
    _not_send: PhantomData<*const ()>,
}

impl Runtime {
    /// A loop with the default settings.
    ///
    /// # Errors
    /// When the OS refuses the selector (file descriptor exhaustion).
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Settings for a new loop.
    pub fn builder() -> Builder {
        Builder::new()
    }

    fn with_config(config: Config) -> io::Result<Runtime> {
        let serve = config.debug_endpoint;
        let mut rt = Runtime {
            core: Box::new(Core::new(config)?),
            endpoint: None,
            _not_send: PhantomData,
        };
        if serve {
            match endpoint::Endpoint::start(rt.handle(), rt.core.id) {
                Ok(e) => rt.endpoint = Some(e),
                // Introspection must not stop the program: say why it is missing, and run.
                Err(e) => exception::default_exception_handler(
                    &ExceptionContext::new("The debug endpoint could not start").with_error(e),
                ),
            }
        }
        Ok(rt)
    }

    fn enter_core(&self) -> Entered {
        // SAFETY: `core` is boxed and outlives the guard, which is dropped before `self` is.
        unsafe { self.core.enter() }
    }

    fn assert_not_nested() {
        assert!(
            !context::in_loop(),
            "cannot run an event loop while another one is running on this thread \
             (asyncio: \"asyncio.run() cannot be called from a running event loop\"); \
             await the future, or spawn it, instead"
        );
    }

    /// Runs `future` as a task until it completes and returns its result (asyncio's
    /// `loop.run_until_complete`). Other tasks are left as they are.
    ///
    /// # Panics
    /// When a loop is already running on this thread.
    #[track_caller]
    pub fn run_until_complete<F>(&self, future: F) -> Result<F::Output, TaskError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.run_main(future, Location::caller(), None)
    }

    /// Runs `future` as the main task until it completes; a Ctrl-C that `ctrl_c` saw cancels
    /// it (asyncio's `Runner._on_sigint`).
    fn run_main<F>(
        &self,
        future: F,
        at: &'static Location<'static>,
        ctrl_c: Option<&CtrlC>,
    ) -> Result<F::Output, TaskError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Self::assert_not_nested();
        let _enter = self.enter_core();
        let mut main = spawn_on(&self.core.shared, self.core.on_loop(), future, at);
        self.run_until_done(&main, ctrl_c);
        if let Some(c) = ctrl_c {
            c.main_done();
        }
        main.result()
    }

    /// Runs iterations until `main` is done; the first Ctrl-C that `ctrl_c` sees cancels it.
    /// Not generic, so the iteration is inlined into this one loop (no call per iteration).
    fn run_until_done(&self, main: &crate::task::TaskRef, ctrl_c: Option<&CtrlC>) {
        let mut cancelled = false;
        while !main.is_done() {
            if !cancelled && ctrl_c.is_some_and(CtrlC::interrupted) {
                main.cancel();
                cancelled = true;
            }
            self.core.run_once(true);
        }
    }

    /// [`run_until_complete`](Self::run_until_complete), returning the value: a panic of the
    /// future resumes here.
    ///
    /// # Panics
    /// When a loop is already running on this thread, when `future` panics, or when its task
    /// is cancelled.
    #[track_caller]
    pub fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        unwrap_main(self.run_until_complete(future))
    }

    /// asyncio's `asyncio.run`: runs `future`, then cancels the tasks still running and waits
    /// for them (up to [`Builder::shutdown_timeout`]), then closes the loop.
    ///
    /// Ctrl-C as in `asyncio.run` (unless [`Builder::handle_ctrl_c`] turned it off): the first
    /// SIGINT cancels the main task, whose cleanup runs (`Drop`s, `catch_cancel` blocks); if it
    /// ends cancelled, the other tasks are cancelled and awaited, the loop closes, and the
    /// process ends killed by SIGINT, as Python ends on an uncaught `KeyboardInterrupt` (a
    /// shell reports exit status 130). A main task that catches the cancellation and returns
    /// a value makes `run` return it. A second SIGINT, or one after the main task ended, ends
    /// the process at once. While the program listens for SIGINT itself
    /// ([`signal::ctrl_c`](crate::signal::ctrl_c), [`graceful_shutdown`](crate::signal::graceful_shutdown)),
    /// its listener gets the signal instead.
    ///
    /// # Panics
    /// As [`block_on`](Self::block_on).
    #[track_caller]
    pub fn run<F>(self, future: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let at = Location::caller();
        Self::assert_not_nested();
        let ctrl_c = self
            .core
            .config
            .handle_ctrl_c
            .then(|| CtrlC::install(self.handle()));
        let out = self.run_main(future, at, ctrl_c.as_ref());
        self.shutdown();
        match ctrl_c {
            Some(c) if c.interrupted() && matches!(out, Err(TaskError::Cancelled(_))) => c.exit(),
            _ => unwrap_main(out),
        }
    }

    /// Spawns a task on this loop; it runs when the loop does.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_on(
            &self.core.shared,
            self.core.on_loop(),
            future,
            Location::caller(),
        )
    }

    /// Runs one iteration of the loop without blocking: what is ready runs once, due timers
    /// fire. For tests that step the loop.
    ///
    /// # Panics
    /// When a loop is already running on this thread.
    pub fn run_once(&self) {
        Self::assert_not_nested();
        let _enter = self.enter_core();
        self.core.run_once(false);
    }

    /// Runs one iteration of the loop, waiting in the selector when nothing is ready (asyncio's
    /// `_run_once`): the selector (blocking until IO, the next timer or a remote wake if no
    /// callback or task is ready), the remote queue, the due timers, then what was ready. An
    /// embedding's `run_forever` is this in a loop until its stop flag is set.
    ///
    /// # Panics
    /// When a loop is already running on this thread.
    pub fn run_once_blocking(&self) {
        Self::assert_not_nested();
        let _enter = self.enter_core();
        self.core.run_once(true);
    }

    /// Makes this loop the current one on this thread until the guard drops, without running
    /// it (tokio's `Runtime::enter`): `call_soon`, `call_at`, `spawn`, `AsyncFd::new` and the
    /// sockets' constructors then reach it from synchronous code, as asyncio's loop methods
    /// work before `run_forever`. What they queue runs when the loop next runs. The loop that
    /// was current before comes back when the guard drops.
    ///
    /// ```
    /// let rt = conductor::Runtime::new().unwrap();
    /// let timer = {
    ///     let _guard = rt.enter();
    ///     conductor::call_later(std::time::Duration::from_millis(1), || {})
    /// };
    /// rt.block_on(conductor::sleep(std::time::Duration::from_millis(2)));
    /// assert!(!timer.cancelled());
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _entered: self.enter_core(),
            _runtime: PhantomData,
        }
    }

    /// A handle to reach this loop from other threads.
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.shared.clone())
    }

    /// The loop clock's current time.
    pub fn now(&self) -> Instant {
        self.core.drivers.clock.now()
    }

    /// Moves a paused clock forward (no effect on a real clock); due timers fire at the next
    /// iteration.
    pub fn advance(&self, by: Duration) {
        let clock = &self.core.drivers.clock;
        clock.advance_to(clock.after(by));
    }

    /// Counters of the loop.
    pub fn stats(&self) -> LoopStats {
        self.core.stats()
    }

    /// Where the loop's debug endpoint listens, when it has one
    /// ([`Builder::debug_endpoint`], `CONDUCTOR_DEBUG_ENDPOINT=1`).
    ///
    /// ```
    /// let rt = conductor::Runtime::builder().debug_endpoint(true).build().unwrap();
    /// let path = rt.debug_endpoint().unwrap().to_owned();
    /// assert!(path.to_str().unwrap().contains(&format!("conductor-debug-{}", std::process::id())));
    /// drop(rt);
    /// assert!(!path.exists()); // removed with the runtime
    /// ```
    pub fn debug_endpoint(&self) -> Option<&std::path::Path> {
        self.endpoint.as_ref().map(endpoint::Endpoint::path)
    }

    /// Cancels every task still running, waits for them to finish (up to
    /// [`Builder::shutdown_timeout`]), and closes the loop.
    pub fn shutdown(self) {
        Self::assert_not_nested();
        let _enter = self.enter_core();
        shutdown::cancel_all(&self.core);
    }
}

/// The loop made current by [`Runtime::enter`]; the previous one comes back when this drops.
pub struct EnterGuard<'a> {
    _entered: Entered,
    _runtime: PhantomData<&'a Runtime>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnterGuard")
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _enter = self.enter_core();
        shutdown::close(&self.core);
    }
}

#[track_caller]
fn unwrap_main<T>(result: Result<T, TaskError>) -> T {
    match result {
        Ok(v) => v,
        Err(TaskError::Panicked(p)) => std::panic::resume_unwind(p),
        Err(e) => panic!("the main task ended without a value: {e}"),
    }
}

/// Runs `future` on a new event loop and returns its output (asyncio's `asyncio.run`).
///
/// When `future` completes, the tasks still running are cancelled and awaited (so they can
/// clean up), the thread pool is released and the loop closed. Ctrl-C cancels the main task
/// first, as in asyncio (see [`Runtime::run`]).
///
/// # Panics
/// When called while a loop runs on this thread (as asyncio raises `RuntimeError`), when the
/// OS refuses a selector, or when `future` panics (the panic resumes here).
///
/// ```
/// let answer = conductor::run(async {
///     conductor::sleep(std::time::Duration::from_millis(1)).await;
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F>(future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    Runtime::assert_not_nested();
    Runtime::new()
        .expect("conductor: could not create the event loop's selector")
        .run(future)
}

/// Whether the loop running on this thread is in debug mode (asyncio's `loop.get_debug()`):
/// [`Builder::debug`] or `CONDUCTOR_DEBUG=1`. False outside a loop.
///
/// ```
/// let rt = conductor::Runtime::builder().debug(true).build().unwrap();
/// assert!(rt.block_on(async { conductor::runtime::is_debug() }));
/// assert!(!conductor::runtime::is_debug());
/// ```
pub fn is_debug() -> bool {
    core::with_core(|c| c.is_some_and(Core::debug))
}

/// Debug mode's report of a misuse (a resource dropped with data not yet written, a blocking
/// wait on the loop's thread): to the loop's exception handler, only in debug mode, built only
/// then.
pub(crate) fn debug_warning(make: impl FnOnce() -> ExceptionContext) {
    core::with_core(|c| {
        if let Some(c) = c.filter(|c| c.debug()) {
            c.call_exception_handler(make());
        }
    });
}
