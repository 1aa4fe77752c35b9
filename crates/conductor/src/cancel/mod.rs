//! Cancellation that a task can catch and clean up after, as asyncio's `except CancelledError:`.
//!
//! `Task::cancel` does not stop a task at once: it is delivered at the task's next suspension
//! point. By default the task's future is dropped there (Rust's usual cancellation, and RAII
//! guards run). Code that wants asyncio's `try/except CancelledError` wraps a block in
//! [`catch_cancel`], which returns `Err(Cancelled)` in place of the block's value, after which the
//! task may await its cleanup and then either go on (it is then not cancelled, as in asyncio) or
//! [`Cancelled::reraise`] the cancellation to the next enclosing scope.
//!
//! What lives here: the per-task scope tree (`scope`), delivery, `catch_cancel`, `Cancelled`,
//! and the per-poll state of cancellation: the stack of scopes being polled in the running task
//! (`FRAMES`) and the scope generations. It is part of the task system: it uses the task header
//! (`task`) and the running task (`context`), nothing else.

pub(crate) mod scope;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use scope::{Action, ScopeTree};
pub(crate) use scope::{Awaited, CancelAwaited, Frame, Kind, Mark, ScopeKey, Target};

use crate::context;
use crate::task::header::flags::*;
use crate::task::{TaskPtr, schedule_cancelled};

thread_local! {
    /// The cancellation scopes being polled in the running task, innermost last. Per thread,
    /// since one loop at a time runs on a thread, and empty between task polls.
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
    /// The last scope generation handed out on this thread: generations never repeat, so a
    /// stale key never matches a node.
    static SCOPE_GEN: Cell<u64> = const { Cell::new(0) };
}

fn next_scope_gen() -> u64 {
    SCOPE_GEN.with(|g| {
        g.set(g.get() + 1);
        g.get()
    })
}

/// Whether every scope frame pushed during a poll was popped (checked after each step).
pub(crate) fn frames_balanced() -> bool {
    FRAMES.with(|f| f.borrow().is_empty())
}

/// Sets aside the running task's frames while another task is stepped inside its poll (an eager
/// start); `restore_frames` puts them back.
pub(crate) fn take_frames() -> Vec<Frame> {
    FRAMES.with(|f| std::mem::take(&mut *f.borrow_mut()))
}

pub(crate) fn restore_frames(frames: Vec<Frame>) {
    FRAMES.with(|f| *f.borrow_mut() = frames);
}

/// Frees the frame stack's buffer when no scope is on it: a loop that stops running on this
/// thread leaves nothing behind (the buffer is kept while a loop runs, so that scopes cost no
/// allocation).
pub(crate) fn release_frames() {
    FRAMES.with(|f| {
        if let Ok(mut f) = f.try_borrow_mut()
            && f.is_empty()
        {
            *f = Vec::new();
        }
    });
}

/// asyncio's `CancelledError`: the value a [`catch_cancel`] block gets instead of its output.
#[derive(Clone)]
pub struct Cancelled {
    msg: Option<Arc<str>>,
    target: Target,
}

/// The cancellation a timeout delivers to the work inside it: no message, as asyncio's timeout
/// calls `task.cancel()` without one. `TimedOut::source` returns it.
pub(crate) static BY_TIMEOUT: Cancelled = Cancelled {
    msg: None,
    target: Target::Task,
};

impl Cancelled {
    pub(crate) fn new(msg: Option<Arc<str>>, target: Target) -> Self {
        Cancelled { msg, target }
    }

    /// The message given to [`Task::cancel_with`](crate::TaskRef::cancel_with), if any.
    pub fn message(&self) -> Option<&str> {
        self.msg.as_deref()
    }

