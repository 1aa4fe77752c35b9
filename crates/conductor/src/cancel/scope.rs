//! The tree of cancellation scopes inside one task.
//!
//! asyncio throws `CancelledError` into the innermost `await`, and the innermost enclosing
//! `try/except` catches it. A Rust task is one future, so conductor keeps, per task, the scopes that
//! are currently active inside it: `catch_cancel` blocks, awaited tasks (which forward the
//! cancellation, as asyncio's `Task.cancel` cancels the future its task waits on), combinators
//! that handle it themselves (`gather`, `TaskGroup`), and `timeout` scopes, which are the target of
//! their own cancellations but let others pass through. A node's parent is the scope whose inner
//! future was being polled when the node registered, which is its lexical parent in sequential
//! code.
//!
//! A cancellation aimed at the whole task, or at a timeout scope, is delivered to the *leaves*
//! below that target: catching nodes with no catching node below them. Two sibling leaves (two
//! branches of a `join!`) both receive it. With no leaf, the target acts itself: the task drops its
//! future, a timeout drops its inner future and reports a timeout.

use std::cell::Cell;
use std::sync::Arc;
use std::task::Waker;

use slab::Slab;

use crate::task::LocalRef;

/// What a forwarding node passes a cancellation on to (asyncio's `_fut_waiter`).
#[derive(Clone)]
pub(crate) enum Awaited {
    /// An awaited task: it is cancelled, and the awaiter waits for it to end.
    Task(LocalRef),
    /// An awaited settable future (or a shared task's outcome): it is cancelled.
    Future(std::rc::Rc<dyn CancelAwaited>),
}

/// A future that a forwarded cancellation can reach.
pub(crate) trait CancelAwaited {
    /// Cancels it; false when it is already done (the cancellation then goes no further).
    fn cancel_awaited(self: std::rc::Rc<Self>, msg: Option<Arc<str>>) -> bool;
}

impl Awaited {
    /// Passes the cancellation on; false when the awaited thing is already done.
    pub(crate) fn cancel(&self, msg: Option<Arc<str>>) -> bool {
        match self {
            Awaited::Task(t) => super::cancel_task(t.ptr(), msg),
            Awaited::Future(f) => f.clone().cancel_awaited(msg),
        }
    }
}

/// Identifies a node of one task's tree; `gen` is unique per loop, so a stale key never matches.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ScopeKey {
    index: u32,
    r#gen: u64,
}

/// What a cancellation is aimed at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Target {
    /// The whole task (`Task::cancel`).
    Task,
    /// A timeout scope that expired.
    Scope(ScopeKey),
}

/// A cancellation delivered to a node and not yet acted upon.
#[derive(Clone, Debug)]
pub(crate) struct Mark {
    pub(crate) target: Target,
    pub(crate) msg: Option<Arc<str>>,
}

pub(crate) enum Kind {
    /// `catch_cancel`: turns the cancellation into an `Err(Cancelled)`.
    Catch,
    /// An awaited task or future: the cancellation is forwarded to it.
    Forward(Awaited),
    /// A combinator that acts on its next poll (`gather`, `TaskGroup`).
    Handler,
    /// A `timeout` scope: not a catcher; receives only cancellations aimed at it.
    Target,
}

impl Kind {
    fn catches(&self) -> bool {
        !matches!(self, Kind::Target)
    }
}

pub(crate) struct Node {
    parent: Option<ScopeKey>,
    r#gen: u64,
    pub(crate) kind: Kind,
    catchers_below: u32,
    pub(crate) mark: Option<Mark>,
    pub(crate) waker: Option<Waker>,
}

/// What `mark_leaves` asks the caller to do once the tree is no longer borrowed.
pub(crate) enum Action {
    Wake(Waker),
    Forward(Awaited, ScopeKey),
}

/// A scope whose inner future is being polled right now. The loop keeps the stack of them for
/// the task it polls (`Core::frames`), so that entering a scope needs no per-task state.
pub(crate) enum Frame {
    Node(ScopeKey),
    /// A target scope (a timeout) with no node yet: it gets one, written into the cell, as soon
    /// as something inside it registers, so a timeout with nothing to catch inside it costs no
    /// node. The cell is a field of the pinned scope future, which is polling right now.
    Lazy(*const Cell<Option<ScopeKey>>),
}

