//! `race`: the first future to finish wins; the others are cancelled and awaited.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::branches::{Branches, Ended};

/// Polls `futures` concurrently in the calling task and resolves to the index and output of the
/// first to finish (a `select`; asyncio writes it as `wait(..., FIRST_COMPLETED)` followed by
/// cancelling the pending ones).
///
/// The others are **cancelled, and awaited**: each gets a cancellation at its current suspension
/// point, exactly as a cancelled task does (its `catch_cancel` cleanup runs, with awaits; a
/// branch without one is dropped there), and `race` returns once they have all ended. Why not
/// just drop them (as `tokio::select!` does): conductor promises that cancelled code can clean
/// up after itself, and a loser that started a write or holds a lease would lose that cleanup;
/// the wait is only as long as the cleanup that the losers' own code asks for. Why not leave
/// them running (as `wait` does): they are polled inside this future and may borrow the
/// caller's locals, so they cannot outlive it; spawn them and use [`wait`](crate::wait) to keep
/// them running. Futures of different types race as tasks (`wait` over `&dyn Waitable`), or as
/// futures boxed to one output type.
///
/// A panic in the winner is resumed once the losers have ended. A cancellation of the calling
/// task reaches every branch: its innermost `catch_cancel`, or the branch itself, which ends
/// there; the race then ends cancelled once every branch has ended.
///
/// # Panics
/// When `futures` is empty (nothing could win), as `futures::future::select_all` does.
///
/// ```
/// use std::time::Duration;
/// use conductor::{race, sleep};
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let name = String::from("local"); // borrowed, not moved: nothing is spawned
/// let (winner, out) = race([2, 1, 3].map(|s| {
///     let name = &name;
///     async move {
///         sleep(Duration::from_secs(s)).await;
///         format!("{name} {s}")
///     }
/// }))
/// .await;
/// assert_eq!((winner, out.as_str()), (1, "local 1"));
/// # });
/// ```
#[track_caller]
pub fn race<I, F>(futures: I) -> Race<F>
where
    I: IntoIterator<Item = F>,
    F: Future,
{
    let branches = Branches::new(futures);
    assert!(branches.len() > 0, "race of no futures: nothing can win");
    Race {
        branches,
        winner: None,
    }
}

/// The future returned by [`race`].
#[must_use = "futures do nothing unless awaited"]
pub struct Race<F: Future> {
    branches: Branches<F>,
    winner: Option<usize>,
}

impl<F: Future> Unpin for Race<F> {}

impl<F: Future> Future for Race<F> {
    type Output = (usize, F::Output);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.branches.raised() {
            return Poll::Pending;
        }
        let mut all_ended = this.branches.poll(cx).is_ready();
        if this.winner.is_none() {
            let first = this
                .branches
                .take_ended()
                .into_iter()
                .find(|&i| !matches!(this.branches.get(i), Some(Ended::Cancelled)));
            if let Some(i) = first {
                this.winner = Some(i);
                // The losers see the cancellation at their next poll (the delivery woke us).
                this.branches.cancel_all_but(Some(i));
                all_ended = this.branches.running() == 0;
            }
        }
        if !all_ended {
            return Poll::Pending;
        }
        if this.branches.outer() {
            this.branches.raise_outer();
            return Poll::Pending;
        }
        let winner = this
            .winner
            .expect("every branch ended, and not all by cancellation");
        match this.branches.take(winner) {
            Some(Ended::Value(v)) => Poll::Ready((winner, v)),
            Some(Ended::Panicked(payload)) => std::panic::resume_unwind(payload),
            _ => unreachable!("the winner ended with a value or a panic"),
        }
    }
}
