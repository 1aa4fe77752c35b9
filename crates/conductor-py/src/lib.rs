//! conductor for Python: the engine of an asyncio event loop (`conductor._conductor`).
//!
//! `LoopCore` is the base class of `conductor.Loop` (python/conductor/__init__.py), which
//! inherits the rest of asyncio's `SelectorEventLoop` in Python. What runs here, on conductor's
//! engine (one `conductor::Runtime` per Python loop):
//!
//! - the handles (`handle.rs`): conductor's `Handle` and `TimerHandle`, asyncio's interface
//!   in Rust;
//! - the ready queue (`ready.rs`, asyncio's `_ready`): `call_soon` queues the handle there, and
//!   each iteration runs what was queued when it began, from Rust, with the GIL held;
//! - the timers: `call_at`/`call_later` put the `TimerHandle` on conductor's timer wheel
//!   (`conductor::call_at`), which queues it on the ready queue when due; cancelling it removes
//!   it from the wheel;
//! - one loop iteration (`_run_once`; `run_forever`'s loop of them is `_core_run_forever`):
//!   `Runtime::run_once_blocking`, which waits in conductor's selector with the GIL released
//!   (`Builder::on_park`), then the ready queue's pass;
//! - readiness (`fd.rs`, `_add_reader`/`_add_writer` and their removal): one
//!   `conductor::io::AsyncFd` per descriptor and a conductor task that queues the descriptor
//!   while it stays ready (level-triggered, as asyncio's selectors);
//! - the system calls of `sock_recv`/`sock_sendall` (`sock.rs`), without the GIL round trip
//!   of `socket.recv`/`socket.send`;
//! - the socket transport's hot state and data path (`transport.rs`);
//! - wakes from other threads (`call_soon_threadsafe`): conductor's remote queue
//!   (`conductor::Handle::call_soon_threadsafe`), through `RemoteHandle`, the one part of this
//!   module other threads may touch.
//!
//! Everything else (Future, Task, transports, servers, sock_* methods, executors, signals)
//! is asyncio's Python code running on these primitives.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use conductor::io::AsyncFd;
use conductor::runtime::Runtime;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyDict, PyTuple};

mod fd;
mod handle;
mod ready;
mod sock;
mod transport;

use fd::{Fd, FdEntry, serve_fd};
use handle::{Handle, TimerHandle};
use ready::{Ready, State};

/// The Python functions this module calls (set once by `conductor/__init__.py`).
pub(crate) struct Classes {
    /// The slow-callback logger (debug mode).
    log_slow: Py<PyAny>,
    /// The creation stack of a handle in debug mode (asyncio's `extract_stack`).
    extract_stack: Py<PyAny>,
    /// asyncio's `format_helpers._format_callback_source`.
    format_callback: Py<PyAny>,
    /// asyncio's `Handle.__repr__`, for conductor's handles.
    handle_repr: Py<PyAny>,
    /// asyncio's `_SelectorSocketTransport.write`, the transport's slow path.
    transport_write: Py<PyAny>,
    /// `asyncio.futures` and `asyncio.tasks` (their classes are read at each call: tests
    /// patch them).
    futures: Py<PyAny>,
    tasks: Py<PyAny>,
    /// asyncio's `BaseEventLoop.create_task`, for task factories.
    base_create_task: Py<PyAny>,
}

static CLASSES: GILOnceCell<Classes> = GILOnceCell::new();

pub(crate) fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES
        .get(py)
        .ok_or_else(|| PyRuntimeError::new_err("conductor._conductor used before _setup"))
}

/// Called once by the Python package with the functions this module calls.
#[pyfunction]
fn _setup(
    py: Python<'_>,
    log_slow: Py<PyAny>,
    extract_stack: Py<PyAny>,
    handle_repr: Py<PyAny>,
    transport_write: Py<PyAny>,
) -> PyResult<()> {
    let format_callback = py
        .import("asyncio.format_helpers")?
        .getattr("_format_callback_source")?
        .unbind();
    let _ = CLASSES.set(
        py,
        Classes {
            log_slow,
            extract_stack,
            format_callback,
            handle_repr,
            transport_write,
            futures: py.import("asyncio.futures")?.into_any().unbind(),
            tasks: py.import("asyncio.tasks")?.into_any().unbind(),
            base_create_task: py
                .import("asyncio.base_events")?
                .getattr("BaseEventLoop")?
                .getattr("create_task")?
                .unbind(),
        },
    );
    Ok(())
}

