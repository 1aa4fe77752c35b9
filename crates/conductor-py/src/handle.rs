//! asyncio's `Handle` and `TimerHandle` in Rust (uvloop's way): what `call_soon`/`call_at` return
//! and what the ready queue runs, without a Python frame of asyncio's `Handle.__init__` and
//! `Handle._run` per callback. Same attributes, methods and `_run` semantics as asyncio's
//! (events.py): the callback runs in its `contextvars.Context` (`Context.run`), an exception
//! goes to `loop.call_exception_handler`, `SystemExit`/`KeyboardInterrupt` propagate.
//! The `repr` is asyncio's, through `conductor._handle_repr` (Python).
//!
//! Not tracked by Python's garbage collector (as rloop's): a handle is in a reference cycle only
//! through its callback or arguments (an object holding its own timer handle, whose callback is
//! one of its methods), so the handles of `call_soon`/`call_at` drop both once they ran, as
//! every handle does when cancelled; until then the loop holds them anyway.

use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit, PyTypeError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyDict, PyTuple};
use pyo3::{ffi, intern};

use crate::{CTimer, ThreadBound, classes};

/// asyncio's `Handle`: a callback, its arguments and context, for the loop to run once.
#[pyclass(subclass, weakref, module = "conductor._conductor")]
pub(crate) struct Handle {
    callback: Option<Py<PyAny>>,
    args: Option<Py<PyTuple>>,
    context: Py<PyAny>,
    loop_: Py<PyAny>,
    cancelled: bool,
    /// Runs once (`call_soon`, `call_at`): drops its callback after running. A reader's or
    /// writer's handle runs again and again.
    oneshot: bool,
    repr: Option<Py<PyAny>>,
    source_traceback: Option<Py<PyAny>>,
}

impl Handle {
    /// A handle as asyncio's `Handle(callback, args, loop, context)` makes it; `debug` is the
    /// loop's debug flag (the creation stack is kept then).
    pub(crate) fn make(
        py: Python<'_>,
        callback: Py<PyAny>,
        args: Py<PyTuple>,
        loop_: Py<PyAny>,
        context: Option<Py<PyAny>>,
        debug: bool,
        oneshot: bool,
    ) -> PyResult<Self> {
        let context = match context {
            Some(ctx) if !ctx.is_none(py) => ctx,
            _ => copy_context(py)?,
        };
        let source_traceback = if debug {
            Some(classes(py)?.extract_stack.call0(py)?)
        } else {
            None
        };
        Ok(Handle {
            callback: Some(callback),
            args: Some(args),
            context,
            loop_,
            cancelled: false,
            oneshot,
            repr: None,
            source_traceback,
        })
    }

    /// Marks it cancelled and drops the callback and its arguments (asyncio's `cancel`).
    fn do_cancel(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        if slf.borrow().cancelled {
            return Ok(());
        }
        slf.borrow_mut().cancelled = true;
        let debug = slf
            .borrow()
            .loop_
            .bind(py)
            .call_method0(intern!(py, "get_debug"))?
            .is_truthy()?;
        if debug {
            let r = slf.repr()?.into_any().unbind();
            slf.borrow_mut().repr = Some(r);
        }
        let mut h = slf.borrow_mut();
        let cb = h.callback.take();
        let args = h.args.take();
        drop(h);
        // Dropped after the borrow: their destructors may run Python code.
        drop((cb, args));
        Ok(())
    }
}

/// `contextvars.copy_context()`.
fn copy_context(py: Python<'_>) -> PyResult<Py<PyAny>> {
    // SAFETY: the GIL is held (`py`); PyContext_CopyCurrent returns a new reference, or null
    // with an exception set; `from_owned_ptr_or_err` takes either.
    unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyContext_CopyCurrent()) }.map(Bound::unbind)
}

/// After a one-shot handle ran: drops its callback and arguments (no cycle through them).
pub(crate) fn release(h: &Bound<'_, Handle>) {
    let py = h.py();
    let mut b = h.borrow_mut();
    if !b.oneshot {
        return;
    }
    // As `Bound`s, dropped after the borrow: a plain decref (a `Py`'s drop first asks whether
    // the GIL is held), and their destructors may run Python code that reads the handle.
    let cb = b.callback.take().map(|c| c.into_bound(py));
    let args = b.args.take().map(|a| a.into_bound(py));
    drop(b);
    drop((cb, args));
}

/// Whether the handle is cancelled (asyncio's `_cancelled`, read by the ready queue).
pub(crate) fn is_cancelled(h: &Bound<'_, Handle>) -> bool {
    h.borrow().cancelled
}

