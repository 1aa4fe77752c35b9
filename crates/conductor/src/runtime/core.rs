//! The loop itself: one iteration is asyncio's `_run_once`.
//!
//! ```text
//!  1. selector   wait for IO (blocking only when nothing is ready), wake what it concerns
//!  2. remote     drain what other threads sent: wakes, call_soon_threadsafe, remote spawns
//!  3. timers     fire every timer that came due, in deadline order
//!  4. ready      run exactly the entries queued when this step began
//! ```
//!
//! The selector is asked for events with a zero timeout only every `EVENT_INTERVAL` task polls
//! (`Builder::event_interval`) while work is queued, and not at all when no IO source is registered: a busy loop spends no
//! system call per iteration.

use std::cell::{Cell, RefCell};
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use super::builder::Config;
use super::exception::{self, ExceptionContext, Handler};
use super::ready::{Entry, Runnable};
use super::remote::{Remote, Unpark};
use super::shared::{OnLoop, Shared};
use crate::blocking::pool::Pool;
use crate::context::{self, Drivers, Enter};
use crate::io::driver::Driver;
use crate::task::harness;
use crate::task::header::flags::COMPLETE;
use crate::task::raw::{free, merge_debt};
use crate::task::{TaskPtr, schedule};
use crate::time::clock::Clock;
use crate::time::wheel::{Fired, Payload, TICK_NS, Wheel, tick_start_ns};

/// Task polls between two non-blocking looks at the selector while work is queued (the
/// default of `Builder::event_interval`).
pub(crate) const EVENT_INTERVAL: u32 = 61;

/// The loop running on this thread, if any.
#[inline]
pub(crate) fn with_core<R>(f: impl FnOnce(Option<&Core>) -> R) -> R {
    let core = context::running_loop().cast::<Core>();
    // SAFETY: a non-null pointer was set by `Core::enter`, whose caller keeps the `Core` alive
    // and in place (boxed) until the guard is dropped, which resets the pointer.
    f(unsafe { core.as_ref() })
}

struct MioUnpark(mio::Waker);

impl Unpark for MioUnpark {
    fn unpark(&self) {
        // A failed eventfd write leaves the loop to its timeout; nothing better can be done.
        let _ = self.0.wake();
    }
}

/// A loop entered on this thread (`Core::enter`): the context goes back to what it was when this
/// drops, and the task system's per-thread buffers are released.
pub(crate) struct Entered {
    _enter: Enter,
    _trace: crate::trace::Entered,
}

impl Drop for Entered {
    fn drop(&mut self) {
        crate::cancel::release_frames();
    }
}

/// Counters of what the loop did and holds now, for [`Runtime::stats`](crate::Runtime::stats),
/// [`debug::loop_stats`](crate::debug::loop_stats), the task dump and the debug endpoint's
/// `stats` and Prometheus `metrics`. Reading them costs a walk of the task registry (for
/// `tasks`) and one lock of the thread pool; the loop keeps them as plain counters.
///
/// ```
/// let rt = conductor::Runtime::new().unwrap();
/// rt.block_on(async {
///     conductor::spawn(async {}).await.unwrap();
/// });
/// let s = rt.stats();
/// assert_eq!((s.tasks, s.tasks_spawned), (0, 2)); // the spawned task and block_on's
/// assert!(s.polls >= 2 && s.ready == 0);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoopStats {
    /// Iterations of the loop.
    pub iterations: u64,
    /// Task polls.
    pub polls: u64,
    /// Tasks and callbacks in the ready queue now.
    pub ready: usize,
    /// Pending timers.
    pub timers: usize,
    /// Registered IO sources.
    pub io_sources: usize,
    /// Tasks alive: spawned and not done yet.
    pub tasks: usize,
    /// Tasks ever spawned on the loop.
    pub tasks_spawned: u64,
    /// Times the loop parked in the selector with nothing to run.
    pub parks: u64,
    /// Time spent parked (waiting in the selector with nothing to run).
    pub parked: Duration,
    /// Time since the loop was built, less the time parked: running tasks, callbacks, timers
    /// and polls of the selector (and any time the loop was not running at all).
    pub busy: Duration,
    /// Times a task was made to yield because its cooperative budget was spent.
    pub forced_yields: u64,
    /// Thread-pool threads running blocking work now.
    pub pool_busy: usize,
    /// Thread-pool threads waiting for work.
    pub pool_idle: usize,
    /// Blocking jobs queued, waiting for a pool thread.
    pub pool_queued: usize,
}

