//! The tasks' side of the command channel: sending a job, awaiting its reply, and stopping it
//! when the awaiting future is dropped (see `worker.rs` for the thread's side).
//!
//! Replies travel on `conductor::sync::oneshot`, whose send takes the task's waker out and
//! wakes it by value: the connection's thread reaches the loop once per reply (a waker of a
//! loop task left behind and dropped on this thread would be a second trip through the loop's
//! remote queue, to settle its reference count).

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};
use std::sync::mpsc::Sender;
use std::task::{Context, Poll};

use conductor::sync::{Lock, oneshot};

use crate::error::{Error, Result};
use crate::worker::{Command, Cursors, Job, Running, shared};

/// One connection, as every handle of it sees it.
pub(crate) struct Inner {
    tx: Sender<Command>,
    next_id: AtomicU64,
    pub(crate) running: Arc<Running>,
    /// Held by a [`Transaction`](crate::Transaction) for its whole life, and by every other
    /// command only while it is sent: so other tasks' statements wait outside the transaction
    /// instead of landing inside it.
    pub(crate) lock: Lock,
    /// Commands sent and not yet answered or abandoned (the pool sends to the least busy
    /// reader).
    pub(crate) in_flight: AtomicUsize,
    pub(crate) batch_size: usize,
}

/// Whether a dropped future stops its command. Transaction control (BEGIN, COMMIT, ROLLBACK)
/// runs to the end either way, so a cancellation never leaves a transaction half-decided.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDrop {
    Interrupt,
    RunToEnd,
}

impl Inner {
    pub(crate) fn new(tx: Sender<Command>, running: Arc<Running>, batch_size: usize) -> Inner {
        Inner {
            tx,
            next_id: AtomicU64::new(1),
            running,
            lock: Lock::new(),
            in_flight: AtomicUsize::new(0),
            batch_size,
        }
    }

    /// A fresh id, for a command or a cursor. Never 0 (the thread's "nothing runs").
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed)
    }

    /// Sends a job with no reply (a cursor's close, a dropped transaction's rollback).
    pub(crate) fn send(&self, job: Job) -> Result<()> {
        let id = self.next_id();
        self.tx.send(Command { id, job }).map_err(|_| Error::Closed)
    }

    /// Sends `f` to run on the shared connection and returns the future of its result.
    pub(crate) fn submit<T, F>(self: &Arc<Self>, on_drop: OnDrop, f: F) -> Result<Pending<T>>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c rusqlite::Connection, &mut Cursors<'c>) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = shared(move |conn, cursors| {
            if on_drop == OnDrop::Interrupt && reply.is_closed() {
                return; // abandoned before it started
            }
            let result = caught(|| f(conn, cursors));
            crate::reply::deliver(move || {
                let _ = reply.send(result);
            });
        });
        self.start(job, rx, on_drop)
    }

    /// Sends `f` to run with the connection alone (`&mut`), once no cursor is open.
    pub(crate) fn submit_exclusive<T, F>(self: &Arc<Self>, f: F) -> Result<Pending<T>>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = Box::new(move |conn: Result<&mut rusqlite::Connection>| {
            if reply.is_closed() {
                return;
            }
            let _ = reply.send(conn.and_then(|conn| caught(|| f(conn))));
        });
        self.start(Job::Exclusive(job), rx, OnDrop::Interrupt)
    }

    /// Sends the close command; the reply comes once SQLite closed the connection.
    pub(crate) fn submit_close(self: &Arc<Self>) -> Result<Pending<()>> {
        let (reply, rx) = oneshot::channel();
        self.start(Job::Close(reply), rx, OnDrop::RunToEnd)
    }

    fn start<T>(
        self: &Arc<Self>,
        job: Job,
        rx: oneshot::Receiver<Result<T>>,
        on_drop: OnDrop,
    ) -> Result<Pending<T>> {
        let id = self.next_id();
        self.tx
            .send(Command { id, job })
            .map_err(|_| Error::Closed)?;
        self.in_flight.fetch_add(1, Relaxed);
        Ok(Pending {
            rx,
            id,
            inner: Arc::clone(self),
            on_drop,
            done: false,
        })
    }
}

/// Runs a closure that may be the user's, turning a panic into an error value.
fn caught<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        Err(Error::Panicked { message })
    })
}

/// The reply of one command. Dropped before the reply arrives, it stops the command (see
/// `worker.rs`): skipped if it has not started, interrupted if it runs.
pub(crate) struct Pending<T> {
    rx: oneshot::Receiver<Result<T>>,
    id: u64,
    inner: Arc<Inner>,
    on_drop: OnDrop,
    done: bool,
}

impl<T> Future for Pending<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = &mut *self;
        let reply = std::task::ready!(Pin::new(&mut this.rx).poll(cx));
        this.done = true;
        // No reply: the thread dropped the job unrun, which it does only when it closes.
        Poll::Ready(reply.unwrap_or(Err(Error::Closed)))
    }
}

impl<T> Drop for Pending<T> {
    fn drop(&mut self) {
        self.inner.in_flight.fetch_sub(1, Relaxed);
        if !self.done && self.on_drop == OnDrop::Interrupt {
            // Close first: the thread, if it has not started the command, then skips it.
            self.rx.close();
            self.inner.running.cancel(self.id);
        }
    }
}

/// Sends a job and awaits its result; `locked` waits first for any transaction of another task
/// to end (see [`Inner::lock`]).
pub(crate) async fn run<T, F>(inner: Arc<Inner>, locked: bool, f: F) -> Result<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c rusqlite::Connection, &mut Cursors<'c>) -> Result<T> + Send + 'static,
{
    let pending = if locked {
        let _guard = inner.lock.acquire().await;
        inner.submit(OnDrop::Interrupt, f)?
    } else {
        inner.submit(OnDrop::Interrupt, f)?
    };
    pending.await
}
