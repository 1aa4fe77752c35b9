//! `TaskGroup`: structured concurrency (asyncio's `async with TaskGroup() as tg`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use super::ChildError;
use crate::cancel::{self, Delivered, Kind, Mark, ScopeHandle, Target};
use crate::task::{Task, TaskError, TaskRef};

/// Runs `body` with a [`TaskGroup`]; resolves when the body and every task spawned in the group
/// are done (asyncio's `async with asyncio.TaskGroup() as tg:`).
///
/// The first failure (an `Err` or a panic, of a child or of the body) cancels every other child
/// and the body; all are awaited; then every failure is reported together in a
/// [`TaskGroupError`] (asyncio's `ExceptionGroup`). Cancelling the task that runs the group
/// cancels the children too, waits for them, and then cancels the task.
///
/// ```
/// use std::time::Duration;
/// use conductor::{sleep, task_group};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let result = task_group(|tg| async move {
///     let a = tg.spawn(async { sleep(Duration::from_millis(10)).await; Ok(1) });
///     let b = tg.spawn(async { sleep(Duration::from_millis(20)).await; Ok(2) });
///     Ok::<_, String>((a, b))
/// })
/// .await;
/// let (a, b) = result.unwrap();
/// assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
///
/// let failed = task_group(|tg| async move {
///     tg.spawn(async { Err::<(), _>("boom".to_string()) });
///     tg.spawn(async { sleep(Duration::from_secs(60)).await; Ok(()) }); // cancelled
///     Ok::<_, String>(())
/// })
/// .await
/// .unwrap_err();
/// assert_eq!(failed.errors().len(), 1);
/// # });
/// ```
pub fn task_group<F, Fut, R, E>(body: F) -> TaskGroupFuture<Fut, R, E>
where
    F: FnOnce(TaskGroup<E>) -> Fut,
    Fut: Future<Output = Result<R, E>>,
    E: 'static,
{
    let state = Rc::new(GroupState {
        errors: RefCell::new(Vec::new()),
        children: RefCell::new(Vec::new()),
        running: Cell::new(0),
        failed: Cell::new(false),
        closed: Cell::new(false),
        waker: RefCell::new(None),
    });
    let group = TaskGroup {
        state: state.clone(),
    };
    TaskGroupFuture {
        body: Some(body(group)),
        result: None,
        state,
        scope: None,
        outer: None,
        body_error: None,
        body_cancelled: false,
        raised: false,
    }
}

/// Every failure of a task group, in the order they happened (asyncio's `ExceptionGroup`): each
/// a [`ChildError`], the one failure type of this module (`gather`'s too).
pub struct TaskGroupError<E> {
    errors: Vec<ChildError<E>>,
}

impl<E> TaskGroupError<E> {
    /// The failures.
    pub fn errors(&self) -> &[ChildError<E>] {
        &self.errors
    }

    /// The failures, by value.
    pub fn into_errors(self) -> Vec<ChildError<E>> {
        self.errors
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupError")
            .field("errors", &self.errors)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "unhandled errors in a TaskGroup ({n} sub-exception{})",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.errors.iter().enumerate() {
            write!(f, "\n  {}: {e}", i + 1)?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}

/// A child's failure into an `io::Error`: its error as `Into` makes it, a panic as a resumable
/// [`PanicError`](crate::task::PanicError) (as `From<TaskError>` does).
fn failure_into_io<E: Into<io::Error>>(e: ChildError<E>) -> io::Error {
    match e {
        ChildError::Failed(e) => e.into(),
        ChildError::Task(e) => e.into(),
    }
}

/// `task_group(...).await?` in a function that returns `io::Result`. One failure (the common
/// case: the first failure cancels the others) comes out as it is, so its kind and message are
/// the child's. Several come out as one error, of the first failure's kind, whose inner
/// [`GroupIoError`] keeps them all: none is dropped.
impl<E: Into<io::Error>> From<TaskGroupError<E>> for io::Error {
    fn from(e: TaskGroupError<E>) -> Self {
        let mut errors: Vec<io::Error> = e.errors.into_iter().map(failure_into_io).collect();
        match errors.len() {
            0 => io::Error::other("a TaskGroup was cancelled from inside without a failure"),
            1 => errors.remove(0),
            _ => io::Error::new(errors[0].kind(), GroupIoError { errors }),
        }
    }
}

/// Several failures of a task group, each as an `io::Error` (what `From<TaskGroupError<E>>` puts
/// inside the `io::Error` it makes when more than one child failed).
#[derive(Debug)]
pub struct GroupIoError {
    errors: Vec<io::Error>,
}

impl GroupIoError {
    /// The failures, in the order the group reported them.
    pub fn errors(&self) -> &[io::Error] {
        &self.errors
    }

    /// The failures, by value.
    pub fn into_errors(self) -> Vec<io::Error> {
        self.errors
    }
}

impl fmt::Display for GroupIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unhandled errors in a TaskGroup ({} sub-exceptions)",
            self.errors.len()
        )?;
        for (i, e) in self.errors.iter().enumerate() {
            write!(f, "\n  {}: {e}", i + 1)?;
        }
        Ok(())
    }
}