/// The loop: its drivers (lent to the code it runs through `context`), its queues (in
/// `shared`), and what only the loop itself reads.
pub(crate) struct Core {
    pub(crate) id: u64,
    pub(crate) shared: Arc<Shared>,
    pub(crate) drivers: Drivers,
    pub(crate) config: Config,
    /// The exception handler; `None` means the default one.
    pub(crate) exception_handler: RefCell<Option<Handler>>,
    polls_since_io: Cell<u32>,
    /// The ready queue is being run: user code may be running (asyncio's `loop.is_running()`
    /// as far as eager tasks are concerned).
    running_ready: Cell<bool>,
    iterations: Cell<u64>,
    polls: Cell<u64>,
    remote_buf: Cell<Vec<Remote>>,
    fired_buf: Cell<Vec<Fired>>,
    created: std::time::Instant,
    parks: Cell<u64>,
    parked: Cell<Duration>,
    /// Counts this loop among the process's debug-mode loops (await points are recorded).
    _debug_loop: Option<crate::trace::DebugLoop>,
}

/// Under a paused clock, the pool's last work in flight finishing wakes the loop (a no-op call
/// through the remote queue), so that a loop parked while the work was still counted re-checks
/// whether it can jump to its next timer. Weak: the pool's threads must not keep the loop's
/// state alive.
fn pool_idle_wakes(shared: &Arc<Shared>) -> crate::blocking::pool::OnIdle {
    let shared = Arc::downgrade(shared);
    Box::new(move || {
        if let Some(shared) = shared.upgrade() {
            let _ = shared.remote.push(Remote::Call(
                Box::new(|| {}),
                std::panic::Location::caller(),
            ));
        }
    })
}

impl Core {
    pub(crate) fn new(config: Config) -> io::Result<Core> {
        let (io, waker) = Driver::new()?;
        let shared = Arc::new(Shared::new(Box::new(MioUnpark(waker))));
        let clock = Clock::new(config.paused);
        let timers = Wheel::new(clock.now_ns() / TICK_NS);
        let pool = Pool::new(
            "conductor-blocking",
            config.max_blocking_threads,
            config.blocking_keep_alive,
            config.paused.then(|| pool_idle_wakes(&shared)),
            exception::report_pool_spawn_error,
        );
        Ok(Core {
            id: shared.id,
            drivers: Drivers::new(shared.id, clock, timers, io, pool),
            polls_since_io: Cell::new(0),
            running_ready: Cell::new(false),
            iterations: Cell::new(0),
            polls: Cell::new(0),
            remote_buf: Cell::new(Vec::new()),
            fired_buf: Cell::new(Vec::new()),
            created: std::time::Instant::now(),
            parks: Cell::new(0),
            parked: Cell::new(Duration::ZERO),
            _debug_loop: config.debug.then(crate::trace::DebugLoop::new),
            exception_handler: RefCell::new(
                config.exception_handler.clone().map(|h| h.into_handler()),
            ),
            config,
            shared,
        })
    }

    /// Makes this loop the one running on this thread until the guard drops.
    ///
    /// # Safety
    /// `self` stays alive and in place until the guard is dropped, on this thread.
    pub(crate) unsafe fn enter(&self) -> Entered {
        let running = std::ptr::from_ref(self).cast::<()>();
        let shared = Arc::as_ptr(&self.shared).cast::<()>();
        // SAFETY: the drivers are a field of `self`, which the caller keeps alive and in place.
        let enter = unsafe { Enter::new(&self.drivers, running, shared) };
        Entered {
            _enter: enter,
            _trace: crate::trace::Entered::new(self.config.debug),
        }
    }

    /// Whether a spawn now may start its task eagerly: the loop is running its ready queue.
    pub(crate) fn may_start_eagerly(&self) -> bool {
        self.running_ready.get()
    }

    /// Hands `context` to this loop's exception handler (no borrow is held while it runs, so
    /// the handler may replace itself or report again).
    pub(crate) fn call_exception_handler(&self, context: ExceptionContext) {
        let handler = self.exception_handler.borrow().clone();
        exception::run_handler(handler, context);
    }

    pub(crate) fn debug(&self) -> bool {
        self.config.debug
    }

