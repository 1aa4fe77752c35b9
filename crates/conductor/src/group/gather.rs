//! `gather`: run futures concurrently as tasks and collect their results in argument order.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use crate::cancel::{self, Kind, Mark, ScopeHandle};
use crate::task::{Task, TaskError, TaskRef, TaskState};

/// Runs every future of `futures` as a task, at once, and resolves to their outputs in the order
/// given (asyncio's `gather(*aws)`).
///
/// As in asyncio, the first child that fails (panics, or is cancelled) makes the gather fail
/// with that error while the other children keep running; [`Gather::return_exceptions`] collects
/// every outcome instead. Cancelling the task that awaits the gather cancels every child, waits
/// for them, and then cancels the awaiting task.
///
/// ```
/// use std::time::Duration;
/// # conductor::run(async {
/// let results = conductor::gather((1..=3).map(|i| async move {
///     conductor::sleep(Duration::from_millis(10 * (4 - i))).await;
///     i * 10
/// }))
/// .await
/// .unwrap();
/// assert_eq!(results, [10, 20, 30]); // argument order, not completion order
/// # });
/// ```
#[track_caller]
pub fn gather<I, F>(futures: I) -> Gather<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    Gather {
        core: GatherCore::spawn(futures, |_| false),
    }
}

/// Like [`gather`], for futures that return `Result`: the first `Err` (or failed task) ends the
/// gather at once with that error, and the other children keep running (asyncio's default
/// `gather` behaviour, with errors as values).
#[track_caller]
pub fn try_gather<I, F, T, E>(futures: I) -> TryGather<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: 'static,
{
    TryGather {
        core: GatherCore::spawn(futures, |r| matches!(r, Ok(Err(_)))),
    }
}

/// Why a [`try_gather`] failed.
pub enum GatherError<E> {
    /// A child returned this error.
    Failed(E),
    /// A child panicked or was cancelled.
    Task(TaskError),
}

impl<E: fmt::Debug> fmt::Debug for GatherError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatherError::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
            GatherError::Task(e) => f.debug_tuple("Task").field(e).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for GatherError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatherError::Failed(e) => write!(f, "a gathered task failed: {e}"),
            GatherError::Task(e) => write!(f, "a gathered task did not finish: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GatherError<E> {}

/// What the children share with the gather.
struct State<T> {
    results: RefCell<Vec<Option<Result<T, TaskError>>>>,
    remaining: Cell<usize>,
    first_failure: Cell<Option<usize>>,
    waker: RefCell<Option<Waker>>,
    fails: fn(&Result<T, TaskError>) -> bool,
}

impl<T: 'static> State<T> {
    /// Schedules [`finish`](Self::finish) for the next iteration: the gather hears of a child's
    /// end from a callback, as asyncio's gather from its children's done callbacks, so the
    /// awaiting task resumes in the same iteration as asyncio's.
    fn report(self: &Rc<Self>, index: usize, result: Result<T, TaskError>) {
        let state = self.clone();
        crate::runtime::call_soon_internal(Box::new(move || state.finish(index, result)));
    }
}

impl<T> State<T> {
    fn finish(&self, index: usize, result: Result<T, TaskError>) {
        let failed = result.is_err() || (self.fails)(&result);
        self.results.borrow_mut()[index] = Some(result);
        self.remaining.set(self.remaining.get() - 1);
        let newly_failed = failed && self.first_failure.get().is_none();
        if newly_failed {
            self.first_failure.set(Some(index));
        }
        if newly_failed || self.remaining.get() == 0 {
            if let Some(w) = self.waker.borrow_mut().take() {
                w.wake();
            }
        }
    }
}

pin_project! {
    /// One gathered future, run as its own task: reports its outcome to the shared state,
    /// including a panic (caught here) or a cancellation (seen when it is dropped unfinished).
    struct Child<F: Future>
    where
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
    F::Output: 'static,
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

/// The machinery shared by [`Gather`], [`GatherResults`] and [`TryGather`].
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

impl<T: 'static> GatherCore<T> {
    #[track_caller]
    fn spawn<I, F>(futures: I, fails: fn(&Result<T, TaskError>) -> bool) -> Self
    where
        I: IntoIterator<Item = F>,
        F: Future<Output = T> + 'static,
    {
        let futures: Vec<F> = futures.into_iter().collect();
        let n = futures.len();
        let state = Rc::new(State {
            results: RefCell::new((0..n).map(|_| None).collect()),
            remaining: Cell::new(n),
            first_failure: Cell::new(None),
            waker: RefCell::new(None),
            fails,
        });
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
        GatherCore {
            state,
            children,
            scope: None,
            cancelling: None,
            raised: false,
        }
    }
}

