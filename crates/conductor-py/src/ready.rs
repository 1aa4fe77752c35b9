//! The loop's ready queue (asyncio's `_ready`): what `call_soon` queued, the timers that came
//! due and the descriptors that became ready, run from Rust in one pass per loop iteration,
//! with the GIL held throughout (no closure, allocation or GIL round trip per callback).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use pyo3::intern;
use pyo3::prelude::*;

use crate::fd::{FdEntry, run_fd};
use crate::handle::{self, Handle, TimerHandle};
use crate::{Flags, classes};

/// One entry of the ready queue.
pub(crate) enum Ready {
    /// conductor's `Handle` (`call_soon`).
    Native(Py<Handle>),
    /// asyncio's `Handle` (`call_soon_threadsafe`, signal handlers).
    Foreign(Py<PyAny>),
    /// A timer that came due (its `_scheduled` is cleared when it runs).
    Timer(Py<TimerHandle>),
    /// A descriptor became readable and/or writable: its reader and/or writer run.
    Fd(Rc<FdEntry>, bool, bool),
}

/// What the loop's parts (call_soon, the timers' and descriptors' conductor callbacks) share.
pub(crate) struct State {
    pub(crate) ready: RefCell<VecDeque<Ready>>,
    pub(crate) flags: Arc<Flags>,
    /// A conductor task was spawned or woken (a descriptor's): the next iteration must run
    /// conductor's, even while callbacks are ready (see `BUSY_TURN`).
    pub(crate) turn_needed: Cell<bool>,
}

impl State {
    pub(crate) fn push(&self, r: Ready) {
        self.ready.borrow_mut().push_back(r);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ready.borrow().is_empty()
    }
}

/// Runs exactly the entries queued now (asyncio's `ntodo`): what they queue waits for the next
/// iteration. A `SystemExit`/`KeyboardInterrupt` ends the pass; the rest stays queued, as in
/// asyncio's `_run_once`.
pub(crate) fn run_ready(py: Python<'_>, st: &State) -> PyResult<()> {
    let n = st.ready.borrow().len();
    for _ in 0..n {
        let Some(r) = st.ready.borrow_mut().pop_front() else {
            break;
        };
        match r {
            // `into_bound`: the reference goes with a plain decref (a `Py`'s drop first asks
            // whether the GIL is held).
            Ready::Native(h) => run_native(py, st, &h.into_bound(py))?,
            Ready::Foreign(h) => run_handle(py, st, &h.into_bound(py))?,
            Ready::Timer(t) => {
                let t = t.into_bound(py);
                TimerHandle::set_scheduled(&t, false);
                run_native(py, st, t.as_super())?;
            }
            Ready::Fd(e, read, write) => run_fd(py, st, &e, read, write)?,
        }
    }
    Ok(())
}

/// Runs one of conductor's handles (a cancelled one is skipped); the fast path of
/// `run_handle`.
fn run_native(py: Python<'_>, st: &State, h: &Bound<'_, Handle>) -> PyResult<()> {
    if st.flags.debug.load(Relaxed) {
        return run_handle(py, st, h.as_any());
    }
    if handle::is_cancelled(h) {
        return Ok(());
    }
    handle::run(h)?;
    handle::release(h);
    Ok(())
}

/// Runs a handle (conductor's or asyncio's; a cancelled one is skipped), timing it in debug
/// mode as asyncio's `_run_once` does.
pub(crate) fn run_handle(py: Python<'_>, st: &State, h: &Bound<'_, PyAny>) -> PyResult<()> {
    let native = h.downcast::<Handle>().ok();
    let cancelled = match native {
        Some(n) => handle::is_cancelled(n),
        None => h.getattr(intern!(py, "_cancelled"))?.is_truthy()?,
    };
    if cancelled {
        return Ok(());
    }
    let debug = st.flags.debug.load(Relaxed);
    let t0 = debug.then(Instant::now);
    match native {
        Some(n) => handle::run(n)?,
        None => {
            h.call_method0(intern!(py, "_run"))?;
        }
    }
    if let Some(t0) = t0 {
        let dt = t0.elapsed().as_secs_f64();
        if dt >= f64::from_bits(st.flags.slow.load(Relaxed))
            && let Err(e) = classes(py)?.log_slow.call1(py, (h, dt))
        {
            e.write_unraisable(py, Some(h));
        }
    }
    if let Some(n) = native {
        handle::release(n);
    }
    Ok(())
}
