//! The remote word: the one part of a task that threads other than its owner may touch.
//!
//! A task's references are counted in two places (biased reference counting). The header's plain
//! `local` counter holds the references that the owner thread creates and drops while its loop
//! runs: the join handle, the registry's hold on a pending task, ready-queue entries and wakers
//! cloned on the loop thread. Those cost no atomic instruction. Everything else lives in this word:
//! a waker cloned on another thread adds one to `refs`; any waker dropped on another thread
//! subtracts one. When the dropped waker was counted locally, `refs` goes negative: a *debt* that
//! the owner merges into `local` when it drains its remote queue.
//!
//! Bits of the word:
//! - `NOTIFIED`: an entry for the task is in (or is being pushed to) the owner's remote queue. The
//!   entry keeps the task allocated until the owner drains it or the push fails.
//! - `WAKE`: that entry asks the owner to poll the task; without it the entry only asks the owner
//!   to merge a debt.
//! - `LOCAL`: the owner still holds local references. While it is set only the owner can tell
//!   whether the task is unreferenced, so only the owner frees it. Once it is clear, this word alone
//!   says when the task dies, and whichever thread brings it to zero frees it.
//!
//! Invariants, checked by the loom tests at the bottom of this file:
//! - total references = `local + refs`, never negative; `local` covers any outstanding debt;
//! - whenever `refs` is negative while `LOCAL` is set, an entry is queued (`NOTIFIED`), so the
//!   owner learns of the debt and can reach zero;
//! - `LOCAL` is cleared only after the task's future and output are gone, so freeing a task on a
//!   foreign thread never drops a `!Send` value there;
//! - exactly one party observes "free".

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

const NOTIFIED: usize = 1 << 0;
const WAKE: usize = 1 << 1;
const LOCAL: usize = 1 << 2;
const FLAGS: usize = NOTIFIED | WAKE | LOCAL;
const REF_SHIFT: u32 = 3;
const REF: usize = 1 << REF_SHIFT;
/// Far below the point where `refs` could wrap; like `Arc`, exceeding it aborts.
const MAX_REFS: isize = isize::MAX >> (REF_SHIFT + 2);

fn refs(word: usize) -> isize {
    (word as isize) >> REF_SHIFT
}

fn with_refs(word: usize, refs: isize) -> usize {
    (word & FLAGS) | ((refs as usize) << REF_SHIFT)
}

/// What the caller must do after dropping a reference from a foreign thread.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DropOutcome {
    Keep,
    /// Push the task on the owner's remote queue so that the owner merges the debt.
    Notify,
    /// The caller held the last reference: free the task.
    Free,
}

/// What the caller must do after waking a task from a foreign thread.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WakeOutcome {
    Keep,
    /// Push the task on the owner's remote queue.
    Push,
    /// The wake consumed the last reference of a finished task: free it.
    Free,
}

/// What draining one remote-queue entry tells the owner.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Drained {
    /// Some foreign thread asked for a poll.
    pub(crate) wake: bool,
    /// Local references that foreign threads dropped; subtract them from `local`.
    pub(crate) debt: u32,
    /// The entry was the task's last hold: free it.
    pub(crate) free: bool,
}

pub(crate) struct RemoteState(AtomicUsize);

impl RemoteState {
    /// A new task: its owner holds local references, nobody else holds any.
    pub(crate) fn new() -> Self {
        RemoteState(AtomicUsize::new(LOCAL))
    }

    /// A foreign thread cloned a waker.
    pub(crate) fn clone_ref(&self) {
        let old = self.0.fetch_add(REF, Relaxed);
        if refs(old) > MAX_REFS {
            std::process::abort();
        }
    }

    /// A reference counted here, or a local reference that left the owner thread, is dropped.
    pub(crate) fn drop_ref(&self) -> DropOutcome {
        self.update(|old| {
            let new = with_refs(old, refs(old) - 1);
            if old & LOCAL != 0 {
                if refs(new) < 0 && old & NOTIFIED == 0 {
                    (new | NOTIFIED, DropOutcome::Notify)
                } else {
                    (new, DropOutcome::Keep)
                }
            } else if refs(new) == 0 && new & NOTIFIED == 0 {
                (new, DropOutcome::Free)
            } else {
                (new, DropOutcome::Keep)
            }
        })
    }

