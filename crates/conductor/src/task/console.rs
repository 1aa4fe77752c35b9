//! Tasks as tokio-console sees them (feature `tracing`): each task's `runtime.spawn` span,
//! entered while it is polled, closed when its future is gone, and the events of its wakers.
//!
//! The span lives in the task's `Extra` (owner thread); its id also sits in the header's
//! atomic `span_id`, written at spawn before any waker exists and cleared at completion, so
//! that a waker on any thread can name its task without touching owner-only state.

use std::panic::Location;
use std::sync::atomic::Ordering::Relaxed;

use super::TaskRef;
use super::header::{Header, TaskPtr};
use crate::console::{self, WakerOp};

/// Opens the span of a task just registered and named, spawned at `at`.
pub(crate) fn spawned(task: &TaskRef, at: &'static Location<'static>) {
    let span = console::task_span(task.id(), || task.name(), at);
    let id = console::span_id(&span);
    if id != 0 {
        let h = task.local().header();
        h.span_id.store(id, Relaxed);
        *h.extra().span.borrow_mut() = Some(span);
    }
}

fn with_span(h: &Header, f: impl FnOnce(&tracing::Span)) {
    if h.span_id.load(Relaxed) != 0
        && let Some(extra) = h.extra_if_any()
        && let Some(span) = &*extra.span.borrow()
    {
        f(span);
    }
}

/// A poll of the task begins (console counts polls and busy time by enter and exit).
pub(crate) fn enter(h: &Header) {
    with_span(h, console::enter);
}

/// The poll is over.
pub(crate) fn exit(h: &Header) {
    with_span(h, console::exit);
}

/// The future is gone: the span closes (console shows the task completed).
pub(crate) fn completed(h: &Header) {
    if h.span_id.swap(0, Relaxed) != 0
        && let Some(extra) = h.extra_if_any()
    {
        let span = extra.span.borrow_mut().take();
        drop(span);
    }
}

/// A waker of `t` did `op`. The caller holds a reference to `t`.
#[inline]
pub(crate) fn waker(t: TaskPtr, op: WakerOp) {
    // SAFETY: the caller holds a reference; `span_id` is atomic, so any thread may read it.
    let id = unsafe { t.header() }.span_id.load(Relaxed);
    console::waker(id, op);
}
