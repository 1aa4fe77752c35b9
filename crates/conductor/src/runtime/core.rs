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
//! while work is queued, and not at all when no IO source is registered: a busy loop spends no
//! system call per iteration.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::builder::Config;
use super::exception::{self, ExceptionContext, Handler};
use super::ready::{Entry, Runnable};
use super::remote::{Remote, Unpark};
use super::shared::Shared;
use crate::blocking::Pool;
use crate::cancel::Frame;
use crate::io::driver::Driver;
use crate::task::harness;
use crate::task::raw::{free, merge_debt};
use crate::task::{TaskPtr, schedule};
use crate::time::clock::Clock;
use crate::time::wheel::{Fired, Payload, TICK_NS, Wheel, tick_start_ns};

/// Task polls between two non-blocking looks at the selector while work is queued.
const EVENT_INTERVAL: u32 = 61;
/// Runtime operations a task may do in one poll before it must yield (tokio uses the same).
pub(crate) const BUDGET: u32 = 128;

struct MioUnpark(mio::Waker);

impl Unpark for MioUnpark {
    fn unpark(&self) {
        // A failed eventfd write leaves the loop to its timeout; nothing better can be done.
        let _ = self.0.wake();
    }
}

/// Counters of what the loop did, for `Runtime::stats` and the task dump.
#[derive(Debug, Default, Clone, Copy)]
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
    /// Tasks not done yet.
    pub tasks: usize,
}

/// A task's per-poll state, set aside while another task is stepped inside its poll.
pub(crate) struct SuspendedPoll {
    frames: Vec<Frame>,
    budget: u32,
}

pub(crate) struct Core {
    pub(crate) id: u64,
    pub(crate) shared: Arc<Shared>,
    pub(crate) clock: Clock,
    pub(crate) timers: RefCell<Wheel>,
    pub(crate) io: Driver,
    pub(crate) blocking: Pool,
    pub(crate) config: Config,
    /// The exception handler; `None` means the default one.
    pub(crate) exception_handler: RefCell<Option<Handler>>,
    current: Cell<Option<TaskPtr>>,
    /// The cancellation scopes being polled in the running task, innermost last.
    pub(crate) frames: RefCell<Vec<Frame>>,
    budget: Cell<u32>,
    scope_gen: Cell<u64>,
    polls_since_io: Cell<u32>,
    /// The ready queue is being run: user code may be running (asyncio's `loop.is_running()`
    /// as far as eager tasks are concerned).
    running_ready: Cell<bool>,
    iterations: Cell<u64>,
    polls: Cell<u64>,
    batch: Cell<VecDeque<Runnable>>,
    remote_buf: Cell<Vec<Remote>>,
    fired_buf: Cell<Vec<Fired>>,
}

