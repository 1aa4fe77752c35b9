//! `SettableFuture`: asyncio's `Future` (`loop.create_future()`).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::state::{FutureState, Outcome};
use super::wait::{StateWait, Waited};
use crate::cancel::{Awaited, CancelAwaited, Cancelled, Target};
use crate::task::{CallbackId, InvalidState};

/// The error type a [`SettableFuture`] holds unless told otherwise: any error, shared so that
/// every awaiter gets it.
pub type SharedError = Arc<dyn std::error::Error + Send + Sync>;

/// A future whose outcome is set by hand: asyncio's `Future`, as `loop.create_future()` makes it.
///
/// Any number of tasks may await it (each awaits a clone, or `&fut`) and each gets the result;
/// done callbacks run from the loop in the order they were added, after the waiters registered
/// before them, as in asyncio. Cancelling a task that awaits it cancels the future, as asyncio's
/// `Task.cancel` cancels the future the task waits on.
///
/// It belongs to the loop that created it (it is `!Send`); other threads set it through
/// [`threadsafe`](Self::threadsafe).
///
/// Named for what it adds to a Rust future: `Future` is Rust's trait.
///
/// ```
/// use std::future::IntoFuture;
/// use std::time::Duration;
/// use conductor::future::{create_future, FutureError};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let fut = create_future::<i32, String>();
/// let setter = fut.clone();
/// conductor::call_later(Duration::from_secs(1), move || setter.set_result(42).unwrap());
/// let waiters = [fut.clone(), fut.clone()].map(|f| conductor::spawn(f.into_future()));
/// for w in waiters {
///     assert_eq!(w.await.unwrap(), Ok(42));
/// }
/// assert_eq!(fut.result(), Ok(42));
/// assert!(fut.set_result(7).is_err()); // set once
///
/// let failed = create_future::<i32, String>();
/// failed.set_exception("no luck".to_string()).unwrap();
/// assert_eq!(failed.await, Err(FutureError::Failed("no luck".to_string())));
/// # });
/// ```
pub struct SettableFuture<T, E = SharedError> {
    state: Rc<FutureState<T, E>>,
}

/// A new pending future (asyncio's `loop.create_future()`).
pub fn create_future<T, E>() -> SettableFuture<T, E> {
    SettableFuture::new()
}

/// Why a [`SettableFuture`] gave no value.
#[derive(Debug, Clone, PartialEq)]
pub enum FutureError<E> {
    /// It was cancelled (asyncio's `CancelledError`).
    Cancelled(Cancelled),
    /// It was given an error by [`SettableFuture::set_exception`].
    Failed(E),
    /// It is not done yet (asyncio's `InvalidStateError`), from `result()` or `exception()`.
    InvalidState(InvalidState),
}

impl<E: fmt::Display> fmt::Display for FutureError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled(c) => fmt::Display::fmt(c, f),
            FutureError::Failed(e) => fmt::Display::fmt(e, f),
            FutureError::InvalidState(s) => fmt::Display::fmt(s, f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for FutureError<E> {}

impl<T, E> Clone for SettableFuture<T, E> {
    fn clone(&self) -> Self {
        SettableFuture {
            state: self.state.clone(),
        }
    }
}

impl<T, E> Default for SettableFuture<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> SettableFuture<T, E> {
    /// A new pending future.
    pub fn new() -> Self {
        SettableFuture {
            state: Rc::new(FutureState::default()),
        }
    }

    /// Whether it has its outcome (a value, an error, or a cancellation): asyncio's `done()`.
    pub fn is_done(&self) -> bool {
        self.state.is_done()
    }

    /// asyncio's name for [`is_done`](Self::is_done).
    #[inline]
    pub fn done(&self) -> bool {
        self.is_done()
    }

    /// Whether it was cancelled: asyncio's `cancelled()`.
    pub fn is_cancelled(&self) -> bool {
        self.state
            .with_outcome(|o| matches!(o, Some(Outcome::Cancelled(_))))
    }

    /// asyncio's name for [`is_cancelled`](Self::is_cancelled).
    #[inline]
    pub fn cancelled(&self) -> bool {
        self.is_cancelled()
    }

    /// Whether two handles are the same future.
    pub fn same_future(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.state, &other.state)
    }
}

impl<T: 'static, E: 'static> SettableFuture<T, E> {
    /// Gives the future its value and tells its waiters and callbacks (asyncio's `set_result`).
    ///
    /// # Errors
    /// [`InvalidState::AlreadyDone`] when it already has an outcome (the value is dropped).
    pub fn set_result(&self, value: T) -> Result<(), InvalidState> {
        self.state.complete(Outcome::Value(value))
    }

    /// Gives the future an error (asyncio's `set_exception`).
    ///
    /// # Errors
    /// [`InvalidState::AlreadyDone`] when it already has an outcome.
    pub fn set_exception(&self, error: E) -> Result<(), InvalidState> {
        self.state.complete(Outcome::Failed(error))
    }

    /// Cancels the future (asyncio's `cancel()`): false when it is already done.
    pub fn cancel(&self) -> bool {
        self.state.complete(Outcome::Cancelled(None)).is_ok()
    }