impl std::error::Error for GroupIoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errors.first().map(|e| e as _)
    }
}

/// The group is finished, or is shutting down after a failure: it takes no new tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupClosed;

impl fmt::Display for GroupClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the TaskGroup is finished or shutting down and takes no new tasks")
    }
}

impl std::error::Error for GroupClosed {}

struct GroupState<E> {
    errors: RefCell<Vec<ChildError<E>>>,
    children: RefCell<Vec<TaskRef>>,
    /// Children whose end the group has not heard of yet.
    running: Cell<usize>,
    /// A failure was seen: the group is shutting down (asyncio's `_aborting`).
    failed: Cell<bool>,
    closed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl<E> GroupState<E> {
    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Cancels the children and, through the group's next poll, the body (asyncio's `_abort`
    /// and `parent_task.cancel()`), once.
    fn abort(&self) {
        if !self.failed.replace(true) {
            self.cancel_children();
            self.wake();
        }
    }

    fn cancel_children(&self) {
        let children = self.children.borrow().clone();
        for child in children {
            child.cancel();
        }
    }

    /// asyncio's `_on_task_done`: the group hears of a child's end (with its failure, if any)
    /// from a callback the child schedules as it ends, so one loop iteration later, as a done
    /// callback runs. Siblings already queued in the iteration where a child fails therefore
    /// still run, and a sibling failing there too is reported: the first failure cancels only
    /// what is still running when the group hears of it.
    fn child_done(&self, failure: Option<ChildError<E>>) {
        if let Some(error) = failure {
            self.errors.borrow_mut().push(error);
            self.abort();
        }
        self.running.set(self.running.get() - 1);
        if self.running.get() == 0 {
            self.wake();
        }
    }
}

impl<E: 'static> GroupState<E> {
    /// Schedules [`child_done`](Self::child_done) for the next iteration.
    #[track_caller]
    fn report_end(self: &Rc<Self>, failure: Option<ChildError<E>>) {
        let group = self.clone();
        let done = Box::new(move || group.child_done(failure));
        crate::runtime::call_soon_internal(done, std::panic::Location::caller());
    }
}

/// The handle a [`task_group`] body spawns children with. Cheap to clone; `!Send`.
pub struct TaskGroup<E> {
    state: Rc<GroupState<E>>,
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            state: self.state.clone(),
        }
    }
}

impl<E: 'static> TaskGroup<E> {
    /// Spawns a child (asyncio's `tg.create_task`). An `Err` from it fails the group.
    ///
    /// The group awaits the child whether or not its handle is kept. When the group no longer
    /// takes tasks (see [`try_spawn`](Self::try_spawn)), the returned task is cancelled before
    /// it starts.
    #[track_caller]
    pub fn spawn<F, T>(&self, future: F) -> GroupTask<T>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        let closed = self.is_closed();
        let task = self.spawn_child(future);
        if closed {
            task.cancel_with("the TaskGroup is finished or shutting down");
        }
        GroupTask(task)
    }

    /// [`spawn`](Self::spawn), failing with [`GroupClosed`] when the group is finished or is
    /// shutting down after a failure (asyncio raises `RuntimeError` there).
    #[track_caller]
    pub fn try_spawn<F, T>(&self, future: F) -> Result<GroupTask<T>, GroupClosed>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        if self.is_closed() {
            return Err(GroupClosed);
        }
        Ok(GroupTask(self.spawn_child(future)))
    }

    fn is_closed(&self) -> bool {
        self.state.closed.get() || self.state.failed.get()
    }

    #[track_caller]
    fn spawn_child<F, T>(&self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        self.state.running.set(self.state.running.get() + 1);
        let task = crate::spawn(Child {
            future,
            group: self.state.clone(),
            finished: false,
        });
        let mut children = self.state.children.borrow_mut();
        children.retain(|c| !c.is_done());
        children.push(task.task_ref());
        task
    }
}

/// A child of a [`TaskGroup`]: a [`Task`] that the group awaits, so that dropping this handle
/// neither detaches nor loses it (unlike a plain `Task`, it need not be used).
pub struct GroupTask<T>(Task<T>);

impl<T> GroupTask<T> {
    /// The plain task handle.
    pub fn into_task(self) -> Task<T> {
        self.0
    }
}

impl<T> std::ops::Deref for GroupTask<T> {
    type Target = Task<T>;

    fn deref(&self) -> &Task<T> {
        &self.0
    }
}

