//! Awaiting a [`FutureState`] from a task: a waiter in its listener list, and a forwarding node in
//! the awaiting task's cancellation scopes, so that cancelling the task cancels what it awaits
//! (asyncio's `Task.cancel` cancels `_fut_waiter`).

use std::rc::Rc;
use std::task::{Context, Poll};

use super::state::{FutureState, Outcome};
use crate::cancel::{self, Awaited, Kind, ScopeHandle};
use crate::context;

/// What an await of a finished state gives, before the caller maps it to its own error type.
pub(crate) enum Waited<T, E> {
    Value(T),
    Failed(E),
    Cancelled(crate::Cancelled),
}

/// One awaiter of a shared outcome.
pub(crate) struct StateWait<T, E> {
    state: Rc<FutureState<T, E>>,
    /// What a cancellation of the awaiting task is passed on to.
    awaited: Awaited,
    waiter: Option<u64>,
    scope: Option<ScopeHandle>,
    /// The awaiting task's cancellation went on from here; this future never completes.
    raised: bool,
}

impl<T, E> StateWait<T, E> {
    pub(crate) fn new(state: Rc<FutureState<T, E>>, awaited: Awaited) -> Self {
        StateWait {
            state,
            awaited,
            waiter: None,
            scope: None,
            raised: false,
        }
    }
}

impl<T: Clone + 'static, E: Clone + 'static> StateWait<T, E> {
    pub(crate) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<Waited<T, E>> {
        if self.raised || context::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        if !self.state.is_done() {
            self.waiter = Some(self.state.set_waiter(self.waiter, cx.waker()));
            match &self.scope {
                Some(scope) => scope.set_waker(cx.waker()),
                None => {
                    let kind = Kind::Forward(self.awaited.clone());
                    self.scope = ScopeHandle::register(kind, cx.waker());
                }
            }
            return Poll::Pending;
        }
        self.waiter = None; // completion emptied the list
        let forwarded = self.scope.take().and_then(|s| s.take_mark());
        let waited = self.state.with_outcome(|o| match o {
            Some(Outcome::Value(v)) => Waited::Value(v.clone()),
            Some(Outcome::Failed(e)) => Waited::Failed(e.clone()),
            Some(Outcome::Cancelled(msg)) => {
                Waited::Cancelled(crate::Cancelled::new(msg.clone(), cancel::Target::Task))
            }
            None => unreachable!("checked done above"),
        });
        if let (Some(mark), Waited::Cancelled(_)) = (forwarded, &waited) {
            // Our task's cancellation ended what we awaited: it goes on in our task, from here.
            if let Some(me) = cancel::current_task() {
                self.raised = true;
                cancel::raise(me, mark.target, mark.msg);
                return Poll::Pending;
            }
        }
        Poll::Ready(waited)
    }
}

impl<T, E> Drop for StateWait<T, E> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            self.state.remove(id);
        }
    }
}

impl<T, E> Unpin for StateWait<T, E> {}