    /// A step of `task` in debug mode, which began at `started`, is over: counted for the live
    /// view (`debug::snapshot`), and reported when slow.
    pub(crate) fn report_slow_poll(&self, task: TaskPtr, started: std::time::Instant) {
        let took = started.elapsed();
        if crate::trace::count_step(task.erase(), started, took) {
            self.sweep_trace();
        }
        if took < self.config.slow_callback {
            return;
        }
        // SAFETY: the task being reported is alive (its queue entry is held by the caller).
        let t = crate::TaskRef::from_local(unsafe { crate::task::LocalRef::new(task) });
        let step = super::SlowStep {
            task: t.name().into_owned(),
            spawned_at: t.spawned_at(),
            took,
        };
        crate::trace::log_slow(crate::trace::SlowRecord {
            seq: 0,
            task: t.id(),
            name: step.task.clone(),
            spawned_at: step.spawned_at,
            took,
            at: std::time::Instant::now(),
        });
        match &self.config.on_slow_step {
            Some(hook) => (hook.0)(&step),
            None => eprintln!(
                "conductor: {step} (slow_callback_duration is {:?})",
                self.config.slow_callback
            ),
        }
    }

    /// Forgets the debug-mode records of tasks that are gone.
    #[cold]
    fn sweep_trace(&self) {
        let live: std::collections::HashSet<NonNull<()>> = self
            .shared
            .registered(self.on_loop())
            .into_iter()
            .map(TaskPtr::erase)
            .collect();
        crate::trace::retain_with(|t| live.contains(&t));
        crate::trace::swept();
    }

    /// The proof that this is the loop's thread: a `Core` is `!Sync`, so a `&Core` exists only
    /// on the thread that owns it.
    #[inline]
    pub(crate) fn on_loop(&self) -> OnLoop {
        // SAFETY: see above; `Runtime`, which holds the `Core`, is `!Send` too.
        unsafe { OnLoop::new_unchecked() }
    }

    fn ready_len(&self) -> usize {
        self.shared.ready_len(self.on_loop())
    }

    pub(crate) fn stats(&self) -> LoopStats {
        let tasks = self
            .shared
            .registered(self.on_loop())
            .into_iter()
            // SAFETY: registered tasks are alive; the loop's own thread.
            .filter(|t| !unsafe { t.header() }.has(COMPLETE))
            .count();
        let (pool_busy, pool_idle, pool_queued) = self.drivers.pool.counts();
        let parked = self.parked.get();
        LoopStats {
            iterations: self.iterations.get(),
            polls: self.polls.get(),
            ready: self.ready_len(),
            timers: self.drivers.timers.borrow().len(),
            io_sources: self.drivers.io.len(),
            tasks,
            tasks_spawned: self.shared.spawned(self.on_loop()),
            parks: self.parks.get(),
            parked,
            busy: self.created.elapsed().saturating_sub(parked),
            forced_yields: self.drivers.forced_yields(),
            pool_busy,
            pool_idle,
            pool_queued,
        }
    }

    /// One iteration. With `may_block`, waits in the selector when nothing is ready. Inlined
    /// into its callers' loops: a call per iteration costs a task that suspends at once (a
    /// chain of spawns) about a twentieth of its instructions.
    #[inline(always)]
    pub(crate) fn run_once(&self, may_block: bool) {
        self.iterations.set(self.iterations.get() + 1);
        self.select(may_block);
        self.drain_remote();
        self.fire_timers();
        self.run_ready();
    }

    #[inline(always)]
    fn select(&self, may_block: bool) {
        let ready_empty = self.ready_len() == 0;
        let idle = ready_empty && !self.shared.remote.has_pending();
        if idle && may_block {
            self.wait();
            self.polls_since_io.set(0);
        } else if self.drivers.io.len() > 0
            && (ready_empty || self.polls_since_io.get() >= self.config.event_interval)
        {
            self.poll_io(Some(Duration::ZERO));
            self.polls_since_io.set(0);
        }
    }

    /// Nothing is ready: waits in the selector (or jumps a paused clock to the next timer).
    /// Out of line, so the busy iteration inlined into the loop stays small.
    #[inline(never)]
    fn wait(&self) {
        self.shared.trim_blocks(self.on_loop());
        let timeout = self.park_timeout();
        if self.drivers.clock.is_paused() && timeout.is_some() && self.drivers.pool.in_flight() == 0
        {
            // Nothing can happen before the next timer but IO: jump to the timer.
            if let Some(tick) = self.drivers.timers.borrow().next_tick() {
                self.drivers.clock.advance_to(tick_start_ns(tick));
            }
            self.poll_io(Some(Duration::ZERO));
        } else if self.shared.remote.park() {
            let timeout = if self.drivers.clock.is_paused() {
                None
            } else {
                timeout
            };
            let parked_at = std::time::Instant::now();
            match &self.config.on_park {
                Some(hook) => {
                    (hook.before)();
                    self.poll_io(timeout);
                    (hook.after)();
                }
                None => self.poll_io(timeout),
            }
            self.parks.set(self.parks.get() + 1);
            self.parked.set(self.parked.get() + parked_at.elapsed());
            self.shared.remote.unparked();
        }
    }

