//! Replies held back on the connection's thread, so that a run of queued read-only statements
//! wakes the loop once instead of once per statement.
//!
//! Each reply wakes the task awaiting it, and a wake that finds the loop parked costs this
//! thread an `eventfd` write and the loop a return from `epoll_wait` (about a microsecond each,
//! more than a point select by primary key). While the next command is already queued, the
//! thread keeps the replies of its commands here and sends them together when one of these
//! comes first:
//! - no command is queued any more (the thread would wait);
//! - [`MAX_HELD`] replies or [`MAX_AGE`] since the first one;
//! - a statement that is not read-only is about to run outside a transaction that holds the
//!   main database's write lock, or anything else that may take long outside SQLite's virtual
//!   machine: a write (a lock wait, a commit's `fsync`), a batch of SQL, a transaction's BEGIN
//!   or COMMIT, a `call` closure, an exclusive job, the close. (A write inside a transaction
//!   that already writes waits for no lock and commits nothing; one to an attached database
//!   not locked yet could still wait for its lock.)
//! - SQLite's progress handler runs, [`MAX_AGE`] after the first reply (a long read-only
//!   query).
//!
//! A reply is thus held at most about [`MAX_AGE`] past its statement's end, plus one progress
//! handler period of the statement running then.
//!
//! Everything here lives in a thread-local of the connection's thread: only that thread holds
//! and sends replies.

use std::cell::RefCell;
use std::time::{Duration, Instant};

/// Replies held at most, before they are sent.
pub(crate) const MAX_HELD: usize = 64;

/// How long the first held reply waits at most (see the module docs for the exceptions).
pub(crate) const MAX_AGE: Duration = Duration::from_micros(50);

/// A reply waiting to be sent (it wakes the awaiting task).
type HeldReply = Box<dyn FnOnce()>;

#[derive(Default)]
struct Held {
    replies: Vec<HeldReply>,
    since: Option<Instant>,
    /// Whether replies may be held now: the thread has the next command already.
    allowed: bool,
}

thread_local! {
    static HELD: RefCell<Held> = RefCell::new(Held::default());
}

/// Sends `reply` now, or holds it when the next command is already queued.
pub(crate) fn deliver(reply: impl FnOnce() + 'static) {
    let reply = HELD.with_borrow_mut(|h| {
        if !h.allowed {
            return Some(reply);
        }
        h.since.get_or_insert_with(Instant::now);
        h.replies.push(Box::new(reply));
        None
    });
    if let Some(reply) = reply {
        reply();
    }
}

/// Whether the thread has its next command: replies of the commands before it may be held.
pub(crate) fn allow_holding(allowed: bool) {
    HELD.with_borrow_mut(|h| h.allowed = allowed);
}

/// Sends every held reply, in the order of their commands.
pub(crate) fn flush() {
    let replies = HELD.with_borrow_mut(|h| {
        h.since = None;
        std::mem::take(&mut h.replies)
    });
    for reply in replies {
        reply();
    }
}

/// Sends the held replies if there are [`MAX_HELD`] or the first is [`MAX_AGE`] old.
pub(crate) fn flush_if_due() {
    let due = HELD.with_borrow(|h| {
        h.replies.len() >= MAX_HELD || h.since.is_some_and(|t| t.elapsed() >= MAX_AGE)
    });
    if due {
        flush();
    }
}
