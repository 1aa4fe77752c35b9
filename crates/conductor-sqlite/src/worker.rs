//! The connection's thread: it owns the `rusqlite::Connection` and runs commands from a channel,
//! one at a time, in the order they were sent (aiosqlite's design). The event loop never touches
//! SQLite; tasks send a command and await its reply on a oneshot.
//!
//! # Cancellation that stops the statement
//! A task that stops waiting (cancelled, timed out) drops its reply receiver and calls
//! [`Running::cancel`] with its command's id. Three cases, ordered by the `current` mutex that
//! the thread takes to start and end each command:
//! - the command has not started: the thread sees the closed receiver when it gets there, and
//!   skips it;
//! - it runs: `cancel` raises the `cancel` flag, which the progress handler (called by SQLite
//!   every [`PROGRESS_OPS`] virtual-machine steps) turns into `SQLITE_INTERRUPT` for that
//!   command's statements, and calls `sqlite3_interrupt` (rusqlite's `InterruptHandle`) to stop
//!   at once what the handler does not reach (a sort inside one step);
//! - it is over: nothing happens. The flag is cleared when the next command starts, so it never
//!   reaches another command.
//!
//! `sqlite3_interrupt` is left out while a cursor is open: SQLite clears its flag only once no
//! statement of the connection is active, so with a cursor's statement open it would also fail
//! the cursor's next batch and every later statement until the cursor ends. The progress handler
//! is exact, so cancellation still works then.
//!
//! # Cursors
//! A cursor's statement lives here, in a map of cached statements that borrow the connection,
//! between its batches. Its rows are stepped through rusqlite's `Rows`, forgotten after each
//! batch instead of dropped (dropping resets the statement; forgetting a `Rows` leaks nothing,
//! it holds only a reference) so the next batch continues where this one stopped. Since open
//! statements borrow the connection, commands get `&Connection`; [`Job::Exclusive`] (for
//! `call_mut`) runs only while no cursor is open.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::reply;

/// A cursor's statement, kept where its last batch stopped, and its column names.
pub(crate) struct OpenCursor<'c> {
    pub(crate) stmt: rusqlite::CachedStatement<'c>,
    pub(crate) columns: Arc<[String]>,
}

/// The open cursors, by id. Ids are never reused (they come from the connection's command
/// counter), so a late close cannot hit another cursor.
pub(crate) type Cursors<'c> = HashMap<u64, OpenCursor<'c>>;

/// A command on the shared connection.
pub(crate) type SharedJob =
    Box<dyn for<'c> FnOnce(&'c rusqlite::Connection, &mut Cursors<'c>) + Send>;

/// Boxes a closure as a [`SharedJob`] (a closure's signature is inferred from this bound, which
/// a bare `Box::new` cannot give it).
pub(crate) fn shared<F>(f: F) -> Job
where
    F: for<'c> FnOnce(&'c rusqlite::Connection, &mut Cursors<'c>) + Send + 'static,
{
    Job::Shared(Box::new(f))
}

/// A command that needs `&mut Connection` (told `Err` while cursors are open).
pub(crate) type ExclusiveJob = Box<dyn FnOnce(Result<&mut rusqlite::Connection>) + Send>;

pub(crate) enum Job {
    Shared(SharedJob),
    Exclusive(ExclusiveJob),
    /// Close the connection, reply with how it went, and end the thread.
    Close(conductor::sync::oneshot::Sender<Result<()>>),
}

pub(crate) struct Command {
    pub(crate) id: u64,
    pub(crate) job: Job,
}

/// How many virtual-machine steps SQLite runs between two calls of the progress handler.
pub(crate) const PROGRESS_OPS: i32 = 1000;

/// What the tasks' side and the thread share about the command that runs.
pub(crate) struct Running {
    /// The id of the running command, 0 between commands.
    current: Mutex<u64>,
    /// The running command was cancelled: the progress handler interrupts it.
    cancel: AtomicBool,
    /// Open cursors (see the module docs on `sqlite3_interrupt`).
    cursors: AtomicUsize,
    interrupt: rusqlite::InterruptHandle,
}

impl Running {
    pub(crate) fn new(conn: &rusqlite::Connection) -> Running {
        Running {
            current: Mutex::new(0),
            cancel: AtomicBool::new(false),
            cursors: AtomicUsize::new(0),
            interrupt: conn.get_interrupt_handle(),
        }
    }

    fn current(&self) -> std::sync::MutexGuard<'_, u64> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stops command `id` if it is running (called after its receiver was closed).
    pub(crate) fn cancel(&self, id: u64) {
        let current = self.current();
        if *current == id {
            self.cancel.store(true, Release);
            if self.cursors.load(Acquire) == 0 {
                self.interrupt.interrupt();
            }
        }
    }