    /// Passes the cancellation on to the next enclosing scope, as a bare `raise` in an
    /// `except CancelledError:` block does. The returned future never completes: the task is
    /// dropped at it (or an outer [`catch_cancel`] receives the cancellation).
    ///
    /// ```
    /// # conductor::run(async {
    /// let task = conductor::spawn(async {
    ///     match conductor::catch_cancel(conductor::sleep(std::time::Duration::from_secs(10))).await {
    ///         Ok(()) => "slept",
    ///         Err(cancelled) => {
    ///             // Async cleanup would go here.
    ///             cancelled.reraise().await
    ///         }
    ///     }
    /// });
    /// conductor::yield_now().await;
    /// task.cancel();
    /// assert!(task.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn reraise<T>(self) -> Reraise<T> {
        Reraise {
            cancelled: Some(self),
            _output: PhantomData,
        }
    }
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.msg {
            Some(m) => write!(f, "cancelled: {m}"),
            None => f.write_str("cancelled"),
        }
    }
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled").field("msg", &self.msg).finish()
    }
}

impl std::error::Error for Cancelled {}

/// Two cancellations are equal when their messages are (where they were aimed is internal).
impl PartialEq for Cancelled {
    fn eq(&self, other: &Self) -> bool {
        self.msg == other.msg
    }
}

/// The task being polled on this thread, if any.
#[inline]
pub(crate) fn current_task() -> Option<TaskPtr> {
    context::current_task().map(TaskPtr::unerase)
}

/// How a cancellation was delivered.
pub(crate) enum Delivered {
    /// One or more scopes inside the target received it.
    ToScopes,
    /// No scope catches it: the target must act itself.
    AtTarget,
}

/// Delivers a cancellation to the leaves below `target` in `task`'s scope tree.
pub(crate) fn deliver(task: TaskPtr, target: Target, msg: &Option<Arc<str>>) -> Delivered {
    // SAFETY: the caller holds a reference to `task` (it is running, or a handle to it is held)
    // and runs on its loop's thread.
    let h = unsafe { task.header() };
    let Some(extra) = h.extra_if_any() else {
        return Delivered::AtTarget;
    };
    let actions = extra.scopes.borrow_mut().mark_leaves(target, msg);
    let mut delivered = false;
    for action in actions {
        match action {
            Action::Wake(w) => {
                w.wake();
                delivered = true;
            }
            Action::Forward(awaited, key) => {
                if awaited.cancel(msg.clone()) {
                    delivered = true;
                } else if let Some(n) = extra.scopes.borrow_mut().get_mut(key) {
                    // The awaited task is already done; it cannot take the cancellation.
                    n.mark = None;
                }
            }
        }
    }
    if delivered {
        Delivered::ToScopes
    } else {
        Delivered::AtTarget
    }
}

/// `Task.cancel(msg)`: returns false when the task is already done.
pub(crate) fn cancel_task(task: TaskPtr, msg: Option<Arc<str>>) -> bool {
    // SAFETY: as in `deliver`.
    let h = unsafe { task.header() };
    if h.has(COMPLETE) {
        return false;
    }
    let extra = h.extra();
    extra.cancelling.set(extra.cancelling.get() + 1);
    *extra.cancel_msg.borrow_mut() = msg.clone();
    if let Delivered::AtTarget = deliver(task, Target::Task, &msg) {
        h.set(MUST_CANCEL);
        schedule_cancelled(task);
    }
    true
}

/// Raises a cancellation again from inside `task` (a re-raise, or an awaited task that ended
/// cancelled because this task's cancellation was forwarded to it).
///
/// It goes where a bare `raise` in an `except CancelledError:` block goes: to the nearest
/// catching scope that encloses the code raising it, below the target. Only with none does it
/// fall back to the target itself. Delivering it to every leaf below the target instead (as a
/// new cancellation is) would hand it again to sibling branches of the task that already took
/// it and are cleaning up.
pub(crate) fn raise(task: TaskPtr, target: Target, msg: Option<Arc<str>>) {
    let reached_target = match mark_enclosing_catcher(task, target, &msg) {
        Enclosing::Catcher(waker) => {
            if let Some(w) = waker {
                w.wake();
            }
            return;
        }
        Enclosing::Target => true,
        Enclosing::Unknown => false,
    };
    if !reached_target && let Delivered::ToScopes = deliver(task, target, &msg) {
        return;
    }
    // SAFETY: `task` is the running task.
    let h = unsafe { task.header() };
    if let Target::Scope(key) = target {
        let waker = h
            .extra_if_any()
            .and_then(|e| e.scopes.borrow_mut().mark_target(key, msg.clone()));
        if let Some(w) = waker {
            w.wake();
            return;
        }
    }
    h.set(MUST_CANCEL);
    schedule_cancelled(task);
}

