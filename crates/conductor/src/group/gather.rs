//! `gather`: run futures concurrently as tasks and collect their results in argument order.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use crate::cancel::{self, Kind, Mark, ScopeHandle};
use crate::task::{Outcome, Task, TaskError, TaskRef};

/// Runs every future of `futures` as a task, at once, and resolves to their values in the order
/// given (asyncio's `gather(*aws)`).
///
/// As in asyncio, the first child that fails makes the gather fail with that failure while the
/// other children keep running. A failure is a panic or a cancellation
/// ([`ChildError::Task`]), or an output that is a failed [`Outcome`]: an `Err`
/// ([`ChildError::Failed`]), as a coroutine that raises. The values are the outputs, or what is
/// inside their `Ok`. [`Gather::return_exceptions`] collects every outcome instead. Cancelling
/// the task that awaits the gather cancels every child, waits for them, and then cancels the
/// awaiting task.
///
/// ```
/// use std::time::Duration;
/// use conductor::group::ChildError;
/// # conductor::run(async {
/// let results = conductor::gather((1..=3).map(|i| async move {
///     conductor::sleep(Duration::from_millis(10 * (4 - i))).await;
///     i * 10
/// }))
/// .await
/// .unwrap();
/// assert_eq!(results, [10, 20, 30]); // argument order, not completion order
///
/// let failed = conductor::gather((1..=3).map(|i| async move {
///     if i == 2 { Err(format!("{i} failed")) } else { Ok(i) }
/// }))
/// .await;
/// assert!(matches!(failed, Err(ChildError::Failed(e)) if e == "2 failed"));
/// # });
/// ```
#[track_caller]
pub fn gather<I, F>(futures: I) -> Gather<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: Outcome + 'static,
{
    Gather {
        core: GatherCore::spawn(futures),
    }
}

/// [`gather`] over tasks already spawned (asyncio's `gather(*tasks)`): their values, or the first
/// failure, without running each task under another one.
///
/// A task's failure is its own: a panic or a cancellation ([`ChildError::Task`]), or an `Err`
/// output ([`ChildError::Failed`]), so a `Task<Result<T, E>>` gathers into `Vec<T>` or the
/// first `E`. The gather hears of each task from its done callback, as asyncio's does. The
/// other tasks keep running after a failure; cancelling the task that awaits the gather cancels
/// them all and waits for them, as asyncio does.
///
/// ```
/// use std::time::Duration;
/// use conductor::{gather_tasks, sleep, spawn};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let tasks: Vec<_> = (1..=3u64)
///     .map(|i| spawn(async move {
///         sleep(Duration::from_secs(4 - i)).await;
///         Ok::<_, String>(i)
///     }))
///     .collect();
/// assert_eq!(gather_tasks(tasks).await.unwrap(), [1, 2, 3]);
/// # });
/// ```
pub fn gather_tasks<I, T>(tasks: I) -> Gather<T>
where
    I: IntoIterator<Item = Task<T>>,
    T: Outcome + 'static,
{
    Gather {
        core: GatherCore::watch(tasks),
    }
}

/// Why a child of this module's combinators has no value: the one failure type of `group`. A
/// [`gather`] fails with the first one (and [`Gather::return_exceptions`] keeps each), a
/// [`TaskGroupError`](super::TaskGroupError) lists every one; `Failed` is asyncio's exception
/// out of the child, `Task` its `CancelledError` or (here) a panic.
pub enum ChildError<E> {
    /// A child's output was this error (its `Err`).
    Failed(E),
    /// A child panicked or was cancelled.
    Task(TaskError),
}

impl<E> ChildError<E> {
    /// Whether a child panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, ChildError::Task(e) if e.is_panic())
    }

    /// Whether a child was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, ChildError::Task(e) if e.is_cancelled())
    }

    /// The child's error, or `None` when it panicked or was cancelled.
    pub fn into_failed(self) -> Option<E> {
        match self {
            ChildError::Failed(e) => Some(e),
            ChildError::Task(_) => None,
        }
    }
}

impl<E> From<TaskError> for ChildError<E> {
    fn from(e: TaskError) -> Self {
        ChildError::Task(e)
    }
}

/// A gather whose children cannot fail with an error value failed as a task fails.
impl From<ChildError<Infallible>> for TaskError {
    fn from(e: ChildError<Infallible>) -> Self {
        match e {
            ChildError::Task(e) => e,
            ChildError::Failed(never) => match never {},
        }
    }
}

/// `gather(...).await?` in a function that returns `io::Result`, over `io::Result` outputs: the
/// child's `io::Error` as it is; a panic or a cancellation as `From<TaskError>` makes it (the
/// panic stays resumable).
impl From<ChildError<io::Error>> for io::Error {
    fn from(e: ChildError<io::Error>) -> Self {
        match e {
            ChildError::Failed(e) => e,
            ChildError::Task(e) => e.into(),
        }
    }
}