/// Runs the callback as asyncio's `Handle._run`: `Err` only for `SystemExit` and
/// `KeyboardInterrupt` (and a failing exception handler), which stop the loop iteration.
pub(crate) fn run(h: &Bound<'_, Handle>) -> PyResult<()> {
    let py = h.py();
    let (cb, args, ctx) = {
        let b = h.borrow();
        if b.cancelled {
            return Ok(());
        }
        let (Some(cb), Some(args)) = (b.callback.as_ref(), b.args.as_ref()) else {
            return Ok(());
        };
        (
            cb.bind(py).clone(),
            args.bind(py).clone(),
            b.context.bind(py).clone(),
        )
    };
    let Err(e) = run_in_context(&ctx, &cb, &args) else {
        return Ok(());
    };
    if e.is_instance_of::<PySystemExit>(py) || e.is_instance_of::<PyKeyboardInterrupt>(py) {
        return Err(e);
    }
    report(h, &cb, &args, e)
}

/// `ctx.run(cb, *args)` (CPython's `context_run`), without building its argument tuple.
fn run_in_context(
    ctx: &Bound<'_, PyAny>,
    cb: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
) -> PyResult<()> {
    let py = ctx.py();
    // SAFETY: the GIL is held and the pointers are live references. PyContext_Enter requires a
    // `contextvars.Context` (which cannot be subclassed), checked first. Enter and Exit pair on
    // this thread around the call, as in CPython's `context_run`; a failure of either leaves
    // its exception set, which `fetch` / `from_owned_ptr_or_err` take.
    unsafe {
        if ffi::PyContext_CheckExact(ctx.as_ptr()) == 0 {
            return Err(PyTypeError::new_err(
                "a handle's context must be a contextvars.Context",
            ));
        }
        if ffi::PyContext_Enter(ctx.as_ptr()) < 0 {
            return Err(PyErr::fetch(py));
        }
        let mut res = ffi::PyObject_Call(cb.as_ptr(), args.as_ptr(), std::ptr::null_mut());
        if ffi::PyContext_Exit(ctx.as_ptr()) < 0 && !res.is_null() {
            ffi::Py_DECREF(res);
            res = std::ptr::null_mut();
        }
        Bound::from_owned_ptr_or_err(py, res).map(drop)
    }
}

/// A callback's exception to `loop.call_exception_handler` (asyncio's `_run`'s `except`).
fn report(
    h: &Bound<'_, Handle>,
    cb: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
    e: PyErr,
) -> PyResult<()> {
    let py = h.py();
    let c = classes(py)?;
    let src = c.format_callback.call1(py, (cb, args))?;
    let ctx = PyDict::new(py);
    ctx.set_item("message", format!("Exception in callback {src}"))?;
    ctx.set_item("exception", e.value(py))?;
    ctx.set_item("handle", h)?;
    let (loop_, tb) = {
        let b = h.borrow();
        (
            b.loop_.clone_ref(py),
            b.source_traceback.as_ref().map(|t| t.clone_ref(py)),
        )
    };
    if let Some(tb) = tb
        && tb.bind(py).is_truthy()?
    {
        ctx.set_item("source_traceback", tb)?;
    }
    loop_
        .bind(py)
        .call_method1(intern!(py, "call_exception_handler"), (ctx,))?;
    Ok(())
}

#[pymethods]
impl Handle {
    #[new]
    #[pyo3(signature = (callback, args, r#loop, context=None))]
    fn new(
        py: Python<'_>,
        callback: Py<PyAny>,
        args: Py<PyTuple>,
        r#loop: Py<PyAny>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let debug = r#loop
            .bind(py)
            .call_method0(intern!(py, "get_debug"))?
            .is_truthy()?;
        Handle::make(py, callback, args, r#loop, context, debug, false)
    }

    fn cancel(slf: &Bound<'_, Self>) -> PyResult<()> {
        Handle::do_cancel(slf)
    }

    fn cancelled(&self) -> bool {
        self.cancelled
    }

    fn get_context(&self, py: Python<'_>) -> Py<PyAny> {
        self.context.clone_ref(py)
    }

    fn _run(slf: &Bound<'_, Self>) -> PyResult<()> {
        run(slf)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        if let Some(r) = slf.borrow().repr.as_ref() {
            return Ok(r.clone_ref(py));
        }
        classes(py)?.handle_repr.call1(py, (slf,))
    }

    #[getter]
    fn _callback(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.callback.as_ref().map(|c| c.clone_ref(py))
    }

    #[getter]
    fn _args(&self, py: Python<'_>) -> Option<Py<PyTuple>> {
        self.args.as_ref().map(|a| a.clone_ref(py))
    }

    #[getter]
    fn _context(&self, py: Python<'_>) -> Py<PyAny> {
        self.context.clone_ref(py)
    }

    #[getter]
    fn _loop(&self, py: Python<'_>) -> Py<PyAny> {
        self.loop_.clone_ref(py)
    }

    #[getter]
    fn _cancelled(&self) -> bool {
        self.cancelled
    }

    #[getter]
    fn _source_traceback(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.source_traceback.as_ref().map(|t| t.clone_ref(py))
    }

    #[setter(_source_traceback)]
    fn set_source_traceback(&mut self, tb: Option<Py<PyAny>>) {
        self.source_traceback = tb;
    }

    #[getter]
    fn _repr(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.repr.as_ref().map(|r| r.clone_ref(py))
    }

    #[setter(_repr)]
    fn set_repr(&mut self, r: Option<Py<PyAny>>) {
        self.repr = r;
    }
}

/// asyncio's `TimerHandle`: a `Handle` with its time, ordered by it, on conductor's wheel.
#[pyclass(extends = Handle, module = "conductor._conductor")]
pub(crate) struct TimerHandle {
    when: f64,
    scheduled: bool,
    /// The timer on conductor's wheel (set by `call_at` once scheduled).
    ctimer: Option<ThreadBound<CTimer>>,
}

impl TimerHandle {
    pub(crate) fn initializer(base: Handle, when: f64) -> PyClassInitializer<TimerHandle> {
        PyClassInitializer::from(base).add_subclass(TimerHandle {
            when,
            scheduled: false,
            ctimer: None,
        })
    }