/// What encloses the code that raises a cancellation, below its target.
enum Enclosing {
    /// A catching scope, now marked; its waker.
    Catcher(Option<Waker>),
    /// The target scope itself, with no catcher in between.
    Target,
    /// Not known from the scopes being polled (raised outside a poll of `task`, or the target is
    /// not on the stack): the cancellation goes to the leaves below the target.
    Unknown,
}

/// Marks the innermost catching scope on the stack of scopes being polled in `task` (the running
/// task), if one is below `target`.
fn mark_enclosing_catcher(task: TaskPtr, target: Target, msg: &Option<Arc<str>>) -> Enclosing {
    if current_task() != Some(task) {
        return Enclosing::Unknown;
    }
    FRAMES.with(|frames| {
        // SAFETY: the running task is alive; we are on its loop's thread.
        let Some(extra) = unsafe { task.header() }.extra_if_any() else {
            return Enclosing::Unknown;
        };
        let mut tree = extra.scopes.borrow_mut();
        let frames = frames.borrow();
        for frame in frames.iter().rev() {
            // A lazy frame is a timeout with no node yet: not a catcher, and not a target that
            // anything inside it could have been cancelled by.
            let Frame::Node(key) = *frame else { continue };
            if target == Target::Scope(key) {
                return Enclosing::Target;
            }
            let Some(node) = tree.get_mut(key) else {
                continue;
            };
            if matches!(node.kind, Kind::Catch | Kind::Handler) {
                node.mark = Some(Mark {
                    target,
                    msg: msg.clone(),
                });
                return Enclosing::Catcher(node.waker.clone());
            }
        }
        match target {
            Target::Task => Enclosing::Target,
            Target::Scope(_) => Enclosing::Unknown,
        }
    })
}

/// The running task's node forwarding to `awaited`, found in its tree (a `Task` handle keeps no
/// state of its own, so that it stays one pointer wide).
fn forward_node(awaited: TaskPtr) -> Option<ScopeHandle> {
    let owner = current_task()?;
    // SAFETY: the running task is alive; we are on its thread.
    let extra = unsafe { owner.header() }.extra_if_any()?;
    let key = extra.scopes.borrow().find_forward(awaited)?;
    Some(ScopeHandle { owner, key })
}

/// Registers the running task as awaiting `awaited` (asyncio's `_fut_waiter`), so that its
/// cancellation is forwarded there; no-op when already registered or outside a task.
pub(crate) fn await_task(awaited: &crate::task::LocalRef, waker: &Waker) {
    match forward_node(awaited.ptr()) {
        Some(node) => {
            node.set_waker(waker);
            std::mem::forget(node);
        }
        None => {
            if let Some(node) =
                ScopeHandle::register(Kind::Forward(Awaited::Task(awaited.clone())), waker)
            {
                awaited.header().set(AWAITED);
                std::mem::forget(node); // stays registered until `stop_awaiting`
            }
        }
    }
}

/// Unregisters the running task's node for `awaited`; returns the cancellation that was
/// forwarded through it, if any.
#[inline]
pub(crate) fn stop_awaiting(awaited: TaskPtr) -> Option<Mark> {
    // SAFETY: the caller holds a reference to `awaited` (its `Task` handle), on its thread.
    let h = unsafe { awaited.header() };
    if !h.has(AWAITED) {
        return None;
    }
    stop_awaiting_slow(awaited)
}

fn stop_awaiting_slow(awaited: TaskPtr) -> Option<Mark> {
    // SAFETY: as for `stop_awaiting`.
    let h = unsafe { awaited.header() };
    h.clear(AWAITED);
    let node = forward_node(awaited)?;
    let mark = node.take_mark();
    drop(node); // unregisters
    mark
}

