//! `gather_inline`: gather futures that borrow locals, polled inside the calling task.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::branches::{Branches, Ended};
use super::gather::{ChildError, flatten};
use crate::task::{Outcome, TaskError};

/// [`gather`](crate::gather) for futures that borrow the caller's locals: they are polled
/// concurrently inside the calling task instead of being spawned, so they need not be
/// `'static` (asyncio's `gather(fetch(client, a), fetch(client, b))` over a local `client`).
///
/// Results, failures and [`return_exceptions`](GatherInline::return_exceptions) are `gather`'s:
/// the values in argument order, or the first failure (an `Err` output, or a panic, caught and
/// reported as [`ChildError::Task`]). One difference, because the futures live inside this one:
/// on the first failure the others cannot keep running after it returns, so they are
/// **cancelled and awaited**, as a `TaskGroup` does with its children: each gets the
/// cancellation at its suspension point (its `catch_cancel` cleanup runs, with awaits; one
/// without is dropped there), then the failure is returned.
///
/// A cancellation of the calling task reaches every branch: the innermost `catch_cancel` of a
/// branch that has one, the branch itself otherwise (it ends there, as a task would). Once every
/// branch has ended, the gather passes the cancellation on, as a cancelled `gather` raises
/// `CancelledError` once its children are done; a re-raise in one branch never reaches a sibling
/// that is still cleaning up.
///
/// Each wake-up polls every branch still running, so this suits a handful to a few hundred
/// futures; spawn (and [`gather`](crate::gather)) more than that.
///
/// ```
/// use std::cell::RefCell;
/// use std::time::Duration;
///
/// struct Client {
///     requests: RefCell<u32>,
/// }
///
/// impl Client {
///     async fn fetch(&self, page: u64) -> Result<u64, String> {
///         conductor::sleep(Duration::from_millis(10 * page)).await;
///         *self.requests.borrow_mut() += 1;
///         Ok(page * 100)
///     }
/// }
///
/// # conductor::run(async {
/// let client = Client { requests: RefCell::new(0) }; // a local, borrowed by every branch
/// let pages = conductor::gather_inline([3, 1, 2].map(|p| client.fetch(p))).await.unwrap();
/// assert_eq!(pages, [300, 100, 200]);
/// assert_eq!(*client.requests.borrow(), 3);
/// # });
/// ```
pub fn gather_inline<I, F>(futures: I) -> GatherInline<F>
where
    I: IntoIterator<Item = F>,
    F: Future,
    F::Output: Outcome,
{
    GatherInline {
        core: InlineCore {
            branches: Branches::new(futures),
            first_failure: None,
        },
    }
}

struct InlineCore<F: Future> {
    branches: Branches<F>,
    first_failure: Option<usize>,
}

/// Every branch ended (no outside cancellation): the first failure, if failing fast found one.
struct AllEnded(Option<usize>);

impl<F: Future> InlineCore<F>
where
    F::Output: Outcome,
{
    fn poll_all(&mut self, cx: &mut Context<'_>, fail_fast: bool) -> Poll<AllEnded> {
        if self.branches.raised() {
            return Poll::Pending;
        }
        let mut all_ended = self.branches.poll(cx).is_ready();
        let ended = self.branches.take_ended();
        if fail_fast && self.first_failure.is_none() {
            let failed = ended.into_iter().find(|&i| match self.branches.get(i) {
                Some(Ended::Value(v)) => v.is_failure(),
                Some(Ended::Panicked(_)) => true,
                _ => false,
            });
            if let Some(i) = failed {
                self.first_failure = Some(i);
                // The others see the cancellation at their next poll (the delivery woke us).
                self.branches.cancel_all_but(Some(i));
                all_ended = self.branches.running() == 0;
            }
        }
        if !all_ended {
            return Poll::Pending;
        }
        if self.branches.outer() {
            self.branches.raise_outer();
            return Poll::Pending;
        }
        Poll::Ready(AllEnded(self.first_failure))
    }

    fn take(&mut self, i: usize) -> Result<F::Output, TaskError> {
        match self.branches.take(i) {
            Some(Ended::Value(v)) => Ok(v),
            Some(Ended::Panicked(payload)) => Err(TaskError::Panicked(payload)),
            // Cancelled by this gather (after the first failure) or taken: no value.
            _ => Err(TaskError::cancelled(None)),
        }
    }
}

/// The future returned by [`gather_inline`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherInline<F: Future> {
    core: InlineCore<F>,
}

impl<F: Future> GatherInline<F> {
    /// Collects every branch's outcome instead of failing on the first failure (asyncio's
    /// `gather(..., return_exceptions=True)`); nothing is cancelled then.
    pub fn return_exceptions(self) -> GatherInlineResults<F> {
        GatherInlineResults { core: self.core }
    }
}

impl<F: Future> Unpin for GatherInline<F> {}

impl<F: Future> Future for GatherInline<F>
where
    F::Output: Outcome,
{
    type Output = Result<Vec<<F::Output as Outcome>::Ok>, ChildError<<F::Output as Outcome>::Err>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let core = &mut self.core;
        let AllEnded(failure) = std::task::ready!(core.poll_all(cx, true));
        if let Some(i) = failure {
            let failed = flatten(core.take(i));
            return Poll::Ready(Err(failed.err().expect("a failure is not a value")));
        }
        let n = core.branches.len();
        Poll::Ready((0..n).map(|i| flatten(core.take(i))).collect())
    }
}

/// The future returned by [`GatherInline::return_exceptions`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherInlineResults<F: Future> {
    core: InlineCore<F>,
}

impl<F: Future> Unpin for GatherInlineResults<F> {}

impl<F: Future> Future for GatherInlineResults<F>
where
    F::Output: Outcome,
{
    type Output = Vec<Result<<F::Output as Outcome>::Ok, ChildError<<F::Output as Outcome>::Err>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let core = &mut self.core;
        std::task::ready!(core.poll_all(cx, false));
        let n = core.branches.len();
        Poll::Ready((0..n).map(|i| flatten(core.take(i))).collect())
    }
}
