//! `gather!`: futures of different types, each run as a task, into a tuple of their outputs.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::cancel::{self, Kind, Mark, ScopeHandle};
use crate::task::{Task, TaskError, TaskState};

/// Gathers futures of different types; see [`gather!`](crate::gather!).
#[must_use = "the children run anyway; await the gather to get their results"]
pub struct GatherTuple<S: TupleSlots> {
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
}

impl<T: 'static> TupleSlot<T> {
    /// The gather is gone before this child's result was read: read it when the child ends, as
    /// asyncio's gather retrieves every child's exception, so that a late panic is not reported
    /// as never retrieved.
    fn retrieve_later(&mut self) {
        if let TupleSlot::Running(task) = std::mem::replace(self, TupleSlot::Taken) {
            let mut task = task;
            if task.is_done() {
                let _ = task.result();
            } else {
                let watch = task.task_ref();
                watch.add_done_callback(move |_| {
                    let _ = task.result();
                });
            }
        }
    }

    fn take(&mut self) -> T {
        match std::mem::replace(self, TupleSlot::Taken) {
            TupleSlot::Done(v) => v,
            _ => unreachable!("taken only when every slot is done"),
        }
    }
}

/// What [`gather!`](crate::gather!) was given for one slot, before it knows whether it is a task:
/// a `Task` is watched as it is, anything else is spawned (autoref dispatch on the concrete
/// type at the macro's call site: stable Rust has no specialisation).
#[doc(hidden)]
pub struct SlotOf<T>(Cell<Option<T>>);

impl<T> SlotOf<T> {
    pub fn new(value: T) -> Self {
        SlotOf(Cell::new(Some(value)))
    }

    fn take(&self) -> T {
        self.0.take().expect("a gather! slot is made once")
    }
}

/// A `Task` given to [`gather!`](crate::gather!): gathered as it is, not awaited by a new task.
#[doc(hidden)]
pub trait TaskIntoSlot {
    type Out;
    fn make_slot(&self) -> TupleSlot<Self::Out>;
}

impl<T> TaskIntoSlot for SlotOf<Task<T>> {
    type Out = T;
    fn make_slot(&self) -> TupleSlot<T> {
        TupleSlot::Running(self.take())
    }
}

/// Any other future given to [`gather!`](crate::gather!): spawned as a task.
#[doc(hidden)]
pub trait FutureIntoSlot {
    type Out;
    fn make_slot(&self) -> TupleSlot<Self::Out>;
}

impl<F> FutureIntoSlot for &SlotOf<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    type Out = F::Output;
    #[track_caller]
    fn make_slot(&self) -> TupleSlot<F::Output> {
        TupleSlot::spawn(self.take())
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
    fn retrieve_all_later(&mut self);
}

macro_rules! tuple_slots {
    ($n:literal; $($t:ident $i:tt),+) => {
        impl<$($t: 'static),+> TupleSlots for ($(TupleSlot<$t>,)+) {
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

            fn retrieve_all_later(&mut self) {
                $( self.$i.retrieve_later(); )+
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

impl<S: TupleSlots> Drop for GatherTuple<S> {
    fn drop(&mut self) {
        self.slots.retrieve_all_later();
    }
}

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
/// A `Task` given to it is gathered as it is (its output `T` in the tuple, its failure the
/// gather's), as asyncio's gather takes tasks and futures as they are. The outputs are returned
/// as they are, `Err`s included: the gather fails on a panic or a cancellation only, since the
/// slots' error types differ (`gather` over one output type fails on an `Err` too).
///
/// ```
/// # conductor::run(async {
/// let (n, s) = conductor::gather!(async { 1 }, async { "two" }).await.unwrap();
/// assert_eq!((n, s), (1, "two"));
/// let task = conductor::spawn(async { 3.0 });
/// let (x, n) = conductor::gather!(task, async { 4 }).await.unwrap();
/// assert_eq!((x, n), (3.0, 4)); // not Ok(3.0): the task's own result
/// # });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr_2021),+ $(,)?) => {
        $crate::group::GatherTuple::new(($({
            #[allow(unused_imports)]
            use $crate::group::{FutureIntoSlot as _, TaskIntoSlot as _};
            (&$crate::group::SlotOf::new($future)).make_slot()
        },)+))
    };
}