/// A node that a future registered in its task's scope tree; unregisters on drop.
pub(crate) struct ScopeHandle {
    owner: TaskPtr,
    key: ScopeKey,
}

// SAFETY: a `ScopeHandle` is plain data (an address and a key). It touches the tree only through
// `tree`, which first checks that the running task on this thread is the owner, so it never
// reaches another thread's task.
unsafe impl Send for ScopeHandle {}
// SAFETY: as for `Send`; `&ScopeHandle` offers nothing more.
unsafe impl Sync for ScopeHandle {}

impl ScopeHandle {
    /// Registers a node in the running task's tree; `None` outside a task.
    pub(crate) fn register(kind: Kind, waker: &Waker) -> Option<ScopeHandle> {
        let owner = current_task()?;
        FRAMES.with(|frames| {
            // SAFETY: the running task is alive; we are on its loop's thread.
            let extra = unsafe { owner.header() }.extra();
            let mut frames = frames.borrow_mut();
            let key = extra.scopes.borrow_mut().register(
                kind,
                Some(waker.clone()),
                &mut frames,
                &mut next_scope_gen,
            );
            Some(ScopeHandle { owner, key })
        })
    }

    pub(crate) fn key(&self) -> ScopeKey {
        self.key
    }

    pub(crate) fn owner(&self) -> TaskPtr {
        self.owner
    }

    /// Runs `f` on the tree when the running task is the owner.
    pub(crate) fn tree<R>(&self, f: impl FnOnce(&mut ScopeTree) -> R) -> Option<R> {
        if current_task()? != self.owner {
            return None;
        }
        // SAFETY: the owner is the running task, so it is alive and we are on its thread.
        let h = unsafe { self.owner.header() };
        let extra = h.extra_if_any()?;
        let mut tree = extra.scopes.borrow_mut();
        Some(f(&mut tree))
    }

    pub(crate) fn take_mark(&self) -> Option<Mark> {
        self.tree(|t| t.get_mut(self.key).and_then(|n| n.mark.take()))
            .flatten()
    }

    pub(crate) fn set_waker(&self, waker: &Waker) {
        self.tree(|t| t.set_waker(self.key, waker));
    }

    /// Polls `f` with this node as the parent of nodes registered meanwhile.
    pub(crate) fn within<R>(&self, f: impl FnOnce() -> R) -> R {
        let _frame =
            (current_task() == Some(self.owner)).then(|| FrameGuard::push(Frame::Node(self.key)));
        f()
    }
}

/// Keeps a scope on the frame stack for the duration of its inner poll, also when that poll
/// panics (the stack outlives the task). Pushed only while a task runs (its callers check).
struct FrameGuard;

impl FrameGuard {
    fn push(frame: Frame) -> FrameGuard {
        FRAMES.with(|f| f.borrow_mut().push(frame));
        FrameGuard
    }
}

impl Drop for FrameGuard {
    fn drop(&mut self) {
        FRAMES.with(|f| f.borrow_mut().pop());
    }
}

/// A target scope (a timeout) that registers its node only when a node inside it needs a parent.
/// Until then, a cancellation aimed at it has nothing to reach but itself.
#[derive(Default)]
pub(crate) struct LazyScope {
    owner: Cell<Option<TaskPtr>>,
    key: Cell<Option<ScopeKey>>,
}

// SAFETY: as for `ScopeHandle`: an address and a key, used only when the owner is the running
// task on this thread (`handle` checks).
unsafe impl Send for LazyScope {}

impl LazyScope {
    /// Polls `f` inside this scope. Call it from the pinned scope future only: the lazy frame
    /// points at `self.key`, which must stay in place while `f` runs.
    pub(crate) fn within<R>(&self, f: impl FnOnce() -> R) -> R {
        let Some(task) = current_task() else {
            return f();
        };
        if self.owner.get().is_some_and(|o| o != task) {
            return f(); // moved to another task: its old node stays with the old task
        }
        self.owner.set(Some(task));
        let frame = match self.key.get() {
            Some(key) => Frame::Node(key),
            None => Frame::Lazy(&self.key),
        };
        let _frame = FrameGuard::push(frame);
        f()
    }

