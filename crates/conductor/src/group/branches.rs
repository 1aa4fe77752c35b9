//! Futures polled concurrently inside the calling task, each in its own cancellation scope: the
//! machinery under [`race`](crate::race) and [`gather_inline`](crate::gather_inline).
//!
//! Spawned children (asyncio's way) must be `'static`; branches polled in place may borrow the
//! caller's locals. The price is that a branch cannot outlive the combinator: when one must stop
//! (a race was won, a gather failed), it is cancelled as a task is, and awaited: a cancellation
//! is delivered into it, so its `catch_cancel` cleanup runs (with awaits), and the combinator
//! returns once every branch has ended.
//!
//! Each branch is polled under a node of the task's scope tree (`Kind::Handler`). A cancellation
//! of the task (or of a timeout around the combinator) therefore reaches every branch: the
//! innermost `catch_cancel` of a branch that has one, the branch's own node otherwise, which ends
//! that branch at once (its future is dropped, as the task's would be). When every branch has
//! ended and one of them ended by that cancellation, the combinator passes it on to the
//! enclosing scope, as a cancelled `gather` raises `CancelledError` once its children are done.

// The `unsafe` of this module: the branches' futures are pinned in one boxed slice, polled in place.
#![allow(unsafe_code)]

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::cancel::{self, Delivered, Kind, Mark, ScopeHandle, Target};

/// How a branch ended.
pub(crate) enum Ended<T> {
    /// With its output.
    Value(T),
    /// By a panic; the payload is `catch_unwind`'s.
    Panicked(Box<dyn Any + Send>),
    /// By a cancellation: the combinator's own, or one from outside (see [`Branches::outer`]).
    Cancelled,
}

enum Slot<F: Future> {
    Running(F),
    Ended(Ended<F::Output>),
    Taken,
}

/// The branches, their scope nodes, and what happened to them.
pub(crate) struct Branches<F: Future> {
    /// Pinned in place: the boxed slice is never moved or resized, and a running future is
    /// dropped in place (by overwriting its slot) before its memory is reused.
    slots: Pin<Box<[Slot<F>]>>,
    nodes: Vec<Option<ScopeHandle>>,
    /// Branches that ended since [`take_ended`](Self::take_ended), in the order they ended.
    ended: Vec<usize>,
    running: usize,
    registered: bool,
    /// The first cancellation from outside that ended a branch.
    outer: Option<Mark>,
    raised: bool,
}

impl<F: Future> Branches<F> {
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> Self {
        let slots: Box<[Slot<F>]> = futures.into_iter().map(Slot::Running).collect();
        let n = slots.len();
        Branches {
            slots: Box::into_pin(slots),
            nodes: (0..n).map(|_| None).collect(),
            ended: Vec::new(),
            running: n,
            registered: false,
            outer: None,
            raised: false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// How many branches have not ended.
    pub(crate) fn running(&self) -> usize {
        self.running
    }

    /// Polls every running branch once; returns `Ready` when none is running any more.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.registered {
            // Under the scope being polled now (the combinator's lexical parent).
            self.registered = true;
            for node in &mut self.nodes {
                *node = ScopeHandle::register(Kind::Handler, cx.waker());
            }
        }
        // SAFETY: the slots are structurally pinned: nothing below moves a running future out
        // of its slot; a slot is only overwritten, which drops the future in place first.
        let slots = unsafe { self.slots.as_mut().get_unchecked_mut() };
        for (i, slot) in slots.iter_mut().enumerate() {
            let Slot::Running(future) = slot else {
                continue;
            };
            let node = self.nodes[i].as_ref();
            if let Some(node) = node {
                node.set_waker(cx.waker());
            }
            let ended = match node.and_then(ScopeHandle::take_mark) {
                Some(mark) => {
                    let ours = node.is_some_and(|n| mark.target == Target::Scope(n.key()));
                    if !ours && self.outer.is_none() {
                        self.outer = Some(mark);
                    }
                    Ended::Cancelled
                }
                None => {
                    // SAFETY: the future stays in its pinned slot (see above).
                    let future = unsafe { Pin::new_unchecked(future) };
                    let polled = panic::catch_unwind(AssertUnwindSafe(|| match node {
                        Some(node) => node.within(|| future.poll(cx)),
                        None => future.poll(cx),
                    }));
                    match polled {
                        Ok(Poll::Pending) => continue,
                        Ok(Poll::Ready(v)) => Ended::Value(v),
                        Err(payload) => Ended::Panicked(payload),
                    }
                }
            };
            *slot = Slot::Ended(ended);
            self.nodes[i] = None;
            self.running -= 1;
            self.ended.push(i);
        }
        if self.running == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// The branches that ended since the last call, in the order they ended.
    pub(crate) fn take_ended(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.ended)
    }

    pub(crate) fn get(&self, i: usize) -> Option<&Ended<F::Output>> {
        match &self.slots[i] {
            Slot::Ended(ended) => Some(ended),
            _ => None,
        }
    }

    /// Takes how branch `i` ended; `None` while it runs or once taken.
    pub(crate) fn take(&mut self, i: usize) -> Option<Ended<F::Output>> {
        if !matches!(self.slots[i], Slot::Ended(_)) {
            return None;
        }
        // SAFETY: the slot holds no future (it ended), so moving its content out moves nothing
        // pinned.
        let slots = unsafe { self.slots.as_mut().get_unchecked_mut() };
        match std::mem::replace(&mut slots[i], Slot::Taken) {
            Slot::Ended(ended) => Some(ended),
            _ => unreachable!("checked above"),
        }
    }

    /// Cancels every running branch but `except`, as `Task::cancel` would: delivered at its
    /// next suspension point, to its innermost `catch_cancel`, or ending it there.
    pub(crate) fn cancel_all_but(&mut self, except: Option<usize>) {
        // SAFETY: running futures are only dropped in place (overwritten), never moved.
        let slots = unsafe { self.slots.as_mut().get_unchecked_mut() };
        for (i, slot) in slots.iter_mut().enumerate() {
            if Some(i) == except || !matches!(slot, Slot::Running(_)) {
                continue;
            }
            let delivered = self.nodes[i]
                .as_ref()
                .map(|n| cancel::deliver(n.owner(), Target::Scope(n.key()), &None));
            if !matches!(delivered, Some(Delivered::ToScopes)) {
                // Nothing inside catches it (or the branch never ran): it ends here.
                *slot = Slot::Ended(Ended::Cancelled);
                self.nodes[i] = None;
                self.running -= 1;
                self.ended.push(i);
            }
        }
    }

    /// A cancellation from outside ended a branch: once every branch has ended, it must be
    /// passed on ([`raise_outer`](Self::raise_outer)).
    pub(crate) fn outer(&self) -> bool {
        self.outer.is_some()
    }

    /// Passes the outside cancellation on to the enclosing scope; the combinator then stays
    /// pending while its task is being cancelled.
    pub(crate) fn raise_outer(&mut self) {
        if let Some(mark) = self.outer.take() {
            self.raised = true;
            if let Some(me) = cancel::current_task() {
                cancel::raise(me, mark.target, mark.msg);
            }
        }
    }

    /// Whether the outside cancellation was passed on.
    pub(crate) fn raised(&self) -> bool {
        self.raised
    }
}