    /// How long the selector may block: until the next timer, or forever.
    fn park_timeout(&self) -> Option<Duration> {
        let tick = self.drivers.timers.borrow().next_tick()?;
        Some(Duration::from_nanos(
            tick_start_ns(tick).saturating_sub(self.drivers.clock.now_ns()),
        ))
    }

    fn poll_io(&self, timeout: Option<Duration>) {
        if let Err(e) = self.drivers.io.turn(timeout) {
            // epoll_wait fails only on programming errors (EBADF, EINVAL); do not spin on it.
            self.call_exception_handler(
                ExceptionContext::new("The selector's poll failed; retrying in 1 ms").with_error(e),
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[inline(always)]
    fn drain_remote(&self) {
        if !self.shared.remote.has_pending() {
            return; // the common case: one atomic load, no buffer shuffling
        }
        self.drain_remote_items();
    }

    #[inline(never)]
    fn drain_remote_items(&self) {
        let mut buf = self.remote_buf.take();
        self.shared.remote.drain_into(&mut buf);
        for item in buf.drain(..) {
            match item {
                Remote::Task(t) => self.remote_task(t),
                Remote::Call(f, at) => self.push_ready(Runnable::callback(
                    super::ready::Callback::scheduled_at(Box::new(f), at),
                )),
                Remote::Report(context) => self.call_exception_handler(*context),
            }
        }
        self.remote_buf.set(buf);
    }

    /// A remote-queue entry for `t`: merge its debt, and schedule it if it was woken.
    pub(crate) fn remote_task(&self, t: TaskPtr) {
        // SAFETY: the entry's `NOTIFIED` bit pins the task until `drain` below.
        let d = unsafe { t.header() }.state.drain();
        if d.free {
            // SAFETY: the entry was the last hold.
            unsafe { free(t) };
            return;
        }
        if d.wake {
            schedule(t);
        }
        if d.debt > 0 {
            // SAFETY: owner thread; `local` includes the debt, which this merges.
            unsafe { merge_debt(t, d.debt) };
        }
    }

    pub(crate) fn push_ready(&self, r: Runnable) {
        self.shared.push_ready(self.on_loop(), r);
    }

    #[inline(always)]
    fn fire_timers(&self) {
        if self.drivers.timers.borrow().is_empty() {
            return;
        }
        self.fire_due_timers();
    }

    #[inline(never)]
    fn fire_due_timers(&self) {
        let now_tick = self.drivers.clock.now_ns() / TICK_NS;
        let mut fired = self.fired_buf.take();
        self.drivers
            .timers
            .borrow_mut()
            .advance(now_tick, &mut fired);
        for f in fired.drain(..) {
            match f.payload {
                Payload::Waker(Some(w)) => w.wake(),
                Payload::Waker(None) => {}
                Payload::Expiry(e) => e.expire(),
            }
        }
        self.fired_buf.set(fired);
    }

    #[inline(always)]
    fn run_ready(&self) {
        // Exactly the entries queued now run (asyncio's `ntodo`): what they queue goes behind
        // them and waits for the next iteration. They are popped one at a time, in place, so an
        // iteration moves no queue around and a burst needs no second queue's memory.
        let on = self.on_loop();
        let n = self.shared.ready_len(on);
        self.running_ready.set(true);
        self.polls.set(self.polls.get() + n as u64);
        self.polls_since_io
            .set(self.polls_since_io.get().saturating_add(n as u32));
        for _ in 0..n {
            let Some(r) = self.shared.pop_ready(on) else {
                break;
            };
            match r.into_entry() {
                Entry::Task(t) => harness::step(t, self),
                Entry::Callback(cb) => self.run_callback(&cb),
            }
        }
        self.running_ready.set(false);
        self.shared.shrink_ready(on);
    }

    fn run_callback(&self, cb: &super::ready::Callback) {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| cb.run())) {
            // asyncio reports exceptions in callbacks and keeps the loop running.
            self.call_exception_handler(
                ExceptionContext::new("Exception in callback")
                    .with_callback(cb.location())
                    .with_panic(payload),
            );
        }
    }
}