    pub(crate) fn set_scheduled(slf: &Bound<'_, Self>, v: bool) {
        slf.borrow_mut().scheduled = v;
    }

    /// Scheduled on conductor's wheel as `timer`.
    pub(crate) fn set_timer(slf: &Bound<'_, Self>, timer: ThreadBound<CTimer>) {
        let mut b = slf.borrow_mut();
        b.scheduled = true;
        b.ctimer = Some(timer);
    }

    /// Takes the timer off conductor's wheel.
    fn unschedule(slf: &Bound<'_, Self>) {
        let ct = slf.borrow_mut().ctimer.take();
        if let Some(ct) = ct.and_then(ThreadBound::into_inner) {
            ct.cancel();
        }
    }
}

#[pymethods]
impl TimerHandle {
    #[new]
    #[pyo3(signature = (when, callback, args, r#loop, context=None))]
    fn new(
        py: Python<'_>,
        when: f64,
        callback: Py<PyAny>,
        args: Py<PyTuple>,
        r#loop: Py<PyAny>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let base = Handle::new(py, callback, args, r#loop, context)?;
        Ok(TimerHandle::initializer(base, when))
    }

    fn when(&self) -> f64 {
        self.when
    }

    fn cancel(slf: &Bound<'_, Self>) -> PyResult<()> {
        if !is_cancelled(slf.as_super()) {
            TimerHandle::unschedule(slf);
        }
        Handle::do_cancel(slf.as_super())
    }

    #[getter]
    fn _when(&self) -> f64 {
        self.when
    }

    #[getter]
    fn _scheduled(&self) -> bool {
        self.scheduled
    }

    #[setter(_scheduled)]
    fn set_scheduled_attr(&mut self, v: bool) {
        self.scheduled = v;
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        // asyncio's `hash(self._when)`.
        self.when.into_pyobject(py)?.hash()
    }

    fn __richcmp__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let Ok(other) = other.downcast::<TimerHandle>() else {
            return Ok(py.NotImplemented());
        };
        let (a, b) = (slf.borrow().when, other.borrow().when);
        let eq = || -> PyResult<bool> {
            if a != b {
                return Ok(false);
            }
            let (x, y) = (slf.as_super().borrow(), other.as_super().borrow());
            let same = |p: Option<&Py<PyAny>>, q: Option<&Py<PyAny>>| -> PyResult<bool> {
                match (p, q) {
                    (None, None) => Ok(true),
                    (Some(p), Some(q)) => p.bind(py).eq(q.bind(py)),
                    _ => Ok(false),
                }
            };
            let xa = x.args.as_ref().map(|t| t.clone_ref(py).into_any());
            let ya = y.args.as_ref().map(|t| t.clone_ref(py).into_any());
            Ok(same(x.callback.as_ref(), y.callback.as_ref())?
                && same(xa.as_ref(), ya.as_ref())?
                && x.cancelled == y.cancelled)
        };
        let r = match op {
            CompareOp::Lt => a < b,
            CompareOp::Gt => a > b,
            CompareOp::Le => a < b || eq()?,
            CompareOp::Ge => a > b || eq()?,
            CompareOp::Eq => eq()?,
            CompareOp::Ne => !eq()?,
        };
        Ok(r.into_pyobject(py)?.to_owned().into_any().unbind())
    }
}