thread_local! {
    /// The thread state `PyEval_SaveThread` returned while this thread's loop waits in the
    /// selector (null otherwise).
    static SAVED: Cell<*mut pyo3::ffi::PyThreadState> = const { Cell::new(std::ptr::null_mut()) };
}

/// Before the selector blocks: release the GIL. Only reached from `LoopCore::_run_once`,
/// which holds the GIL (it is a Python method), on the loop's thread.
fn release_gil() {
    // SAFETY: the park hook runs on the thread that called `_run_once`, a Python method, so
    // this thread holds the GIL and has a thread state; nothing touches Python objects until
    // `reacquire_gil` (the selector's wait is plain Rust), which restores that state.
    let ts = unsafe { pyo3::ffi::PyEval_SaveThread() };
    SAVED.with(|s| s.set(ts));
}

/// After the selector returns: take the GIL back before any callback runs.
fn reacquire_gil() {
    let ts = SAVED.with(|s| s.replace(std::ptr::null_mut()));
    if !ts.is_null() {
        // SAFETY: `ts` is the state `release_gil` saved on this thread, which released the GIL
        // and has not taken it since (the hooks come in pairs around one wait).
        unsafe { pyo3::ffi::PyEval_RestoreThread(ts) };
    }
}

/// What asyncio reads and writes from any thread (`is_closed()`, `get_debug()`, ...).
pub(crate) struct Flags {
    closed: AtomicBool,
    stopping: AtomicBool,
    pub(crate) debug: AtomicBool,
    /// `slow_callback_duration`'s f64 bits.
    pub(crate) slow: AtomicU64,
}

/// A descriptor's reader or writer, if any.
type OptHandle = Option<Py<PyAny>>;

/// A timer on conductor's wheel, kept (in a `ThreadBound`) in conductor's `TimerHandle`: no
/// Python object of its own per timer.
pub(crate) struct CTimer {
    timer: conductor::TimerHandle,
    /// Weak: a timer does not keep a closed loop alive.
    rt: Weak<Runtime>,
}

impl CTimer {
    /// Takes the timer off the wheel (asyncio's `TimerHandle.cancel` through
    /// `loop._timer_handle_cancelled`).
    pub(crate) fn cancel(self) {
        if let Some(rt) = self.rt.upgrade() {
            let _g = rt.enter();
            self.timer.cancel();
        }
    }
}

/// `call_soon_threadsafe`'s way in from other threads: conductor's remote queue.
#[pyclass(frozen, module = "conductor._conductor")]
struct RemoteHandle {
    handle: conductor::Handle,
}

#[pymethods]
impl RemoteHandle {
    /// Queues `h` (an asyncio `Handle`) on the loop from any thread and wakes the loop.
    fn call_soon(&self, h: Py<PyAny>) -> PyResult<()> {
        self.handle
            .call_soon_threadsafe(move || {
                Python::with_gil(|py| {
                    let b = h.bind(py);
                    let r = b
                        .getattr(intern!(py, "_loop"))
                        .and_then(|l| l.call_method1(intern!(py, "_add_callback"), (b,)));
                    if let Err(e) = r {
                        e.write_unraisable(py, Some(b));
                    }
                });
            })
            .map_err(|_| PyRuntimeError::new_err("Event loop is closed"))
    }
}

/// This thread's number, never reused (`std::thread::current().id()` costs a reference count
/// round trip, on every loop method call).
fn thread_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static ID: Cell<u64> = const { Cell::new(0) };
    }
    ID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT.fetch_add(1, Relaxed));
        }
        id.get()
    })
}