/// `gather(...).await?` in a function that returns `io::Result`, over outputs that cannot fail.
impl From<ChildError<Infallible>> for io::Error {
    fn from(e: ChildError<Infallible>) -> Self {
        TaskError::from(e).into()
    }
}

impl<E: fmt::Debug> fmt::Debug for ChildError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildError::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
            ChildError::Task(e) => f.debug_tuple("Task").field(e).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for ChildError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The child's own error, as asyncio re-raises the child's exception.
            ChildError::Failed(e) => fmt::Display::fmt(e, f),
            ChildError::Task(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display + 'static> std::error::Error for ChildError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Transparent, as `Display`: the task error's own cause, not the task error again.
            ChildError::Failed(_) => None,
            ChildError::Task(e) => std::error::Error::source(e),
        }
    }
}

/// A child's outcome as the gather reports it: the value, or why there is none.
pub(crate) fn flatten<T: Outcome>(r: Result<T, TaskError>) -> Result<T::Ok, ChildError<T::Err>> {
    match r {
        Ok(output) => output.into_result().map_err(ChildError::Failed),
        Err(e) => Err(ChildError::Task(e)),
    }
}

/// A child's outcome is a failure: a panic, a cancellation, or a failed output.
fn failed<T: Outcome>(r: &Result<T, TaskError>) -> bool {
    r.as_ref().map_or(true, Outcome::is_failure)
}

/// What the children share with the gather.
struct State<T> {
    results: RefCell<Vec<Option<Result<T, TaskError>>>>,
    remaining: Cell<usize>,
    first_failure: Cell<Option<usize>>,
    waker: RefCell<Option<Waker>>,
}

impl<T> State<T> {
    fn new(n: usize) -> Rc<Self> {
        Rc::new(State {
            results: RefCell::new((0..n).map(|_| None).collect()),
            remaining: Cell::new(n),
            first_failure: Cell::new(None),
            waker: RefCell::new(None),
        })
    }
}

impl<T: Outcome + 'static> State<T> {
    /// Schedules [`finish`](Self::finish) for the next iteration: the gather hears of a child's
    /// end from a callback, as asyncio's gather from its children's done callbacks, so the
    /// awaiting task resumes in the same iteration as asyncio's.
    #[track_caller]
    fn report(self: &Rc<Self>, index: usize, result: Result<T, TaskError>) {
        let state = self.clone();
        let finish = Box::new(move || state.finish(index, result));
        crate::runtime::call_soon_internal(finish, std::panic::Location::caller());
    }

    fn finish(&self, index: usize, result: Result<T, TaskError>) {
        let failed = failed(&result);
        self.results.borrow_mut()[index] = Some(result);
        self.remaining.set(self.remaining.get() - 1);
        let newly_failed = failed && self.first_failure.get().is_none();
        if newly_failed {
            self.first_failure.set(Some(index));
        }
        if (newly_failed || self.remaining.get() == 0)
            && let Some(w) = self.waker.borrow_mut().take()
        {
            w.wake();
        }
    }
}

pin_project! {
    /// One gathered future, run as its own task: reports its outcome to the shared state,
    /// including a panic (caught here) or a cancellation (seen when it is dropped unfinished).
    struct Child<F: Future>
    where
        F::Output: Outcome,
        F::Output: 'static,
    {
        #[pin]
        future: F,
        state: Rc<State<F::Output>>,
        index: usize,
        done: bool,
    }

    impl<F: Future> PinnedDrop for Child<F>
    where
        F::Output: Outcome,
        F::Output: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done {
                let msg = crate::current_task().and_then(|t| {
                    t.local().header().extra_if_any().and_then(|e| e.cancel_msg.borrow().clone())
                });
                this.state.report(*this.index, Err(TaskError::cancelled(msg)));
            }
        }
    }
}

impl<F: Future> Future for Child<F>
where
    F::Output: Outcome + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let future = this.future;
        let outcome = match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(v)) => Ok(v),
            Err(payload) => Err(TaskError::Panicked(payload)),
        };
        *this.done = true;
        this.state.report(*this.index, outcome);
        Poll::Ready(())
    }
}

/// The machinery shared by [`Gather`] and [`GatherResults`], over spawned children or given
/// tasks.
struct GatherCore<T> {
    state: Rc<State<T>>,
    children: Vec<TaskRef>,
    scope: Option<ScopeHandle>,
    /// The awaiting task is being cancelled: wait for the children, then pass it on.
    cancelling: Option<Mark>,
    raised: bool,
}

enum Step<T> {
    /// Every child is done.
    All(Vec<Result<T, TaskError>>),
    /// The child at this index failed first.
    Failed(Result<T, TaskError>),
}