    /// [`cancel`](Self::cancel) with a message, which awaiters find in their `Cancelled`.
    pub fn cancel_with(&self, msg: impl Into<Arc<str>>) -> bool {
        self.state
            .complete(Outcome::Cancelled(Some(msg.into())))
            .is_ok()
    }

    /// Runs `f` with the future once it is done, from the loop (`call_soon`), never inline; at
    /// once (at the next iteration) when it is done already. asyncio's `add_done_callback`.
    #[track_caller]
    pub fn add_done_callback(&self, f: impl FnOnce(&SettableFuture<T, E>) + 'static) -> CallbackId {
        let id = self
            .state
            .add_callback(Box::new(move |state: &Rc<FutureState<T, E>>| {
                f(&SettableFuture {
                    state: state.clone(),
                })
            }));
        CallbackId::new(id)
    }

    /// Removes a done callback that has not been scheduled yet; returns whether it was found.
    pub fn remove_done_callback(&self, id: CallbackId) -> bool {
        self.state.remove_callback(id.get())
    }

    /// A `Send` handle that sets this future from another thread: the outcome travels to the
    /// loop with `call_soon_threadsafe` (asyncio's `loop.call_soon_threadsafe(fut.set_result, v)`).
    ///
    /// # Panics
    /// Outside a running conductor loop.
    pub fn threadsafe(&self) -> super::FutureSetter<T, E>
    where
        T: Send,
        E: Send,
    {
        super::FutureSetter::new(self.clone())
    }

    fn wait(&self) -> FutureWait<T, E> {
        let awaited = Awaited::Future(self.state.clone() as Rc<dyn CancelAwaited>);
        FutureWait(StateWait::new(self.state.clone(), awaited))
    }
}

impl<T: Clone, E: Clone> SettableFuture<T, E> {
    /// The value (asyncio's `result()`), cloned: the future keeps it for every other reader.
    ///
    /// # Errors
    /// [`FutureError::InvalidState`] while pending; the error or the cancellation otherwise.
    pub fn result(&self) -> Result<T, FutureError<E>> {
        self.state.with_outcome(|o| match o {
            None => Err(FutureError::InvalidState(InvalidState::NotDone)),
            Some(Outcome::Value(v)) => Ok(v.clone()),
            Some(Outcome::Failed(e)) => Err(FutureError::Failed(e.clone())),
            Some(Outcome::Cancelled(m)) => Err(cancelled(m)),
        })
    }

    /// The error, or `None` when the future has a value (asyncio's `exception()`).
    ///
    /// # Errors
    /// [`FutureError::InvalidState`] while pending; [`FutureError::Cancelled`] when cancelled.
    pub fn exception(&self) -> Result<Option<E>, FutureError<E>> {
        self.state.with_outcome(|o| match o {
            None => Err(FutureError::InvalidState(InvalidState::NotDone)),
            Some(Outcome::Value(_)) => Ok(None),
            Some(Outcome::Failed(e)) => Ok(Some(e.clone())),
            Some(Outcome::Cancelled(m)) => Err(cancelled(m)),
        })
    }
}

fn cancelled<E>(msg: &Option<Arc<str>>) -> FutureError<E> {
    FutureError::Cancelled(Cancelled::new(msg.clone(), Target::Task))
}

impl<T: 'static, E: 'static> CancelAwaited for FutureState<T, E> {
    fn cancel_awaited(self: Rc<Self>, msg: Option<Arc<str>>) -> bool {
        self.complete(Outcome::Cancelled(msg)).is_ok()
    }
}

impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for SettableFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.state.with_outcome(|o| {
            let mut d = f.debug_struct("SettableFuture");
            match o {
                None => d.field("state", &"pending"),
                Some(Outcome::Value(v)) => d.field("result", v),
                Some(Outcome::Failed(e)) => d.field("exception", e),
                Some(Outcome::Cancelled(m)) => d.field("cancelled", m),
            };
            d.finish()
        })
    }
}

/// The future of awaiting a [`SettableFuture`]: its value, cloned for each awaiter.
#[must_use = "futures do nothing unless awaited"]
pub struct FutureWait<T, E>(StateWait<T, E>);

impl<T: Clone + 'static, E: Clone + 'static> Future for FutureWait<T, E> {
    type Output = Result<T, FutureError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_wait(cx).map(|w| match w {
            Waited::Value(v) => Ok(v),
            Waited::Failed(e) => Err(FutureError::Failed(e)),
            Waited::Cancelled(c) => Err(FutureError::Cancelled(c)),
        })
    }
}

impl<T: Clone + 'static, E: Clone + 'static> IntoFuture for SettableFuture<T, E> {
    type Output = Result<T, FutureError<E>>;
    type IntoFuture = FutureWait<T, E>;

    fn into_future(self) -> FutureWait<T, E> {
        self.wait()
    }
}

impl<T: Clone + 'static, E: Clone + 'static> IntoFuture for &SettableFuture<T, E> {
    type Output = Result<T, FutureError<E>>;
    type IntoFuture = FutureWait<T, E>;

    fn into_future(self) -> FutureWait<T, E> {
        self.wait()
    }
}