/// A value that only the thread that made it may touch: the engine's `!Send` parts (the
/// `Runtime`, `Rc`s, `RefCell`s) inside `LoopCore`, which other threads reach for
/// `is_closed()`, `call_soon_threadsafe`, `get_debug()`. Each access checks the thread; a drop
/// on another thread leaks the value rather than touch it there.
pub(crate) struct ThreadBound<T> {
    owner: u64,
    value: std::mem::ManuallyDrop<T>,
}

// SAFETY: the value is reached only through `get` and `into_inner`, which check that the calling
// thread is the one that made it, and `drop` drops it only on that thread (it leaks it elsewhere), so the
// `!Send`/`!Sync` value is never used, shared or dropped off its thread.
unsafe impl<T> Send for ThreadBound<T> {}
// SAFETY: as above: `&ThreadBound` gives no access to the value but on the owner thread.
unsafe impl<T> Sync for ThreadBound<T> {}

impl<T> ThreadBound<T> {
    pub(crate) fn new(value: T) -> Self {
        ThreadBound {
            owner: thread_id(),
            value: std::mem::ManuallyDrop::new(value),
        }
    }

    fn get(&self) -> PyResult<&T> {
        if thread_id() == self.owner {
            Ok(&self.value)
        } else {
            Err(PyRuntimeError::new_err(
                "a conductor event loop is used from the thread that created it only \
                 (call_soon_threadsafe is the way in from other threads)",
            ))
        }
    }
}

impl<T> ThreadBound<T> {
    /// The value, on the thread that made it; elsewhere `None` (and the value is leaked, as
    /// `drop` does there).
    pub(crate) fn into_inner(self) -> Option<T> {
        let mut me = std::mem::ManuallyDrop::new(self);
        if thread_id() != me.owner {
            return None;
        }
        // SAFETY: on the owner thread; `me` is never dropped (ManuallyDrop), so the value is
        // taken out exactly once and not touched again.
        Some(unsafe { std::mem::ManuallyDrop::take(&mut me.value) })
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if thread_id() == self.owner {
            // SAFETY: dropped once, here, on the owner thread; `value` is not used after.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.value) };
        }
    }
}

/// The loop-thread part of `LoopCore`.
struct Engine {
    rt: RefCell<Option<Rc<Runtime>>>,
    st: Rc<State>,
    /// Inside `_run_once`: the loop is the current one, no need to enter it.
    in_run: Cell<bool>,
    fds: RefCell<HashMap<RawFd, Rc<FdEntry>>>,
    /// Descriptors whose callbacks were all removed this iteration (`fd::FdEntry::is_idle`).
    idle: RefCell<Vec<RawFd>>,
    /// When conductor's iteration (selector, timers, remote queue) last ran.
    last_turn: Cell<Instant>,
}

/// While callbacks are ready, how long the loop may run them without looking at the selector,
/// the timers and the other threads' wakes (rloop's 250 µs): an iteration of a busy loop
/// (`await asyncio.sleep(0)`) costs no system call then, and what comes in waits at most this.
const BUSY_TURN: Duration = Duration::from_micros(250);

/// The engine of one Python event loop; `conductor.Loop` derives from it. The flags that
/// asyncio reads from any thread (`_closed`, `_debug`, `_stopping`) are atomics here.
#[pyclass(subclass, frozen, module = "conductor._conductor")]
struct LoopCore {
    engine: ThreadBound<Engine>,
    /// `Instant` and `time.monotonic()` read together: the loop's `time()` is monotonic's.
    base_instant: Instant,
    base_secs: f64,
    flags: Arc<Flags>,
}

