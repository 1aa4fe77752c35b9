//! The spans and events tokio-console reads (feature `tracing`).
//!
//! console-subscriber knows a runtime only through `tracing`: it matches spans by name (and
//! target), events by target, and reads fixed field names. So these shapes are tokio's, field
//! for field (console-subscriber's `visitors.rs` lists them): a task is a `runtime.spawn` span of
//! target `tokio::task`, entered for each poll; a waker operation is an event of target
//! `tokio::task::waker` naming the task's span id; a timer is a `runtime.resource` span with an
//! `runtime.resource.async_op` span inside, entered while polled, and `poll_op` and
//! `state_update` events. console-subscriber's filter keeps spans named `runtime.*` or of a
//! `tokio*` target, and events of a `runtime*` or `tokio*` target.
//!
//! A leaf: it imports nothing of the crate. Compiled only with the feature, so without it no
//! call site exists. With it, each hook first asks [`on`] (one relaxed load of tracing's
//! current level), so that with no subscriber (or none at TRACE) nothing is built: not even
//! for tracing's `log` fallback, which would format every field.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::panic::Location;
use std::task::Poll;

use tracing::Span;

/// Whether some subscriber wants TRACE spans and events at all.
#[inline]
pub(crate) fn on() -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    STATIC_MAX_LEVEL >= LevelFilter::TRACE && LevelFilter::current() >= LevelFilter::TRACE
}

/// The span of a task spawned at `at` (tokio's `runtime.spawn`). No parent: a task outlives the
/// span that spawned it, and console finds tasks among the spans without one. `name` runs only
/// when a subscriber wants the span (a default name is formatted).
pub(crate) fn task_span(
    id: u64,
    name: impl FnOnce() -> Cow<'static, str>,
    at: &Location<'_>,
) -> Span {
    if !on() {
        return Span::none();
    }
    tracing::trace_span!(
        target: "tokio::task",
        parent: None,
        "runtime.spawn",
        kind = "local",
        task.name = &*name(),
        task.id = id,
        loc.file = at.file(),
        loc.line = at.line(),
        loc.col = at.column(),
    )
}

/// The id the waker events name a span by (0: no span, nothing is emitted).
pub(crate) fn span_id(span: &Span) -> u64 {
    span.id().map_or(0, |id| id.into_u64())
}

/// Enters `span` without a guard: a task's poll enters its span and exits it after.
pub(crate) fn enter(span: &Span) {
    span.with_subscriber(|(id, d)| d.enter(id));
}

/// Undoes [`enter`].
pub(crate) fn exit(span: &Span) {
    span.with_subscriber(|(id, d)| d.exit(id));
}

/// What a waker did, as console names it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WakerOp {
    Clone,
    /// `wake`: the waker is consumed.
    Wake,
    WakeByRef,
    Drop,
}

/// Reports a waker operation on the task whose span id is `task` (from any thread).
#[inline]
pub(crate) fn waker(task: u64, op: WakerOp) {
    if task == 0 || !on() {
        return;
    }
    match op {
        WakerOp::Clone => {
            tracing::trace!(target: "tokio::task::waker", op = "waker.clone", task.id = task)
        }
        WakerOp::Wake => {
            tracing::trace!(target: "tokio::task::waker", op = "waker.wake", task.id = task)
        }
        WakerOp::WakeByRef => {
            tracing::trace!(target: "tokio::task::waker", op = "waker.wake_by_ref", task.id = task)
        }
        WakerOp::Drop => {
            tracing::trace!(target: "tokio::task::waker", op = "waker.drop", task.id = task)
        }
    }
}

/// A resource as console shows it (tokio's `runtime.resource` span), with the one async
/// operation on it that conductor's futures have (their own poll): console links the operation
/// to the task that polls it.
#[derive(Debug)]
pub(crate) struct Resource {
    resource: Span,
    async_op: Span,
}

impl Resource {
    /// A resource of `kind` (`"timer"` is the one console knows by name; `"Sync"`, `"Io"`),
    /// created at `at`; `source` names the operation (`"Sleep::new_timeout"`).
    pub(crate) fn new(
        concrete_type: &'static str,
        kind: &'static str,
        at: &Location<'_>,
        source: &'static str,
    ) -> Resource {
        let resource = tracing::trace_span!(
            target: "runtime::resource",
            parent: None,
            "runtime.resource",
            concrete_type,
            kind,
            loc.file = at.file(),
            loc.line = at.line(),
            loc.col = at.column(),
        );
        let async_op = resource.in_scope(|| {
            tracing::trace_span!(
                target: "runtime::resource",
                "runtime.resource.async_op",
                source,
                inherits_child_attrs = false,
            )
        });
        Resource { resource, async_op }
    }

    /// A timer resource, with its duration as console's `duration` attribute; `None` when no
    /// subscriber wants it.
    pub(crate) fn timer(at: &Location<'_>, duration_ms: Option<u64>) -> Option<Resource> {
        if !on() {
            return None;
        }
        let r = Resource::new("Sleep", "timer", at, "Sleep::new_timeout");
        if let Some(ms) = duration_ms {
            r.resource.in_scope(|| {
                tracing::trace!(
                    target: "runtime::resource::state_update",
                    duration = ms,
                    duration.unit = "ms",
                    duration.op = "override",
                )
            });
        }
        Some(r)
    }

    /// Runs one poll of the resource's operation `op` inside its spans, and reports whether it
    /// was ready.
    pub(crate) fn poll<R>(&self, op: &'static str, f: impl FnOnce() -> Poll<R>) -> Poll<R> {
        let _resource = self.resource.enter();
        let _op = self.async_op.enter();
        let r = f();
        tracing::trace!(
            target: "runtime::resource::poll_op",
            op_name = op,
            is_ready = r.is_ready(),
        );
        r
    }
}