    /// A foreign thread wakes the task; `consume` when the waker is woken by value.
    pub(crate) fn wake(&self, consume: bool) -> WakeOutcome {
        self.update(|old| {
            let new = if consume {
                with_refs(old, refs(old) - 1)
            } else {
                old
            };
            if old & LOCAL != 0 {
                if old & NOTIFIED == 0 {
                    (new | NOTIFIED | WAKE, WakeOutcome::Push)
                } else {
                    (new | WAKE, WakeOutcome::Keep)
                }
            } else if consume && refs(new) == 0 && new & NOTIFIED == 0 {
                // The owner let go and the task is finished: there is nothing to poll.
                (new, WakeOutcome::Free)
            } else {
                (new, WakeOutcome::Keep)
            }
        })
    }

    /// The owner's remote queue was closed before the entry could be pushed: withdraw it.
    /// Returns true when the caller must free the task.
    pub(crate) fn push_failed(&self) -> bool {
        let old = self.0.fetch_and(!(NOTIFIED | WAKE), AcqRel);
        old & LOCAL == 0 && refs(old) == 0
    }

    /// The owner takes one entry off its remote queue.
    pub(crate) fn drain(&self) -> Drained {
        let mut debt = 0;
        let old = self.update(|old| {
            let mut new = old & !(NOTIFIED | WAKE);
            debt = 0;
            if refs(old) < 0 {
                debt = refs(old).unsigned_abs();
                new = with_refs(new, 0);
            }
            (new, old)
        });
        let local = old & LOCAL != 0;
        Drained {
            wake: local && old & WAKE != 0,
            debt: u32::try_from(debt).expect("debt exceeds the local count"),
            free: !local && refs(old) == 0,
        }
    }

    /// The owner's local count reached zero and nobody else ever took a reference: true when the
    /// word still holds only `LOCAL`. Then no other thread can reach the task (a reference would
    /// be needed to touch it), so it may be freed without a read-modify-write. The acquire load
    /// pairs with the release of the last foreign drop, if there ever was one.
    pub(crate) fn is_only_local(&self) -> bool {
        self.0.load(Acquire) == LOCAL
    }

    /// The owner's local count reached zero. Returns true when the caller must free the task.
    pub(crate) fn release_local(&self) -> bool {
        let old = self.0.fetch_and(!LOCAL, AcqRel);
        debug_assert!(old & LOCAL != 0, "local references released twice");
        debug_assert!(
            refs(old) >= 0,
            "local count reached zero with a debt outstanding"
        );
        refs(old) == 0 && old & NOTIFIED == 0
    }

    /// The owner's loop is gone: move its `local` references here, so that from now on every
    /// reference is counted atomically. Returns true when the caller must free the task.
    pub(crate) fn orphan(&self, local: u32) -> bool {
        let new = self.update(|old| {
            let new = with_refs(old, refs(old) + local as isize) & !LOCAL;
            (new, new)
        });
        refs(new) == 0 && new & NOTIFIED == 0
    }