impl<T: Outcome + 'static> GatherCore<T> {
    #[track_caller]
    fn spawn<I, F>(futures: I) -> Self
    where
        I: IntoIterator<Item = F>,
        F: Future<Output = T> + 'static,
    {
        let futures: Vec<F> = futures.into_iter().collect();
        let state = State::new(futures.len());
        let children = futures
            .into_iter()
            .enumerate()
            .map(|(index, future)| {
                let child = crate::spawn(Child {
                    future,
                    state: state.clone(),
                    index,
                    done: false,
                });
                child.task_ref()
            })
            .collect();
        GatherCore::new(state, children)
    }
}

impl<T: Outcome + 'static> GatherCore<T> {
    fn watch<I: IntoIterator<Item = Task<T>>>(tasks: I) -> Self {
        let tasks: Vec<Task<T>> = tasks.into_iter().collect();
        let state = State::new(tasks.len());
        let children = tasks
            .into_iter()
            .enumerate()
            .map(|(index, mut task)| {
                let child = task.task_ref();
                let state = state.clone();
                // A done callback runs one iteration after the task ends, as asyncio's.
                child.add_done_callback(move |_| state.finish(index, task.result()));
                child
            })
            .collect();
        GatherCore::new(state, children)
    }
}

impl<T> GatherCore<T> {
    fn new(state: Rc<State<T>>, children: Vec<TaskRef>) -> Self {
        GatherCore {
            state,
            children,
            scope: None,
            cancelling: None,
            raised: false,
        }
    }

    fn poll_step(&mut self, cx: &mut Context<'_>, fail_fast: bool) -> Poll<Step<T>> {
        let r = self.poll_step_inner(cx, fail_fast);
        if r.is_pending() {
            crate::trace::note(|| {
                let running = self.children.iter().filter(|c| !c.is_done());
                crate::trace::Point::new("gather").awaits(running.map(TaskRef::erased))
            });
        }
        r
    }

    fn poll_step_inner(&mut self, cx: &mut Context<'_>, fail_fast: bool) -> Poll<Step<T>> {
        if self.raised {
            return Poll::Pending;
        }
        match &self.scope {
            None => self.scope = ScopeHandle::register(Kind::Handler, cx.waker()),
            Some(scope) => {
                if let Some(mark) = scope.take_mark() {
                    for child in &self.children {
                        child.cancel();
                    }
                    self.cancelling = Some(mark);
                }
            }
        }
        let state = &self.state;
        if let Some(mark) = &self.cancelling {
            if state.remaining.get() > 0 {
                *state.waker.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            // asyncio: a cancelled gather raises CancelledError once its children are done.
            self.raised = true;
            self.scope = None;
            if let Some(me) = cancel::current_task() {
                cancel::raise(me, mark.target, mark.msg.clone());
            }
            return Poll::Pending;
        }
        if fail_fast && let Some(i) = state.first_failure.get() {
            self.scope = None;
            let failed = state.results.borrow_mut()[i].take();
            return Poll::Ready(Step::Failed(failed.expect("failure recorded")));
        }
        if state.remaining.get() == 0 {
            self.scope = None;
            let results = std::mem::take(&mut *state.results.borrow_mut());
            let results = results
                .into_iter()
                .map(|r| r.expect("every child reported"))
                .collect();
            return Poll::Ready(Step::All(results));
        }
        *state.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The future returned by [`gather`].
#[must_use = "the children run anyway; await the gather to get their results"]
pub struct Gather<T> {
    core: GatherCore<T>,
}

impl<T> Gather<T> {
    /// Collects every child's outcome instead of failing on the first failure (asyncio's
    /// `gather(..., return_exceptions=True)`).
    pub fn return_exceptions(self) -> GatherResults<T> {
        GatherResults { core: self.core }
    }
}

impl<T: Outcome> Future for Gather<T> {
    type Output = Result<Vec<T::Ok>, ChildError<T::Err>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.core.poll_step(cx, true).map(|step| match step {
            Step::All(results) => results.into_iter().map(flatten).collect(),
            Step::Failed(r) => Err(flatten(r).err().expect("gather fails only on failures")),
        })
    }
}

/// The future returned by [`Gather::return_exceptions`].
#[must_use = "the children run anyway; await the gather to get their results"]
pub struct GatherResults<T> {
    core: GatherCore<T>,
}

impl<T: Outcome> Future for GatherResults<T> {
    type Output = Vec<Result<T::Ok, ChildError<T::Err>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.core.poll_step(cx, false).map(|step| match step {
            Step::All(results) => results.into_iter().map(flatten).collect(),
            Step::Failed(_) => unreachable!("return_exceptions never fails fast"),
        })
    }
}