/// Under a paused clock, the pool's last work in flight finishing wakes the loop (a no-op call
/// through the remote queue), so that a loop parked while the work was still counted re-checks
/// whether it can jump to its next timer. Weak: the pool's threads must not keep the loop's
/// state alive.
fn pool_idle_wakes(shared: &Arc<Shared>) -> crate::blocking::OnIdle {
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
        let timers = RefCell::new(Wheel::new(clock.now_ns() / TICK_NS));
        Ok(Core {
            id: shared.id,
            clock,
            timers,
            io,
            blocking: Pool::new(
                "conductor-blocking",
                config.max_blocking_threads,
                config.blocking_keep_alive,
                config.paused.then(|| pool_idle_wakes(&shared)),
            ),
            current: Cell::new(None),
            frames: RefCell::new(Vec::new()),
            budget: Cell::new(BUDGET),
            scope_gen: Cell::new(shared.id << 40),
            polls_since_io: Cell::new(0),
            running_ready: Cell::new(false),
            iterations: Cell::new(0),
            polls: Cell::new(0),
            batch: Cell::new(VecDeque::new()),
            remote_buf: Cell::new(Vec::new()),
            fired_buf: Cell::new(Vec::new()),
            exception_handler: RefCell::new(
                config.exception_handler.clone().map(|h| h.into_handler()),
            ),
            config,
            shared,
        })
    }

    pub(crate) fn current_task(&self) -> Option<TaskPtr> {
        self.current.get()
    }

    pub(crate) fn enter_task(&self, task: TaskPtr) -> Option<TaskPtr> {
        self.current.replace(Some(task))
    }

    pub(crate) fn leave_task(&self, prev: Option<TaskPtr>) {
        self.current.set(prev);
    }

    pub(crate) fn next_scope_gen(&self) -> u64 {
        let g = self.scope_gen.get() + 1;
        self.scope_gen.set(g);
        g
    }

    pub(crate) fn reset_budget(&self) {
        self.budget.set(BUDGET);
    }

    /// Whether a spawn now may start its task eagerly: the loop is running its ready queue.
    pub(crate) fn may_start_eagerly(&self) -> bool {
        self.running_ready.get()
    }

    /// Sets aside the running task's per-poll state (scope frames, budget) so that another task
    /// can be stepped inside its poll (an eager start); `resume_poll` puts it back.
    pub(crate) fn suspend_poll(&self) -> SuspendedPoll {
        SuspendedPoll {
            frames: std::mem::take(&mut *self.frames.borrow_mut()),
            budget: self.budget.get(),
        }
    }

    pub(crate) fn resume_poll(&self, saved: SuspendedPoll) {
        *self.frames.borrow_mut() = saved.frames;
        self.budget.set(saved.budget);
    }

    /// Spends one unit of the running task's budget; when none is left, asks for a yield.
    #[inline]
    pub(crate) fn poll_budget(&self, cx: &mut Context<'_>) -> Poll<()> {
        let b = self.budget.get();
        if b == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.budget.set(b - 1);
        Poll::Ready(())
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

    pub(crate) fn report_slow_poll(&self, task: TaskPtr, took: Duration) {
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
        match &self.config.on_slow_step {
            Some(hook) => (hook.0)(&step),
            None => eprintln!(
                "conductor: {step} (slow_callback_duration is {:?})",
                self.config.slow_callback
            ),
        }
    }

    fn ready_len(&self) -> usize {
        // SAFETY: the loop's own thread.
        unsafe { self.shared.with_local(|l| l.ready.len()) }
    }

    pub(crate) fn stats(&self) -> LoopStats {
        // SAFETY: the loop's own thread.
        let tasks = unsafe {
            self.shared.with_local(|l| {
                l.registry
                    .tasks()
                    .filter_map(|s| s.task)
                    // SAFETY: registered tasks are alive.
                    .filter(|t| !t.header_has_complete())
                    .count()
            })
        };
        LoopStats {
            iterations: self.iterations.get(),
            polls: self.polls.get(),
            ready: self.ready_len(),
            timers: self.timers.borrow().len(),
            io_sources: self.io.len(),
            tasks,
        }
    }

    /// One iteration. With `may_block`, waits in the selector when nothing is ready.
    pub(crate) fn run_once(&self, may_block: bool) {
        self.iterations.set(self.iterations.get() + 1);
        self.select(may_block);
        self.drain_remote();
        self.fire_timers();
        self.run_ready();
    }

    fn select(&self, may_block: bool) {
        let ready_empty = self.ready_len() == 0;
        let idle = ready_empty && !self.shared.remote.has_pending();
        if idle && may_block {
            // SAFETY: the loop's own thread; trimming runs no user code.
            unsafe { self.shared.with_local(|l| l.blocks.trim_idle()) };
            let timeout = self.park_timeout();
            if self.clock.is_paused() && timeout.is_some() && self.blocking.in_flight() == 0 {
                // Nothing can happen before the next timer but IO: jump to the timer.
                if let Some(tick) = self.timers.borrow().next_tick() {
                    self.clock.advance_to(tick_start_ns(tick));
                }
                self.poll_io(Some(Duration::ZERO));
            } else if self.shared.remote.park() {
                let timeout = if self.clock.is_paused() {
                    None
                } else {
                    timeout
                };
                self.poll_io(timeout);
                self.shared.remote.unparked();
            }
            self.polls_since_io.set(0);
        } else if self.io.len() > 0 && (ready_empty || self.polls_since_io.get() >= EVENT_INTERVAL)
        {
            self.poll_io(Some(Duration::ZERO));
            self.polls_since_io.set(0);
        }
    }

    /// How long the selector may block: until the next timer, or forever.
    fn park_timeout(&self) -> Option<Duration> {
        let tick = self.timers.borrow().next_tick()?;
        Some(Duration::from_nanos(
            tick_start_ns(tick).saturating_sub(self.clock.now_ns()),
        ))
    }

    fn poll_io(&self, timeout: Option<Duration>) {
        if let Err(e) = self.io.turn(timeout) {
            // epoll_wait fails only on programming errors (EBADF, EINVAL); do not spin on it.
            self.call_exception_handler(
                ExceptionContext::new("The selector's poll failed; retrying in 1 ms").with_error(e),
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn drain_remote(&self) {
        if !self.shared.remote.has_pending() {
            return; // the common case: one atomic load, no buffer shuffling
        }
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
        // SAFETY: the loop's own thread; pushing runs no user code.
        unsafe { self.shared.with_local(|l| l.ready.push(r)) };
    }

    fn fire_timers(&self) {
        if self.timers.borrow().is_empty() {
            return;
        }
        let now_tick = self.clock.now_ns() / TICK_NS;
        let mut fired = self.fired_buf.take();
        self.timers.borrow_mut().advance(now_tick, &mut fired);
        for f in fired.drain(..) {
            match f.payload {
                Payload::Waker(Some(w)) => w.wake(),
                Payload::Waker(None) => {}
                Payload::Callback(cb) => self.push_ready(Runnable::callback(cb)),
            }
        }
        self.fired_buf.set(fired);
    }

    fn run_ready(&self) {
        let mut batch = self.batch.take();
        // SAFETY: the loop's own thread; swapping runs no user code.
        unsafe { self.shared.with_local(|l| l.ready.swap(&mut batch)) };
        self.running_ready.set(true);
        let n = batch.len() as u32;
        self.polls.set(self.polls.get() + u64::from(n));
        self.polls_since_io
            .set(self.polls_since_io.get().saturating_add(n));
        while let Some(r) = batch.pop_front() {
            match r.into_entry() {
                Entry::Task(t) => harness::step(t, self),
                Entry::Callback(cb) => self.run_callback(&cb),
            }
        }
        self.running_ready.set(false);
        self.batch.set(batch);
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

impl TaskPtr {
    /// Whether the task is done (for counting; owner thread).
    fn header_has_complete(self) -> bool {
        // SAFETY: callers pass registered, hence live, tasks on the owner thread.
        unsafe { self.header() }.has(crate::task::header::flags::COMPLETE)
    }
}