impl<T> std::ops::DerefMut for GroupTask<T> {
    fn deref_mut(&mut self) -> &mut Task<T> {
        &mut self.0
    }
}

impl<T> Future for GroupTask<T> {
    type Output = Result<T, crate::TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> fmt::Debug for GroupTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

pin_project! {
    /// A group's child: reports its end to the group, with its failure if it failed.
    struct Child<F, E: 'static> {
        #[pin]
        future: F,
        group: Rc<GroupState<E>>,
        finished: bool,
    }

    impl<F, E: 'static> PinnedDrop for Child<F, E> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.finished {
                // Cancelled: asyncio does not count a child's CancelledError as a failure.
                this.group.report_end(None);
            }
        }
    }
}

impl<F, T, E: 'static> Future for Child<F, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.project();
        if *this.finished {
            // Failed: the task is being ended at this suspension point.
            return Poll::Pending;
        }
        let future = this.future;
        let failure = match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(v))) => {
                *this.finished = true;
                this.group.report_end(None);
                return Poll::Ready(v);
            }
            Ok(Poll::Ready(Err(e))) => ChildError::Failed(e),
            Err(payload) => ChildError::Task(TaskError::Panicked(payload)),
        };
        *this.finished = true;
        this.group.report_end(Some(failure));
        crate::task::fail_current_task();
        Poll::Pending
    }
}

pin_project! {
    /// The future returned by [`task_group`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct TaskGroupFuture<Fut, R, E> {
        #[pin]
        body: Option<Fut>,
        result: Option<R>,
        state: Rc<GroupState<E>>,
        scope: Option<ScopeHandle>,
        // A cancellation of the task running the group, to pass on once the children are done.
        outer: Option<Mark>,
        // The body's own error: reported after the children's, as asyncio appends it last.
        body_error: Option<E>,
        body_cancelled: bool,
        raised: bool,
    }
}

impl<Fut, R, E> Future for TaskGroupFuture<Fut, R, E>
where
    Fut: Future<Output = Result<R, E>>,
{
    type Output = Result<R, TaskGroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if *this.raised {
            return Poll::Pending;
        }
        match this.scope.as_ref() {
            None => *this.scope = ScopeHandle::register(Kind::Handler, cx.waker()),
            Some(scope) => {
                scope.set_waker(cx.waker());
                if let Some(mark) = scope.take_mark() {
                    this.body.set(None);
                    if mark.target == Target::Scope(scope.key()) {
                        // Our own cancellation of the body came back up: the body is over.
                    } else {
                        // The task running the group is cancelled from outside.
                        this.state.cancel_children();
                        *this.outer = Some(mark);
                    }
                }
            }
        }
        if this.state.failed.get() && this.body.is_some() && !*this.body_cancelled {
            *this.body_cancelled = true;
            let delivered = this
                .scope
                .as_ref()
                .map(|s| cancel::deliver(s.owner(), Target::Scope(s.key()), &None));
            if !matches!(delivered, Some(Delivered::ToScopes)) {
                this.body.set(None);
            }
        }
        if let Some(body) = this.body.as_mut().as_pin_mut() {
            let polled = match this.scope.as_ref() {
                Some(scope) => scope.within(|| body.poll(cx)),
                None => body.poll(cx),
            };
            if let Poll::Ready(r) = polled {
                this.body.set(None);
                match r {
                    Ok(v) => *this.result = Some(v),
                    Err(e) => {
                        // asyncio's `__aexit__` with an exception: abort at once.
                        *this.body_error = Some(e);
                        this.state.abort();
                    }
                }
            }
        }
        if this.body.is_some() || this.state.running.get() > 0 {
            *this.state.waker.borrow_mut() = Some(cx.waker().clone());
            crate::trace::note(|| {
                let children = this.state.children.borrow();
                let running = children.iter().filter(|c| !c.is_done());
                crate::trace::Point::new("TaskGroup").awaits(running.map(TaskRef::erased))
            });
            return Poll::Pending;
        }
        this.state.closed.set(true);
        *this.scope = None;
        let mut errors = std::mem::take(&mut *this.state.errors.borrow_mut());
        errors.extend(this.body_error.take().map(ChildError::Failed));
        if !errors.is_empty() {
            return Poll::Ready(Err(TaskGroupError { errors }));
        }
        if let Some(mark) = this.outer.take() {
            *this.raised = true;
            if let Some(me) = cancel::current_task() {
                cancel::raise(me, mark.target, mark.msg);
            }
            return Poll::Pending;
        }
        match this.result.take() {
            Some(v) => Poll::Ready(Ok(v)),
            // The body was cancelled from inside the group without a failure: only possible
            // when a catch scope in the body re-raised a cancellation the group did not send.
            None => Poll::Ready(Err(TaskGroupError { errors: Vec::new() })),
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("running", &self.state.running.get())
            .field("failed", &self.state.failed.get())
            .finish()
    }
}