impl LoopCore {
    /// The handle of a `call_soon` or `call_at` (`method`): refused on a closed loop, and in
    /// debug mode checked as asyncio checks it (the loop's thread, a callable callback).
    fn scheduled_handle<'py>(
        slf: &Bound<'py, Self>,
        callback: Bound<'py, PyAny>,
        args: Bound<'py, PyTuple>,
        context: Option<Bound<'py, PyAny>>,
        method: &str,
    ) -> PyResult<Handle> {
        let py = slf.py();
        let this = slf.borrow();
        if this.closed() {
            return Err(PyRuntimeError::new_err("Event loop is closed"));
        }
        let debug = this.flags.debug.load(Relaxed);
        if debug {
            slf.call_method1(intern!(py, "_check_thread"), ())?;
            slf.call_method1(intern!(py, "_check_callback"), (&callback, method))?;
        }
        Handle::make(
            py,
            callback.unbind(),
            args.unbind(),
            slf.clone().into_any().unbind(),
            context.map(Bound::unbind),
            debug,
            true,
        )
    }

    fn engine(&self) -> PyResult<&Engine> {
        self.engine.get()
    }

    fn closed(&self) -> bool {
        self.flags.closed.load(Relaxed)
    }

    fn runtime(&self) -> PyResult<Rc<Runtime>> {
        self.engine()?
            .rt
            .borrow()
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("Event loop is closed"))
    }

    /// Runs `f` with this loop current (entered when not inside `_run_once`).
    fn with_loop<R>(&self, f: impl FnOnce() -> R) -> PyResult<R> {
        if self.engine()?.in_run.get() {
            return Ok(f());
        }
        let rt = self.runtime()?;
        let _g = rt.enter();
        Ok(f())
    }

    fn to_instant(&self, when: f64) -> Instant {
        let d = when - self.base_secs;
        if d.is_nan() || d <= 0.0 {
            return self.base_instant;
        }
        let far = Duration::from_secs(100 * 365 * 86_400);
        let d = Duration::try_from_secs_f64(d).unwrap_or(far).min(far);
        self.base_instant + d
    }

    fn set_callback(&self, fd: RawFd, write: bool, handle: Option<Py<PyAny>>) -> PyResult<bool> {
        let engine = self.engine()?;
        let existing = engine.fds.borrow().get(&fd).cloned();
        if let Some(e) = existing {
            if handle.is_some() && e.is_idle() && !e.same_file() {
                // Closed and its number reused while idle: a new registration.
                engine.fds.borrow_mut().remove(&fd);
                e.release();
            } else {
                return Self::replace_callback(engine, &e, write, handle);
            }
        }
        let Some(handle) = handle else {
            return Ok(false);
        };
        let st = engine.st.clone();
        let entry = self.with_loop(|| -> PyResult<Rc<FdEntry>> {
            let afd = AsyncFd::new(Fd(fd))?;
            let (reader, writer) = if write {
                (None, Some(handle))
            } else {
                (Some(handle), None)
            };
            let entry = Rc::new(FdEntry {
                fd,
                file: fd::file_id(fd),
                afd: RefCell::new(Some(afd)),
                reader: RefCell::new(reader),
                writer: RefCell::new(writer),
                waker: RefCell::new(None),
                queued: Cell::new(false),
            });
            st.turn_needed.set(true);
            conductor::spawn(serve_fd(entry.clone(), st)).detach();
            Ok(entry)
        })??;
        engine.fds.borrow_mut().insert(fd, entry);
        Ok(false)
    }

    /// Sets or clears (`None`) the reader or writer of a registered descriptor; returns whether
    /// there was one (which is cancelled). An entry left idle waits for the iteration's end.
    fn replace_callback(
        engine: &Engine,
        e: &FdEntry,
        write: bool,
        handle: Option<Py<PyAny>>,
    ) -> PyResult<bool> {
        let old = {
            let mut slot = if write {
                e.writer.borrow_mut()
            } else {
                e.reader.borrow_mut()
            };
            std::mem::replace(&mut *slot, handle)
        };
        if e.is_idle() {
            engine.idle.borrow_mut().push(e.fd);
        }
        e.wake();
        engine.st.turn_needed.set(true);
        let had = old.is_some();
        if let Some(old) = old {
            Python::with_gil(|py| old.bind(py).call_method0(intern!(py, "cancel")).map(drop))?;
        }
        Ok(had)
    }
}

impl Engine {
    /// The end of an iteration: descriptors still idle leave the selector.
    fn sweep_idle(&self) {
        let idle = std::mem::take(&mut *self.idle.borrow_mut());
        for fd in idle {
            let e = self.fds.borrow().get(&fd).cloned();
            if let Some(e) = e
                && e.is_idle()
            {
                self.fds.borrow_mut().remove(&fd);
                e.release();
            }
        }
    }
}

