//! The spans and events tokio-console reads (feature `tracing`).
//!
//! console-subscriber knows a runtime only through `tracing`: it matches spans by name (and
//! target), events by target, and reads fixed field names. So these shapes are tokio's, field
//! for field (console-subscriber's `visitors.rs` lists them): a task is a `runtime.spawn` span of
//! target `tokio::task`, entered for each poll; a waker operation is an event of target
//! `tokio::task::waker` naming the task's span id; a resource (a timer, a sync primitive, a
//! stream socket) is a `runtime.resource` span, its state reported by `state_update` events made
//! inside it, with a `runtime.resource.async_op` span per operation, made inside the resource
//! and entered with it while polled, each poll reported by a `poll_op` event (console links the
//! op to the task whose span is entered around it). console-subscriber's filter keeps spans
//! named `runtime.*` or of a `tokio*` target, and events of a `runtime*` or `tokio*` target.
//!
//! A leaf: it imports nothing of the crate. Compiled only with the feature, so without it no
//! call site exists. With it, each hook first asks [`on`] (one relaxed load of tracing's
//! current level), so that with no subscriber (or none at TRACE) nothing is built: not even
//! for tracing's `log` fallback, which would format every field.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::panic::Location;
use std::sync::OnceLock;
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

/// A resource as console shows it (tokio's `runtime.resource` span): a timer, a sync
/// primitive, a socket. Its state shows as attributes, reported by [`state_update!`] events.
#[derive(Debug)]
pub(crate) struct Resource(Span);

impl Resource {
    /// A resource of `concrete_type` and `kind` (`"timer"` is the one kind console knows by
    /// name; tokio's primitives say `"Sync"`), created at `at`. The caller checks [`on`].
    pub(crate) fn new(concrete_type: &str, kind: &str, at: &Location<'_>) -> Resource {
        Resource::made(concrete_type, kind, at, false)
    }

    /// [`new`](Self::new), `is_internal` for a resource a user never made (console hides
    /// those unless asked).
    fn made(concrete_type: &str, kind: &str, at: &Location<'_>, is_internal: bool) -> Resource {
        Resource(tracing::trace_span!(
            target: "runtime::resource",
            parent: None,
            "runtime.resource",
            concrete_type,
            kind,
            is_internal,
            loc.file = at.file(),
            loc.line = at.line(),
            loc.col = at.column(),
        ))
    }

    /// Runs `f` inside the resource's span: where its state updates and async ops are made.
    pub(crate) fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        self.0.in_scope(f)
    }

    /// [`async_op`](Self::async_op), boxed: a future that may hold one stays a word larger
    /// only, and moves as cheaply without a subscriber.
    pub(crate) fn boxed_op(&self, source: &str) -> Box<AsyncOp> {
        Box::new(self.async_op(source))
    }

    /// An operation on the resource (tokio's `runtime.resource.async_op`), `source` naming it
    /// (`"Lock::acquire"`): console links it to the task that polls it.
    pub(crate) fn async_op(&self, source: &str) -> AsyncOp {
        let op = self.in_scope(|| {
            tracing::trace_span!(
                target: "runtime::resource",
                "runtime.resource.async_op",
                source,
                inherits_child_attrs = false,
            )
        });
        AsyncOp {
            resource: self.0.clone(),
            op,
        }
    }
}

/// Reports a resource's state as console attributes (tokio's `state_update` events: `field =
/// value`, with `field.op = "add" | "sub" | "override"` and `field.unit` where they apply).
macro_rules! state_update {
    ($resource:expr, $($field:tt)+) => {
        $resource.in_scope(|| {
            tracing::trace!(target: "runtime::resource::state_update", $($field)+)
        })
    };
}
pub(crate) use state_update;

/// One operation on a resource, entered with its resource around each poll.
#[derive(Debug)]
pub(crate) struct AsyncOp {
    resource: Span,
    op: Span,
}

impl AsyncOp {
    /// Runs one poll of the operation (`op` names it: `"poll_elapsed"`) inside its spans, and
    /// reports whether it was ready.
    pub(crate) fn poll<R>(&self, op: &'static str, f: impl FnOnce() -> Poll<R>) -> Poll<R> {
        let _resource = self.resource.enter();
        let _op = self.op.enter();
        let r = f();
        tracing::trace!(
            target: "runtime::resource::poll_op",
            op_name = op,
            is_ready = r.is_ready(),
        );
        r
    }
}

/// A `Sleep`'s timer: the resource and its one operation.
#[derive(Debug)]
pub(crate) struct Timer {
    op: AsyncOp,
    /// Kept for the span's life (the op holds a handle too).
    _resource: Resource,
}