    /// The node, if it was made.
    fn handle(&self) -> Option<std::mem::ManuallyDrop<ScopeHandle>> {
        Some(std::mem::ManuallyDrop::new(ScopeHandle {
            owner: self.owner.get()?,
            key: self.key.get()?,
        }))
    }

    pub(crate) fn take_mark(&self) -> Option<Mark> {
        self.handle()?.take_mark()
    }

    pub(crate) fn set_waker(&self, waker: &Waker) {
        if let Some(h) = self.handle() {
            h.set_waker(waker);
        }
    }

    /// Delivers this scope's own cancellation: to the catchers inside it, else `AtTarget`.
    pub(crate) fn deliver(&self) -> Delivered {
        match self.handle() {
            Some(h) => deliver(h.owner, Target::Scope(h.key), &None),
            None => Delivered::AtTarget,
        }
    }

    /// Unregisters the node, if any.
    pub(crate) fn clear(&self) {
        if let Some(h) = self.handle() {
            drop(std::mem::ManuallyDrop::into_inner(h));
        }
        self.key.set(None);
    }
}

impl Drop for LazyScope {
    fn drop(&mut self) {
        self.clear();
    }
}

impl Drop for ScopeHandle {
    fn drop(&mut self) {
        // The node is dropped after the tree is released: it may hold a task reference.
        let node = self.tree(|t| t.unregister(self.key));
        drop(node);
    }
}

pin_project! {
    /// The future returned by [`catch_cancel`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct CatchCancel<F> {
        #[pin]
        inner: Option<F>,
        scope: Option<ScopeHandle>,
    }
}

/// Runs `future`, catching a cancellation of the task that reaches it, as asyncio's
/// `try: ... except CancelledError:`.
///
/// When the task is cancelled while suspended inside `future`, `future` is dropped at that
/// suspension point and `Err(Cancelled)` is returned; the task goes on from there and may await
/// its cleanup. If it then finishes normally it is not cancelled (asyncio's "suppressed"
/// cancellation); [`Cancelled::reraise`] passes the cancellation on instead.
///
/// ```
/// use std::time::Duration;
/// # conductor::run(async {
/// let task = conductor::spawn(async {
///     if conductor::catch_cancel(conductor::sleep(Duration::from_secs(5))).await.is_err() {
///         conductor::sleep(Duration::from_millis(1)).await; // async cleanup
///         return "cleaned up";
///     }
///     "finished"
/// });
/// conductor::sleep(Duration::from_millis(10)).await;
/// task.cancel();
/// assert_eq!(task.await.unwrap(), "cleaned up");
/// # });
/// ```
pub fn catch_cancel<F: Future>(future: F) -> CatchCancel<F> {
    CatchCancel {
        inner: Some(future),
        scope: None,
    }
}

impl<F: Future> Future for CatchCancel<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        match this.scope.as_ref() {
            Some(scope) => {
                if let Some(mark) = scope.take_mark() {
                    this.inner.set(None);
                    *this.scope = None;
                    return Poll::Ready(Err(Cancelled::new(mark.msg, mark.target)));
                }
                scope.set_waker(cx.waker());
            }
            None => *this.scope = ScopeHandle::register(Kind::Catch, cx.waker()),
        }
        let inner = this
            .inner
            .as_mut()
            .as_pin_mut()
            .expect("CatchCancel polled after it completed");
        let polled = match this.scope.as_ref() {
            Some(scope) => scope.within(|| inner.poll(cx)),
            None => inner.poll(cx),
        };
        match polled {
            Poll::Ready(v) => {
                this.inner.set(None);
                *this.scope = None;
                Poll::Ready(Ok(v))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The future returned by [`Cancelled::reraise`]: never completes.
#[must_use = "a re-raise does nothing unless awaited"]
pub struct Reraise<T> {
    cancelled: Option<Cancelled>,
    _output: PhantomData<fn() -> T>,
}

impl<T> Future for Reraise<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        if let Some(c) = self.cancelled.take()
            && let Some(task) = current_task()
        {
            raise(task, c.target, c.msg);
        }
        Poll::Pending
    }
}