impl<T> GatherCore<T> {
    fn poll_step(&mut self, cx: &mut Context<'_>, fail_fast: bool) -> Poll<Step<T>> {
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
        if fail_fast {
            if let Some(i) = state.first_failure.get() {
                self.scope = None;
                let failed = state.results.borrow_mut()[i].take();
                return Poll::Ready(Step::Failed(failed.expect("failure recorded")));
            }
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
    /// Collects every child's outcome instead of failing on the first error (asyncio's
    /// `gather(..., return_exceptions=True)`).
    pub fn return_exceptions(self) -> GatherResults<T> {
        GatherResults { core: self.core }
    }
}

impl<T> Future for Gather<T> {
    type Output = Result<Vec<T>, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.core.poll_step(cx, true).map(|step| match step {
            Step::All(results) => results.into_iter().collect(),
            Step::Failed(r) => Err(r.err().expect("gather fails only on errors")),
        })
    }
}

/// The future returned by [`Gather::return_exceptions`].
#[must_use = "the children run anyway; await the gather to get their results"]
pub struct GatherResults<T> {
    core: GatherCore<T>,
}

impl<T> Future for GatherResults<T> {
    type Output = Vec<Result<T, TaskError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.core.poll_step(cx, false).map(|step| match step {
            Step::All(results) => results,
            Step::Failed(_) => unreachable!("return_exceptions never fails fast"),
        })
    }
}

/// The future returned by [`try_gather`].
#[must_use = "the children run anyway; await the gather to get their results"]
pub struct TryGather<T, E> {
    core: GatherCore<Result<T, E>>,
}

impl<T, E> Future for TryGather<T, E> {
    type Output = Result<Vec<T>, GatherError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.core.poll_step(cx, true).map(|step| match step {
            Step::All(results) => results
                .into_iter()
                .map(|r| match r {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(e)) => Err(GatherError::Failed(e)),
                    Err(e) => Err(GatherError::Task(e)),
                })
                .collect(),
            Step::Failed(Ok(Err(e))) => Err(GatherError::Failed(e)),
            Step::Failed(Err(e)) => Err(GatherError::Task(e)),
            Step::Failed(Ok(Ok(_))) => unreachable!("a success is not a failure"),
        })
    }
}

/// Gathers futures of different types; see [`gather!`](crate::gather!).
#[must_use = "the children run anyway; await the gather to get their results"]
pub struct GatherTuple<S> {
    slots: S,
    shared: Option<Rc<TupleShared>>,
    scope: Option<ScopeHandle>,
    cancelling: Option<Mark>,
    raised: bool,
}

/// What the children of a [`gather!`](crate::gather!) tell it, from their done callbacks.
#[doc(hidden)]
#[derive(Default)]
pub struct TupleShared {
    /// Bit `i`: child `i` is done and the gather has heard of it.
    reported: Cell<u32>,
    /// The first child the gather heard of that panicked or was cancelled.
    first_failure: Cell<Option<u32>>,
    waker: RefCell<Option<Waker>>,
}

/// A child of [`gather!`](crate::gather!): its task, then its output.
#[doc(hidden)]
pub enum TupleSlot<T> {
    Running(Task<T>),
    Done(T),
    Taken,
}

impl<T> TupleSlot<T> {
    #[track_caller]
    pub fn spawn<F>(future: F) -> Self
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        TupleSlot::Running(crate::spawn(future))
    }

    /// Asks the child's task to report its end, from a done callback (as asyncio's gather
    /// hears of its children), so the gather resumes in the same iteration as asyncio's.
    fn watch(&self, index: u32, shared: &Rc<TupleShared>) {
        if let TupleSlot::Running(task) = self {
            let shared = shared.clone();
            task.add_done_callback(move |t| {
                shared.reported.set(shared.reported.get() | 1 << index);
                let failed = matches!(t.state(), TaskState::Failed | TaskState::Cancelled);
                if failed && shared.first_failure.get().is_none() {
                    shared.first_failure.set(Some(index));
                }
                if let Some(w) = shared.waker.borrow_mut().take() {
                    w.wake();
                }
            });
        }
    }

    /// Whether the child is done, its output taken out of its task.
    fn collect(&mut self, reported: bool) -> bool {
        if let TupleSlot::Running(task) = self {
            if !reported {
                return false;
            }
            match task.result() {
                Ok(v) => *self = TupleSlot::Done(v),
                Err(_) => unreachable!("a failed child is reported as the first failure"),
            }
        }
        true
    }

    /// The error of a child that was reported failed.
    fn error(&mut self) -> TaskError {
        match self {
            TupleSlot::Running(task) => task.result().err().expect("reported failed"),
            _ => unreachable!("a failed child has no output"),
        }
    }

    fn cancel(&self) {
        if let TupleSlot::Running(task) = self {
            task.cancel();
        }
    }

    fn take(&mut self) -> T {
        match std::mem::replace(self, TupleSlot::Taken) {
            TupleSlot::Done(v) => v,
            _ => unreachable!("taken only when every slot is done"),
        }
    }
}