impl Timer {
    /// A timer made at `at`, with its duration as console's `duration` attribute; `None` when
    /// no subscriber wants it (boxed: a `Sleep` grows by a word only).
    pub(crate) fn new(at: &Location<'_>, duration_ms: Option<u64>) -> Option<Box<Timer>> {
        if !on() {
            return None;
        }
        let resource = Resource::new("Sleep", "timer", at);
        if let Some(ms) = duration_ms {
            state_update!(
                resource,
                duration = ms,
                duration.unit = "ms",
                duration.op = "override"
            );
        }
        let op = resource.async_op("Sleep::new_timeout");
        Some(Box::new(Timer {
            op,
            _resource: resource,
        }))
    }

    /// One poll of the timer (`poll_elapsed`).
    pub(crate) fn poll<R>(&self, f: impl FnOnce() -> Poll<R>) -> Poll<R> {
        self.op.poll("poll_elapsed", f)
    }
}

/// The resource of a primitive whose constructor is `const` (a `Lock` may be a `static`): the
/// constructor notes where it was called, and the span is made when the primitive is first used
/// while a subscriber listens.
#[derive(Debug)]
pub(crate) struct LazyResource {
    concrete_type: &'static str,
    at: &'static Location<'static>,
    is_internal: bool,
    cell: OnceLock<Resource>,
}

impl LazyResource {
    /// The resource of a `concrete_type` (of tokio's kind `"Sync"`) made by this call's caller.
    #[track_caller]
    pub(crate) const fn new(concrete_type: &'static str) -> LazyResource {
        LazyResource {
            concrete_type,
            at: Location::caller(),
            is_internal: false,
            cell: OnceLock::new(),
        }
    }

    /// [`new`](Self::new) for a primitive inside another (a channel's close event): console
    /// hides it unless asked.
    #[track_caller]
    pub(crate) const fn internal(concrete_type: &'static str) -> LazyResource {
        LazyResource {
            concrete_type,
            at: Location::caller(),
            is_internal: true,
            cell: OnceLock::new(),
        }
    }

    /// The type's name (`"Lock"`).
    pub(crate) fn concrete_type(&self) -> &'static str {
        self.concrete_type
    }

    /// The resource, made now if need be, when a subscriber listens; `first` reports its state
    /// once it is made.
    #[inline]
    pub(crate) fn get(&self, first: impl FnOnce(&Resource)) -> Option<&Resource> {
        if !on() {
            return None;
        }
        Some(self.cell.get_or_init(|| {
            let r = Resource::made(self.concrete_type, "Sync", self.at, self.is_internal);
            first(&r);
            r
        }))
    }
}

/// A socket's resource (kind `"Io"`), with its two long-lived operations, reads and writes; its
/// attributes count the bytes each way.
#[derive(Debug)]
pub(crate) struct Io {
    read: AsyncOp,
    write: AsyncOp,
    resource: Resource,
}

impl Io {
    /// The resource of a socket of `concrete_type` (`"TcpStream"`); `None` when no subscriber
    /// wants it.
    pub(crate) fn new(concrete_type: &'static str, at: &Location<'_>) -> Option<Box<Io>> {
        if !on() {
            return None;
        }
        let resource = Resource::new(concrete_type, "Io", at);
        let read = resource.async_op(&format!("{concrete_type}::read"));
        let write = resource.async_op(&format!("{concrete_type}::write"));
        Some(Box::new(Io {
            read,
            write,
            resource,
        }))
    }

    /// One poll of a read; the bytes it read add to `bytes_read`.
    pub(crate) fn poll_read(
        &self,
        f: impl FnOnce() -> Poll<std::io::Result<usize>>,
    ) -> Poll<std::io::Result<usize>> {
        let r = self.read.poll("poll_read", f);
        if let Poll::Ready(Ok(n)) = r {
            let n = n as u64;
            state_update!(
                self.resource,
                bytes_read = n,
                bytes_read.op = "add",
                bytes_read.unit = "bytes"
            );
        }
        r
    }

    /// One poll of a write; the bytes it wrote add to `bytes_written`.
    pub(crate) fn poll_write(
        &self,
        f: impl FnOnce() -> Poll<std::io::Result<usize>>,
    ) -> Poll<std::io::Result<usize>> {
        let r = self.write.poll("poll_write", f);
        if let Poll::Ready(Ok(n)) = r {
            let n = n as u64;
            state_update!(
                self.resource,
                bytes_written = n,
                bytes_written.op = "add",
                bytes_written.unit = "bytes"
            );
        }
        r
    }
}
