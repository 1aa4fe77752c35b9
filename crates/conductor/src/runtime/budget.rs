//! The cooperative budget: a task may perform `BUDGET` runtime operations (channel receives,
//! IO, joins) that complete at once before it must yield, so one busy task cannot starve IO and
//! timers. Operations that would complete call `poll_proceed` first.

use std::task::{Context, Poll};

use crate::context;

/// Spends one unit of the running task's budget; `Pending` (after waking the task) when it is
/// spent, which makes the task yield to the loop. Outside a loop it always proceeds.
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    context::poll_budget(cx)
}

/// Spends one unit of budget, yielding to the loop when it is spent. Long loops of work that
/// never waits can call this to stay fair to the other tasks.
pub async fn consume_budget() {
    std::future::poll_fn(poll_proceed).await
}