    /// Whether the running command was cancelled (the progress handler's answer).
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Acquire)
    }

    fn run(&self, id: u64, job: impl FnOnce()) {
        self.switch(id);
        job();
        self.switch(0);
    }

    fn switch(&self, id: u64) {
        let mut current = self.current();
        *current = id;
        self.cancel.store(false, Release);
    }
}

/// The command channel, with the next command when it was taken early to see whether one is
/// queued.
struct Inbox<'a> {
    rx: &'a Receiver<Command>,
    peeked: Option<Command>,
}

impl Inbox<'_> {
    /// Whether a command is queued now (taken from the channel, kept for [`Inbox::next`]).
    fn has_queued(&mut self) -> bool {
        if self.peeked.is_none() {
            self.peeked = self.rx.try_recv().ok();
        }
        self.peeked.is_some()
    }

    /// The next command, waited for; `None` once every sender is gone.
    fn next(&mut self) -> Option<Command> {
        self.peeked.take().or_else(|| recv(self.rx))
    }
}

/// Runs the connection's commands until every sender is gone or a [`Job::Close`] arrives.
pub(crate) fn serve(mut conn: rusqlite::Connection, rx: Receiver<Command>, running: &Running) {
    let mut inbox = Inbox {
        rx: &rx,
        peeked: None,
    };
    let mut next = inbox.next();
    while let Some(cmd) = next {
        // An exclusive job or the close may take long: nothing waits behind it.
        reply::flush();
        next = match cmd.job {
            Job::Exclusive(job) => {
                running.run(cmd.id, || guarded(|| job(Ok(&mut conn))));
                inbox.next()
            }
            Job::Close(reply) => {
                let result = conn.close().map_err(|(_, e)| Error::from(e));
                let _ = reply.send(result);
                return;
            }
            Job::Shared(_) => serve_shared(&conn, cmd, &mut inbox, running),
        };
    }
}

/// Runs shared commands, keeping cursors open between them. Returns the first command that
/// needs the connection back (an exclusive job with no cursor open, or a close), or `None` when
/// the channel is closed.
fn serve_shared(
    conn: &rusqlite::Connection,
    first: Command,
    inbox: &mut Inbox<'_>,
    running: &Running,
) -> Option<Command> {
    let mut cursors: Cursors<'_> = HashMap::new();
    let mut cmd = first;
    loop {
        // With the next command queued already, this one's reply may be held (`reply.rs`).
        reply::allow_holding(inbox.has_queued());
        match cmd.job {
            Job::Shared(job) => {
                running.run(cmd.id, || guarded(|| job(conn, &mut cursors)));
                running.cursors.store(cursors.len(), Release);
            }
            Job::Exclusive(job) if !cursors.is_empty() => {
                reply::flush();
                let open = cursors.len();
                running.run(cmd.id, || guarded(|| job(Err(Error::CursorsOpen { open }))));
            }
            job => {
                running.cursors.store(0, Release);
                return Some(Command { id: cmd.id, job });
            }
        }
        if inbox.has_queued() {
            reply::flush_if_due();
        } else {
            reply::flush();
        }
        cmd = inbox.next()?;
    }
}

/// Runs a job; a panic outside the closures that report their own (see `Connection::call`)
/// must not end the thread.
fn guarded(job: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(job));
}

/// How long the thread keeps polling its channel after a command before it sleeps.
///
/// A task awaiting one call after another sends its next command a few microseconds after the
/// reply reached it (the loop's wake-up and a poll); caught while polling, that command costs
/// neither a futex wake of this thread nor the wait for a core to run it. The polling yields the
/// CPU between tries (`sched_yield`), so a thread placed on the loop's core gives way to the
/// loop. Measured on the 2-core machine, quiet, 20,000 inserts of one task, four rounds (µs a
/// call): no polling 2.69-6.88, 5 µs 2.71-2.88, 20 µs 2.96-3.82 (the longer polling takes the
/// CPU the loop needs when both share a core; under load it hurt more).
const POLL_BEFORE_SLEEP: Duration = Duration::from_micros(5);

/// Tries made with a spin hint only (well under a microsecond in all) before the yielding ones.
const SPINS: u32 = 64;

/// The next command: polled for [`POLL_BEFORE_SLEEP`] (see there), then waited for. `None`
/// once every sender is gone.
fn recv(rx: &Receiver<Command>) -> Option<Command> {
    let mut started = None;
    for tries in 0u32.. {
        match rx.try_recv() {
            Ok(cmd) => return Some(cmd),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        if tries < SPINS {
            std::hint::spin_loop();
            continue;
        }
        let since = *started.get_or_insert_with(Instant::now);
        if since.elapsed() >= POLL_BEFORE_SLEEP {
            break;
        }
        std::thread::yield_now();
    }
    rx.recv().ok()
}