/// Tuples of [`TupleSlot`]s (implemented up to 12 elements).
#[doc(hidden)]
pub trait TupleSlots {
    type Output;
    /// The bits of `TupleShared::reported` once every child reported.
    const ALL: u32;
    fn watch_all(&self, shared: &Rc<TupleShared>);
    /// Takes the outputs of the children reported done; true when all are.
    fn collect_all(&mut self, reported: u32) -> bool;
    /// The error of child `index`, reported failed.
    fn error(&mut self, index: u32) -> TaskError;
    fn cancel_all(&self);
    fn take_all(&mut self) -> Self::Output;
}

macro_rules! tuple_slots {
    ($n:literal; $($t:ident $i:tt),+) => {
        impl<$($t),+> TupleSlots for ($(TupleSlot<$t>,)+) {
            type Output = ($($t,)+);
            const ALL: u32 = (1 << $n) - 1;

            fn watch_all(&self, shared: &Rc<TupleShared>) {
                $( self.$i.watch($i, shared); )+
            }

            fn collect_all(&mut self, reported: u32) -> bool {
                let mut all = true;
                $( all &= self.$i.collect(reported & 1 << $i != 0); )+
                all
            }

            fn error(&mut self, index: u32) -> TaskError {
                match index {
                    $( $i => self.$i.error(), )+
                    _ => unreachable!("no child {index}"),
                }
            }

            fn cancel_all(&self) {
                $( self.$i.cancel(); )+
            }

            fn take_all(&mut self) -> Self::Output {
                ($( self.$i.take(), )+)
            }
        }
    };
}

tuple_slots!(1; A 0);
tuple_slots!(2; A 0, B 1);
tuple_slots!(3; A 0, B 1, C 2);
tuple_slots!(4; A 0, B 1, C 2, D 3);
tuple_slots!(5; A 0, B 1, C 2, D 3, E 4);
tuple_slots!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_slots!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_slots!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_slots!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_slots!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_slots!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_slots!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

impl<S: TupleSlots> GatherTuple<S> {
    #[doc(hidden)]
    pub fn new(slots: S) -> Self {
        GatherTuple {
            slots,
            shared: None,
            scope: None,
            cancelling: None,
            raised: false,
        }
    }
}

impl<S: TupleSlots + Unpin> Future for GatherTuple<S> {
    type Output = Result<S::Output, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.raised {
            return Poll::Pending;
        }
        let shared = this.shared.get_or_insert_with(|| {
            let shared = Rc::new(TupleShared::default());
            this.slots.watch_all(&shared);
            shared
        });
        *shared.waker.borrow_mut() = Some(cx.waker().clone());
        let reported = shared.reported.get();
        match &this.scope {
            None => this.scope = ScopeHandle::register(Kind::Handler, cx.waker()),
            Some(scope) => {
                if let Some(mark) = scope.take_mark() {
                    this.slots.cancel_all();
                    this.cancelling = Some(mark);
                }
            }
        }
        if let Some(mark) = &this.cancelling {
            if reported == S::ALL {
                this.raised = true;
                this.scope = None;
                if let Some(me) = cancel::current_task() {
                    cancel::raise(me, mark.target, mark.msg.clone());
                }
            }
            return Poll::Pending;
        }
        if let Some(index) = shared.first_failure.get() {
            this.scope = None;
            return Poll::Ready(Err(this.slots.error(index)));
        }
        if this.slots.collect_all(reported) {
            this.scope = None;
            return Poll::Ready(Ok(this.slots.take_all()));
        }
        Poll::Pending
    }
}

/// Runs futures of different types concurrently, each as a task, and resolves to a tuple of
/// their outputs: `Result<(A, B, ...), TaskError>` (asyncio's `gather(a, b, ...)`, up to 12).
///
/// ```
/// # conductor::run(async {
/// let (n, s) = conductor::gather!(async { 1 }, async { "two" }).await.unwrap();
/// assert_eq!((n, s), (1, "two"));
/// # });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::group::GatherTuple::new(($($crate::group::TupleSlot::spawn($future),)+))
    };
}