#[derive(Default)]
pub(crate) struct ScopeTree {
    nodes: Slab<Node>,
}

impl ScopeTree {
    /// Registers a node under the innermost scope of `frames` (the scopes being polled), giving
    /// lazy scopes their nodes first; `gen` gives each new node its generation.
    pub(crate) fn register(
        &mut self,
        kind: Kind,
        waker: Option<Waker>,
        frames: &mut [Frame],
        r#gen: &mut dyn FnMut() -> u64,
    ) -> ScopeKey {
        let parent = self.materialize(&waker, frames, r#gen);
        self.insert(kind, waker, parent, r#gen())
    }

    fn materialize(
        &mut self,
        waker: &Option<Waker>,
        frames: &mut [Frame],
        r#gen: &mut dyn FnMut() -> u64,
    ) -> Option<ScopeKey> {
        let mut parent = None;
        for frame in frames.iter_mut() {
            match *frame {
                Frame::Node(key) => parent = Some(key),
                Frame::Lazy(cell) => {
                    let key = self.insert(Kind::Target, waker.clone(), parent, r#gen());
                    // SAFETY: a lazy frame is pushed and popped around the inner poll of the
                    // pinned scope future that owns the cell, and this runs inside that poll.
                    unsafe { (*cell).set(Some(key)) };
                    *frame = Frame::Node(key);
                    parent = Some(key);
                }
            }
        }
        parent
    }

    fn insert(
        &mut self,
        kind: Kind,
        waker: Option<Waker>,
        parent: Option<ScopeKey>,
        r#gen: u64,
    ) -> ScopeKey {
        let catches = kind.catches();
        let index = self.nodes.insert(Node {
            parent,
            r#gen,
            kind,
            catchers_below: 0,
            mark: None,
            waker,
        });
        if catches {
            self.walk_up(parent, |n| n.catchers_below += 1);
        }
        ScopeKey {
            index: u32::try_from(index).expect("more than 2^32 scopes in one task"),
            r#gen,
        }
    }

    /// Removes a node; the caller drops it after releasing the tree.
    pub(crate) fn unregister(&mut self, key: ScopeKey) -> Option<Node> {
        self.get(key)?;
        let node = self.nodes.remove(key.index as usize);
        if node.kind.catches() {
            self.walk_up(node.parent, |n| n.catchers_below -= 1);
        }
        Some(node)
    }

    pub(crate) fn get(&self, key: ScopeKey) -> Option<&Node> {
        self.nodes
            .get(key.index as usize)
            .filter(|n| n.r#gen == key.r#gen)
    }

    pub(crate) fn get_mut(&mut self, key: ScopeKey) -> Option<&mut Node> {
        self.nodes
            .get_mut(key.index as usize)
            .filter(|n| n.r#gen == key.r#gen)
    }

    /// The node through which the tree's task awaits `task`, if any.
    pub(crate) fn find_forward(&self, task: crate::task::TaskPtr) -> Option<ScopeKey> {
        self.nodes.iter().find_map(|(i, n)| match &n.kind {
            Kind::Forward(Awaited::Task(t)) if t.ptr() == task => Some(ScopeKey {
                index: i as u32,
                r#gen: n.r#gen,
            }),
            _ => None,
        })
    }

    /// Records the waker that polls this node, unless it is the same as before.
    pub(crate) fn set_waker(&mut self, key: ScopeKey, waker: &Waker) {
        if let Some(n) = self.get_mut(key) {
            match &n.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => n.waker = Some(waker.clone()),
            }
        }
    }

    /// Marks the leaves below `target` and returns what must happen to each.
    pub(crate) fn mark_leaves(&mut self, target: Target, msg: &Option<Arc<str>>) -> Vec<Action> {
        let leaves: Vec<usize> = self
            .nodes
            .iter()
            .filter(|(i, n)| n.kind.catches() && n.catchers_below == 0 && self.below(*i, target))
            .map(|(i, _)| i)
            .collect();
        let mut actions = Vec::with_capacity(leaves.len());
        for i in leaves {
            let n = &mut self.nodes[i];
            n.mark = Some(Mark {
                target,
                msg: msg.clone(),
            });
            let key = ScopeKey {
                index: i as u32,
                r#gen: n.r#gen,
            };
            match &n.kind {
                Kind::Forward(task) => actions.push(Action::Forward(task.clone(), key)),
                _ => {
                    if let Some(w) = &n.waker {
                        actions.push(Action::Wake(w.clone()));
                    }
                }
            }
        }
        actions
    }

    /// Marks the target scope itself (a timeout with no catcher below it).
    pub(crate) fn mark_target(&mut self, key: ScopeKey, msg: Option<Arc<str>>) -> Option<Waker> {
        let n = self.get_mut(key)?;
        n.mark = Some(Mark {
            target: Target::Scope(key),
            msg,
        });
        n.waker.clone()
    }

    fn below(&self, index: usize, target: Target) -> bool {
        let Target::Scope(scope) = target else {
            return true;
        };
        let mut at = self.nodes[index].parent;
        while let Some(k) = at {
            if k == scope {
                return true;
            }
            at = self.get(k).and_then(|n| n.parent);
        }
        false
    }

    fn walk_up(&mut self, mut at: Option<ScopeKey>, f: impl Fn(&mut Node)) {
        while let Some(k) = at {
            let Some(n) = self.get_mut(k) else { return };
            f(n);
            at = n.parent;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r#gen(g: u64) -> impl FnMut() -> u64 {
        let mut n = g * 100;
        move || {
            n += 1;
            n
        }
    }

    #[test]
    fn a_lazy_scope_gets_its_node_when_something_inside_registers() {
        let mut t = ScopeTree::default();
        let cell = Cell::new(None);
        let mut frames = vec![Frame::Lazy(&cell)];
        assert!(cell.get().is_none(), "no node until needed");
        let inner = t.register(Kind::Catch, None, &mut frames, &mut r#gen(1));
        assert!(matches!(frames[0], Frame::Node(_)));
        let timeout = cell.get().expect("materialized");
        t.mark_leaves(Target::Scope(timeout), &None);
        assert!(
            t.get(inner).unwrap().mark.is_some(),
            "the catcher is below the timeout"
        );
    }

    #[test]
    fn innermost_catcher_is_the_leaf() {
        let mut t = ScopeTree::default();
        let mut frames = Vec::new();
        let outer = t.register(Kind::Catch, None, &mut frames, &mut r#gen(1));
        frames.push(Frame::Node(outer));
        let inner = t.register(Kind::Catch, None, &mut frames, &mut r#gen(2));
        frames.pop();
        t.mark_leaves(Target::Task, &None);
        assert!(t.get(inner).unwrap().mark.is_some());
        assert!(t.get(outer).unwrap().mark.is_none());
        // Once the inner scope is gone, the outer one becomes the leaf (a re-raise reaches it).
        t.unregister(inner);
        t.mark_leaves(Target::Task, &None);
        assert!(t.get(outer).unwrap().mark.is_some());
    }

    #[test]
    fn a_scope_target_reaches_only_catchers_below_it() {
        let mut t = ScopeTree::default();
        let mut frames = Vec::new();
        let sibling = t.register(Kind::Catch, None, &mut frames, &mut r#gen(1));
        let timeout = t.register(Kind::Target, None, &mut frames, &mut r#gen(2));
        assert!(t.mark_leaves(Target::Scope(timeout), &None).is_empty());
        frames.push(Frame::Node(timeout));
        let inside = t.register(Kind::Catch, None, &mut frames, &mut r#gen(3));
        frames.pop();
        t.mark_leaves(Target::Scope(timeout), &None);
        assert!(t.get(inside).unwrap().mark.is_some());
        assert!(t.get(sibling).unwrap().mark.is_none());
        assert!(
            t.get(timeout).unwrap().mark.is_none(),
            "targets are not leaves"
        );
    }

    #[test]
    fn stale_keys_do_not_match() {
        let mut t = ScopeTree::default();
        let mut frames = Vec::new();
        let a = t.register(Kind::Catch, None, &mut frames, &mut r#gen(1));
        t.unregister(a);
        let b = t.register(Kind::Catch, None, &mut frames, &mut r#gen(2));
        assert!(t.get(a).is_none());
        assert!(t.get(b).is_some());
        assert!(t.unregister(a).is_none());
    }
}