    fn update<R>(&self, mut f: impl FnMut(usize) -> (usize, R)) -> R {
        let mut old = self.0.load(Acquire);
        loop {
            let (new, out) = f(old);
            match self.0.compare_exchange_weak(old, new, AcqRel, Acquire) {
                Ok(_) => return out,
                Err(actual) => old = actual,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn debt_from_a_foreign_drop_is_merged_by_the_owner() {
        let s = RemoteState::new();
        // A local waker leaves the owner and is dropped elsewhere: the owner must hear of it.
        assert_eq!(s.drop_ref(), DropOutcome::Notify);
        assert_eq!(
            s.drain(),
            Drained {
                wake: false,
                debt: 1,
                free: false
            }
        );
        // The owner's count reaches zero after the merge: nobody else holds the task.
        assert!(s.release_local());
    }

    #[test]
    fn credit_keeps_the_task_alive_after_the_owner_lets_go() {
        let s = RemoteState::new();
        s.clone_ref();
        assert!(!s.release_local());
        assert_eq!(
            s.wake(false),
            WakeOutcome::Keep,
            "finished tasks are not pushed"
        );
        assert_eq!(s.drop_ref(), DropOutcome::Free);
    }

    #[test]
    fn a_second_wake_rides_on_the_queued_entry() {
        let s = RemoteState::new();
        assert_eq!(s.wake(false), WakeOutcome::Push);
        assert_eq!(s.wake(false), WakeOutcome::Keep);
        let d = s.drain();
        assert!(d.wake && !d.free && d.debt == 0);
        assert_eq!(
            s.wake(false),
            WakeOutcome::Push,
            "a wake after the drain queues again"
        );
    }

    #[test]
    fn credit_then_debt_still_notifies_when_refs_turn_negative() {
        let s = RemoteState::new();
        s.clone_ref(); // remote waker R
        assert_eq!(s.drop_ref(), DropOutcome::Keep); // local waker dropped abroad: refs 1 -> 0
        assert_eq!(s.drop_ref(), DropOutcome::Notify); // R dropped: refs 0 -> -1
        assert_eq!(s.drain().debt, 1);
    }

    #[test]
    fn orphaning_moves_local_references_into_the_word() {
        let s = RemoteState::new();
        assert!(!s.orphan(2));
        assert_eq!(s.drop_ref(), DropOutcome::Keep);
        assert_eq!(s.wake(true), WakeOutcome::Free);
    }

    #[test]
    fn a_failed_push_frees_an_orphan_it_pinned() {
        let s = RemoteState::new();
        s.clone_ref();
        assert_eq!(s.wake(true), WakeOutcome::Push); // consumed its only remote ref
        assert!(!s.orphan(0), "the queued entry pins the task");
        assert!(s.push_failed());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Model: an owner thread with a local count and a remote queue, and foreign threads holding
    //! wakers. Every interleaving must free the task exactly once, after every reference is gone.
    use super::*;
    use crate::loom::sync::{Arc, Mutex};
    use loom::cell::UnsafeCell;
    use loom::sync::atomic::AtomicUsize as Counter;

    struct Task {
        word: RemoteState,
        /// Owner-only, like the header's local count.
        local: UnsafeCell<u32>,
        frees: Counter,
        polls: Counter,
    }

    struct Owner {
        queue: Mutex<(Vec<Arc<Task>>, bool)>,
    }

    impl Owner {
        /// A foreign thread pushes an entry; a closed queue makes it withdraw.
        fn push(&self, t: &Arc<Task>) {
            let mut q = self.queue.lock().unwrap();
            if q.1 {
                drop(q);
                if t.word.push_failed() {
                    t.frees.fetch_add(1, SeqCst);
                }
            } else {
                q.0.push(t.clone());
            }
        }

        fn drain(&self, t: &Task) {
            let entries: Vec<_> = std::mem::take(&mut self.queue.lock().unwrap().0);
            for e in entries {
                let d = e.word.drain();
                if d.wake {
                    t.polls.fetch_add(1, SeqCst);
                }
                if d.free {
                    t.frees.fetch_add(1, SeqCst);
                    continue;
                }
                if d.debt > 0 {
                    let now = t.local.with_mut(|l| {
                        // SAFETY: only the owner thread runs `drain`.
                        unsafe {
                            *l -= d.debt;
                            *l
                        }
                    });
                    if now == 0 && t.word.release_local() {
                        t.frees.fetch_add(1, SeqCst);
                    }
                }
            }
        }
    }

    fn foreign_drop(owner: &Owner, t: &Arc<Task>) {
        match t.word.drop_ref() {
            DropOutcome::Keep => {}
            DropOutcome::Notify => owner.push(t),
            DropOutcome::Free => {
                t.frees.fetch_add(1, SeqCst);
            }
        }
    }

    fn foreign_wake(owner: &Owner, t: &Arc<Task>, consume: bool) {
        match t.word.wake(consume) {
            WakeOutcome::Keep => {}
            WakeOutcome::Push => owner.push(t),
            WakeOutcome::Free => {
                t.frees.fetch_add(1, SeqCst);
            }
        }
    }

    fn setup(local: u32) -> (Arc<Owner>, Arc<Task>) {
        let owner = Arc::new(Owner {
            queue: Mutex::new((Vec::new(), false)),
        });
        let task = Arc::new(Task {
            word: RemoteState::new(),
            local: UnsafeCell::new(local),
            frees: Counter::new(0),
            polls: Counter::new(0),
        });
        (owner, task)
    }

    /// Owner drops one local reference (`local` starts at the number the owner holds), with the
    /// runtime's fast path: no atomic update when nobody else ever held a reference.
    fn owner_release(t: &Task) {
        // SAFETY: only the owner thread touches `local`.
        let now = t.local.with_mut(|l| unsafe {
            *l -= 1;
            *l
        });
        if now == 0 && (t.word.is_only_local() || t.word.release_local()) {
            t.frees.fetch_add(1, SeqCst);
        }
    }

    /// A foreign thread runs `foreign` while the owner lets go of its last hold (with
    /// `remote` a remote reference taken first); whoever is last frees the task, once.
    fn foreign_races_owner_release(local: u32, remote: bool, foreign: fn(&Owner, &Arc<Task>)) {
        loom::model(move || {
            let (owner, task) = setup(local);
            if remote {
                task.word.clone_ref();
            }
            let (o2, t2) = (owner.clone(), task.clone());
            let th = loom::thread::spawn(move || foreign(&o2, &t2));
            owner_release(&task);
            th.join().unwrap();
            owner.drain(&task);
            assert_eq!(task.frees.load(SeqCst), 1);
        });
    }

    #[test]
    fn local_waker_dropped_abroad_while_owner_lets_go() {
        // local = 2: the owner's own hold and a waker that moved to another thread.
        foreign_races_owner_release(2, false, foreign_drop);
    }

    #[test]
    fn remote_wake_by_value_races_with_owner_release() {
        // One local hold; a foreign thread clones a waker then wakes it by value.
        foreign_races_owner_release(1, true, |o, t| foreign_wake(o, t, true));
    }

    #[test]
    fn the_atomic_free_fast_path_never_races_a_last_foreign_drop() {
        // A foreign thread holds a remote waker and drops it while the owner lets go.
        foreign_races_owner_release(1, true, foreign_drop);
    }

    #[test]
    fn two_foreign_wakes_poll_at_least_once() {
        loom::model(|| {
            let (owner, task) = setup(1);
            let (o2, t2) = (owner.clone(), task.clone());
            let (o3, t3) = (owner.clone(), task.clone());
            let a = loom::thread::spawn(move || foreign_wake(&o2, &t2, false));
            let b = loom::thread::spawn(move || foreign_wake(&o3, &t3, false));
            owner.drain(&task);
            a.join().unwrap();
            b.join().unwrap();
            owner.drain(&task);
            assert!(task.polls.load(SeqCst) >= 1);
            owner_release(&task);
            assert_eq!(task.frees.load(SeqCst), 1);
        });
    }

    #[test]
    fn loop_closes_while_a_foreign_thread_pushes() {
        loom::model(|| {
            // local = 2: the owner's hold plus a waker that is woken by value abroad.
            let (owner, task) = setup(2);
            let (o2, t2) = (owner.clone(), task.clone());
            let th = loom::thread::spawn(move || foreign_wake(&o2, &t2, true));
            // Owner shuts down: close, drain what arrived, orphan what it still holds.
            owner.queue.lock().unwrap().1 = true;
            owner.drain(&task);
            // SAFETY: owner thread.
            let local = task.local.with(|l| unsafe { *l });
            if task.word.orphan(local) {
                task.frees.fetch_add(1, SeqCst);
            }
            // The owner's own hold, now counted atomically.
            let r = task.word.drop_ref();
            if r == DropOutcome::Free {
                task.frees.fetch_add(1, SeqCst);
            }
            th.join().unwrap();
            assert_eq!(task.frees.load(SeqCst), 1);
        });
    }
}
