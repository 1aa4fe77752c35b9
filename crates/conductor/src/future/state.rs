//! The state behind a settable future and a shared task: an outcome set once, and the listeners
//! (awaiting tasks' wakers and done callbacks) told of it in the order they registered.
//!
//! asyncio keeps one list for both: a task awaiting a future registers its wake-up as a done
//! callback. Here wakers and callbacks share one list too, and completion wakes or schedules each
//! in registration order, all through the loop's ready queue, so the order a Python program sees
//! is kept.

use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;

use crate::task::InvalidState;

/// How a future ended.
pub(crate) enum Outcome<T, E> {
    Value(T),
    Failed(E),
    Cancelled(Option<Arc<str>>),
}

/// A done callback, given the state it was registered on.
pub(crate) type StateCallback<T, E> = Box<dyn FnOnce(&Rc<FutureState<T, E>>)>;

enum Listener<T, E> {
    Waker(Waker),
    /// A done callback and where it was added (for the report of a panic).
    Callback(StateCallback<T, E>, &'static Location<'static>),
}

/// Owner thread only (it is behind an `Rc`).
pub(crate) struct FutureState<T, E> {
    outcome: RefCell<Option<Outcome<T, E>>>,
    /// Sorted by id: ids only grow, and registration appends.
    listeners: RefCell<Vec<(u64, Listener<T, E>)>>,
    next_id: Cell<u64>,
}

impl<T, E> Default for FutureState<T, E> {
    fn default() -> Self {
        FutureState {
            outcome: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            next_id: Cell::new(0),
        }
    }
}

impl<T: 'static, E: 'static> FutureState<T, E> {
    /// Sets the outcome and tells every listener, in registration order. A second outcome is
    /// refused (asyncio's `InvalidStateError: invalid state`).
    pub(crate) fn complete(self: &Rc<Self>, outcome: Outcome<T, E>) -> Result<(), InvalidState> {
        {
            let mut slot = self.outcome.borrow_mut();
            if slot.is_some() {
                return Err(InvalidState::AlreadyDone);
            }
            *slot = Some(outcome);
        }
        let listeners = std::mem::take(&mut *self.listeners.borrow_mut());
        for (_, listener) in listeners {
            match listener {
                Listener::Waker(w) => w.wake(),
                Listener::Callback(cb, at) => self.schedule(cb, at),
            }
        }
        Ok(())
    }

    fn schedule(self: &Rc<Self>, cb: StateCallback<T, E>, at: &'static Location<'static>) {
        let state = self.clone();
        crate::runtime::call_soon_internal(Box::new(move || cb(&state)), at);
    }

    /// Registers a done callback; one added after completion is scheduled at once (asyncio).
    /// A panic in it is reported as a callback added by the caller (`#[track_caller]`).
    #[track_caller]
    pub(crate) fn add_callback(self: &Rc<Self>, cb: StateCallback<T, E>) -> u64 {
        let at = Location::caller();
        let id = self.next_id();
        if self.is_done() {
            self.schedule(cb, at);
        } else {
            self.listeners
                .borrow_mut()
                .push((id, Listener::Callback(cb, at)));
        }
        id
    }
}

impl<T, E> FutureState<T, E> {
    pub(crate) fn is_done(&self) -> bool {
        self.outcome.borrow().is_some()
    }

    /// Reads the outcome, if there is one.
    pub(crate) fn with_outcome<R>(&self, f: impl FnOnce(Option<&Outcome<T, E>>) -> R) -> R {
        f(self.outcome.borrow().as_ref())
    }

    fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    /// Registers `waker` as a waiter, or updates the waiter `id` registered before. Returns the
    /// waiter's id. Not for a done state (nothing would wake it).
    pub(crate) fn set_waiter(&self, id: Option<u64>, waker: &Waker) -> u64 {
        let mut listeners = self.listeners.borrow_mut();
        if let Some(id) = id
            && let Ok(i) = listeners.binary_search_by_key(&id, |(k, _)| *k)
        {
            if let Listener::Waker(w) = &mut listeners[i].1
                && !w.will_wake(waker)
            {
                *w = waker.clone();
            }
            return id;
        }
        let id = self.next_id();
        listeners.push((id, Listener::Waker(waker.clone())));
        id
    }

    /// Removes a listener that has not been told yet; returns whether it was there.
    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut listeners = self.listeners.borrow_mut();
        match listeners.binary_search_by_key(&id, |(k, _)| *k) {
            Ok(i) => {
                let removed = listeners.remove(i);
                drop(listeners);
                drop(removed); // a callback's captures are dropped outside the borrow
                true
            }
            Err(_) => false,
        }
    }

    /// Removes a done callback (not a waiter); returns whether it was there.
    pub(crate) fn remove_callback(&self, id: u64) -> bool {
        let is_callback = {
            let listeners = self.listeners.borrow();
            listeners
                .binary_search_by_key(&id, |(k, _)| *k)
                .is_ok_and(|i| matches!(listeners[i].1, Listener::Callback(..)))
        };
        is_callback && self.remove(id)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    use super::*;
    use crate::cancel::Awaited;
    use crate::future::wait::StateWait;

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    fn noop() -> Waker {
        Waker::from(Arc::new(Noop))
    }

    fn len<T, E>(s: &FutureState<T, E>) -> usize {
        s.listeners.borrow().len()
    }

    #[test]
    fn an_abandoned_await_leaves_no_waiter_behind() {
        let state: Rc<FutureState<i32, ()>> = Rc::new(FutureState::default());
        let waker = noop();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..3 {
            let awaited = Awaited::Future(state.clone());
            let mut wait = StateWait::new(state.clone(), awaited);
            assert!(wait.poll_wait(&mut cx).is_pending());
            assert!(
                wait.poll_wait(&mut cx).is_pending(),
                "a re-poll reuses its entry"
            );
            assert_eq!(len(&state), 1);
        }
        assert_eq!(len(&state), 0, "each dropped await removed its waiter");
    }

    #[test]
    fn only_callbacks_are_removable_as_callbacks() {
        let state: Rc<FutureState<i32, ()>> = Rc::new(FutureState::default());
        let waiter = state.set_waiter(None, &noop());
        let cb = state.add_callback(Box::new(|_| {}));
        assert!(!state.remove_callback(waiter), "a waiter is not a callback");
        assert!(state.remove_callback(cb));
        assert!(!state.remove_callback(cb), "removed once");
        assert_eq!(len(&state), 1);
    }
}