#[pymethods]
impl LoopCore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(
        py: Python<'_>,
        _args: &Bound<'_, PyTuple>,
        _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<Self> {
        let rt = Runtime::builder()
            .handle_ctrl_c(false)
            .event_interval(1)
            .on_park(release_gil, reacquire_gil)
            .build()?;
        let base_secs: f64 = py.import("time")?.call_method0("monotonic")?.extract()?;
        let flags = Arc::new(Flags {
            closed: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            debug: AtomicBool::new(false),
            slow: AtomicU64::new(0.1f64.to_bits()),
        });
        Ok(LoopCore {
            engine: ThreadBound::new(Engine {
                rt: RefCell::new(Some(Rc::new(rt))),
                st: Rc::new(State {
                    ready: RefCell::new(VecDeque::new()),
                    flags: flags.clone(),
                    turn_needed: Cell::new(false),
                }),
                in_run: Cell::new(false),
                last_turn: Cell::new(Instant::now()),
                fds: RefCell::new(HashMap::new()),
                idle: RefCell::new(Vec::new()),
            }),
            base_instant: Instant::now(),
            base_secs,
            flags,
        })
    }

    /// asyncio's `loop.get_debug()` (a Python frame per task otherwise: `Task()` asks).
    #[pyo3(name = "get_debug")]
    fn debug_enabled(&self) -> bool {
        self.flags.debug.load(Relaxed)
    }

    /// asyncio's `loop.create_future()`: `asyncio.futures.Future(loop=self)`.
    fn create_future<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let kw = PyDict::new(py);
        kw.set_item(intern!(py, "loop"), slf)?;
        classes(py)?
            .futures
            .bind(py)
            .getattr(intern!(py, "Future"))?
            .call((), Some(&kw))
    }

    /// asyncio's `loop.create_task(coro, *, name=None, context=None)` without a task factory:
    /// `asyncio.tasks.Task(coro, loop=self, name=name, context=context)`. With a factory, or
    /// other keywords (3.13's `eager_start`), asyncio's `BaseEventLoop.create_task`.
    #[pyo3(signature = (coro, **kwargs))]
    fn create_task<'py>(
        slf: &Bound<'py, Self>,
        coro: Bound<'py, PyAny>,
        kwargs: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let c = classes(py)?;
        let kw = kwargs.unwrap_or_else(|| PyDict::new(py));
        let plain = kw.keys().iter().all(|k| {
            k.eq(intern!(py, "name")).unwrap_or(false)
                || k.eq(intern!(py, "context")).unwrap_or(false)
        });
        if !plain || !slf.getattr(intern!(py, "_task_factory"))?.is_none() {
            return c.base_create_task.bind(py).call((slf, coro), Some(&kw));
        }
        if slf.borrow().closed() {
            return Err(PyRuntimeError::new_err("Event loop is closed"));
        }
        kw.set_item(intern!(py, "loop"), slf)?;
        let task = c
            .tasks
            .bind(py)
            .getattr(intern!(py, "Task"))?
            .call((coro,), Some(&kw))?;
        let tb = task.getattr(intern!(py, "_source_traceback"))?;
        if tb.is_truthy()? {
            tb.del_item(-1)?;
        }
        Ok(task)
    }

    /// asyncio's `loop.time()`: `time.monotonic()`'s clock.
    fn time(&self) -> f64 {
        self.base_secs + self.base_instant.elapsed().as_secs_f64()
    }

    #[getter(_closed)]
    fn get_closed(&self) -> bool {
        self.closed()
    }

    #[setter(_closed)]
    fn set_closed(&self, v: bool) {
        self.flags.closed.store(v, Relaxed);
    }

    #[getter(_stopping)]
    fn get_stopping(&self) -> bool {
        self.flags.stopping.load(Relaxed)
    }

    #[setter(_stopping)]
    fn set_stopping(&self, v: bool) {
        self.flags.stopping.store(v, Relaxed);
    }

    #[getter(_debug)]
    fn get_debug(&self) -> bool {
        self.flags.debug.load(Relaxed)
    }

    #[setter(_debug)]
    fn set_debug(&self, v: bool) {
        self.flags.debug.store(v, Relaxed);
    }

    #[getter]
    fn get_slow_callback_duration(&self) -> f64 {
        f64::from_bits(self.flags.slow.load(Relaxed))
    }

    #[setter]
    fn set_slow_callback_duration(&self, v: f64) {
        self.flags.slow.store(v.to_bits(), Relaxed);
    }

    /// asyncio's `loop.call_soon`: asyncio's `Handle`, run from conductor's ready queue.
    #[pyo3(signature = (callback, *args, context=None))]
    fn call_soon<'py>(
        slf: &Bound<'py, Self>,
        callback: Bound<'py, PyAny>,
        args: Bound<'py, PyTuple>,
        context: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let base = Self::scheduled_handle(slf, callback, args, context, "call_soon")?;
        let this = slf.borrow();
        let h = Bound::new(py, base)?;
        this.engine()?.st.push(Ready::Native(h.clone().unbind()));
        Ok(h.into_any())
    }

    /// Queues an existing asyncio `Handle` (asyncio's private `_add_callback`, which signal
    /// delivery and `call_soon_threadsafe` use).
    fn _add_callback(&self, handle: Bound<'_, PyAny>) -> PyResult<()> {
        let cancelled = match handle.downcast::<Handle>() {
            Ok(n) => handle::is_cancelled(n),
            Err(_) => handle
                .getattr(intern!(handle.py(), "_cancelled"))?
                .is_truthy()?,
        };
        if cancelled {
            return Ok(());
        }
        let r = match handle.downcast_into::<Handle>() {
            Ok(n) => Ready::Native(n.unbind()),
            Err(e) => Ready::Foreign(e.into_inner().unbind()),
        };
        self.engine()?.st.push(r);
        Ok(())
    }

    /// asyncio's `loop.call_at`: conductor's `TimerHandle` (asyncio's, with the wheel's key),
    /// on conductor's timer wheel.
    #[pyo3(signature = (when, callback, *args, context=None))]
    fn call_at<'py>(
        slf: &Bound<'py, Self>,
        when: f64,
        callback: Bound<'py, PyAny>,
        args: Bound<'py, PyTuple>,
        context: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let base = Self::scheduled_handle(slf, callback, args, context, "call_at")?;
        let this = slf.borrow();
        let h = Bound::new(py, TimerHandle::initializer(base, when))?;
        let st = this.engine()?.st.clone();
        let hh = h.clone().unbind();
        let at = this.to_instant(when);
        let timer = this.with_loop(|| conductor::call_at(at, move || st.push(Ready::Timer(hh))))?;
        let ct = CTimer {
            timer,
            rt: Rc::downgrade(&this.runtime()?),
        };
        TimerHandle::set_timer(&h, ThreadBound::new(ct));
        Ok(h.into_any())
    }

    /// asyncio's `loop.call_later`.
    #[pyo3(signature = (delay, callback, *args, context=None))]
    fn call_later<'py>(
        slf: &Bound<'py, Self>,
        delay: Option<f64>,
        callback: Bound<'py, PyAny>,
        args: Bound<'py, PyTuple>,
        context: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Some(delay) = delay else {
            return Err(PyTypeError::new_err("delay must not be None"));
        };
        let when = slf.borrow().time() + delay;
        Self::call_at(slf, when, callback, args, context)
    }

    /// One iteration of the loop (asyncio's `_run_once`): conductor's iteration (the selector,
    /// with the GIL released while it waits unless something is ready or the loop is stopping;
    /// the due timers; the descriptors' tasks), which queues what became ready; then the ready
    /// queue's pass, with the loop entered (`add_reader`, `call_at` reach it).
    fn _run_once(&self, py: Python<'_>) -> PyResult<()> {
        let rt = self.runtime()?;
        let engine = self.engine()?;
        let turn_needed = engine.st.turn_needed.replace(false);
        if self.flags.stopping.load(Relaxed) {
            rt.run_once();
            engine.last_turn.set(Instant::now());
        } else if engine.st.is_empty() {
            rt.run_once_blocking();
            engine.last_turn.set(Instant::now());
        } else {
            let now = Instant::now();
            if turn_needed || now.duration_since(engine.last_turn.get()) >= BUSY_TURN {
                rt.run_once();
                engine.last_turn.set(now);
            }
        }
        let _entered = rt.enter();
        engine.in_run.set(true);
        let r = ready::run_ready(py, &engine.st);
        engine.in_run.set(false);
        engine.sweep_idle();
        r
    }

    /// `run_forever`'s iterations (`conductor.Loop.run_forever` does asyncio's set-up around
    /// them): until `stop()`, or a `SystemExit`/`KeyboardInterrupt` (also from a signal, checked
    /// between iterations as Python's own loop would between `_run_once` calls).
    fn _core_run_forever(&self, py: Python<'_>) -> PyResult<()> {
        loop {
            self._run_once(py)?;
            if self.flags.stopping.load(Relaxed) {
                return Ok(());
            }
            py.check_signals()?;
        }
    }

    /// Sets `handle` (an asyncio `Handle`) as the reader of `fd`; returns whether one was
    /// replaced (which is cancelled).
    fn _core_set_reader(&self, fd: RawFd, handle: Py<PyAny>) -> PyResult<bool> {
        self.set_callback(fd, false, Some(handle))
    }

    fn _core_set_writer(&self, fd: RawFd, handle: Py<PyAny>) -> PyResult<bool> {
        self.set_callback(fd, true, Some(handle))
    }

    /// Removes `fd`'s reader; returns whether there was one.
    fn _core_remove_reader(&self, fd: RawFd) -> PyResult<bool> {
        self.set_callback(fd, false, None)
    }

    fn _core_remove_writer(&self, fd: RawFd) -> PyResult<bool> {
        self.set_callback(fd, true, None)
    }

    /// The reader and writer handles of `fd` (for `__repr__`s and tests).
    fn _core_get_key<'py>(&self, py: Python<'py>, fd: RawFd) -> Option<(OptHandle, OptHandle)> {
        let fds = self.engine().ok()?.fds.borrow();
        let e = fds.get(&fd).filter(|e| !e.is_idle())?;
        let r = e.reader.borrow().as_ref().map(|h| h.clone_ref(py));
        let w = e.writer.borrow().as_ref().map(|h| h.clone_ref(py));
        Some((r, w))
    }

    /// The thread-safe handle (`call_soon_threadsafe`).
    fn _core_remote(&self) -> PyResult<RemoteHandle> {
        Ok(RemoteHandle {
            handle: self.runtime()?.handle(),
        })
    }

    /// Releases the engine: the readers' registrations, the timers, the runtime.
    fn _core_close(&self) -> PyResult<()> {
        let engine = self.engine()?;
        let entries: Vec<_> = engine.fds.borrow_mut().drain().map(|(_, e)| e).collect();
        engine.idle.borrow_mut().clear();
        for e in entries {
            e.reader.borrow_mut().take();
            e.writer.borrow_mut().take();
            e.release();
        }
        let rt = engine.rt.borrow_mut().take();
        // What was still queued is dropped unrun, as asyncio's close clears its ready queue.
        drop(rt);
        Ok(())
    }
}

/// The extension module.
#[pymodule]
fn _conductor(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LoopCore>()?;
    m.add_class::<Handle>()?;
    m.add_class::<TimerHandle>()?;
    m.add_class::<RemoteHandle>()?;
    m.add_function(wrap_pyfunction!(_setup, m)?)?;
    m.add_class::<transport::TransportCore>()?;
    m.add_function(wrap_pyfunction!(sock::_sock_recv, m)?)?;
    m.add_function(wrap_pyfunction!(sock::_sock_recv_ready, m)?)?;
    m.add_function(wrap_pyfunction!(sock::_sock_send, m)?)?;
    Ok(())
}
