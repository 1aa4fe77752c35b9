//! The shared state behind a connection's handles, and the two mechanisms that keep the
//! connection usable when a call is abandoned:
//!
//! - **Cancellation that reaches the server.** A call whose future is dropped before it
//!   finished (its task was cancelled, or a timeout fired) may leave a query running on the
//!   server, and every later request on the connection would wait behind it. Its
//!   [`InFlight`] guard then schedules a cancel: an empty query is queued behind the abandoned
//!   one as a marker, PostgreSQL's CancelRequest goes to the server on a new socket (asyncpg
//!   does the same), and the marker's reply says the abandoned query is over.
//! - **Fix-ups in order.** The cancel, a `ROLLBACK` for a transaction guard dropped without
//!   commit and an `UNLISTEN` for a dropped listener all need the server before the next call
//!   runs. They go to a queue run by one task; while it is non-empty the connection is *dirty*
//!   and new calls wait for it to drain (one atomic load when it is clean).
//!
//! Invariant: a cancel can only hit the abandoned query, the marker, or a query another task
//! had already pipelined between them (that query then fails with SQLSTATE 57014,
//! `query_canceled`); never a call that starts after the abandonment, because such a call
//! waits until the marker's reply has come back and the CancelRequest's socket has closed (the
//! server has signalled the backend by then, and a signal that finds it idle is ignored).

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::path::PathBuf;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use conductor::net::{TcpStream, UnixStream};
use conductor::{Event, Handle};
use tokio::io::AsyncReadExt;
use tokio_postgres::{CancelToken, Client, NoTls};

use crate::cache::StatementCache;
use crate::driver::DriverState;
use crate::error::Error;

/// How long a CancelRequest may take (connect, send, the server's close).
const CANCEL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the connection went, so that a CancelRequest goes to the same server.
#[derive(Debug, Clone)]
pub(crate) enum Addr {
    Tcp(std::net::SocketAddr),
    Unix(PathBuf),
}

/// Work that must reach the server before the connection's next call.
pub(crate) enum Fixup {
    /// Cancel what runs now, and wait until it has ended.
    Cancel,
    /// Run a statement (ROLLBACK, ROLLBACK TO SAVEPOINT, UNLISTEN...), ignoring its result.
    Sql(String),
}

#[derive(Default)]
struct Fixups {
    pending: VecDeque<Fixup>,
    running: bool,
}

/// Everything a connection's handles share.
pub(crate) struct Session {
    pub(crate) client: Client,
    pub(crate) cache: StatementCache,
    pub(crate) driver: Arc<DriverState>,
    pub(crate) command_timeout: Option<Duration>,
    /// Open transaction guards (0: not in a transaction this crate started).
    pub(crate) tx_depth: AtomicUsize,
    pub(crate) savepoints: AtomicUsize,
    pub(crate) created: Instant,
    cancel: CancelToken,
    addr: Addr,
    handle: Handle,
    fixups: Mutex<Fixups>,
    dirty: AtomicBool,
    /// A call saw the session end (a FATAL error) before the driver saw the socket close.
    broken: AtomicBool,
    settled: Event,
}

impl Session {
    pub(crate) fn new(
        client: Client,
        driver: Arc<DriverState>,
        addr: Addr,
        cache_size: usize,
        command_timeout: Option<Duration>,
    ) -> Session {
        let settled = Event::new();
        settled.set();
        Session {
            cancel: client.cancel_token(),
            client,
            cache: StatementCache::new(cache_size),
            driver,
            command_timeout,
            tx_depth: AtomicUsize::new(0),
            savepoints: AtomicUsize::new(0),
            created: Instant::now(),
            addr,
            handle: Handle::current(),
            fixups: Mutex::new(Fixups::default()),
            dirty: AtomicBool::new(false),
            broken: AtomicBool::new(false),
            settled,
        }
    }

    /// True once the driver has stopped (server gone, socket failed, closed).
    pub(crate) fn is_closed(&self) -> bool {
        self.driver.is_done() || self.client.is_closed() || self.broken.load(Ordering::Acquire)
    }

    /// Records that a call's error ended the session.
    pub(crate) fn mark_broken(&self) {
        self.broken.store(true, Ordering::Release);
    }

    /// True while fix-ups are queued or running.
    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    /// The error for a tokio-postgres failure, with the driver's reason when the connection is
    /// gone.
    pub(crate) fn error(&self, e: tokio_postgres::Error) -> Error {
        if e.is_closed() {
            Error::Closed {
                reason: self.driver.reason(),
            }
        } else {
            Error::Postgres(e)
        }
    }

    pub(crate) fn closed_error(&self) -> Error {
        Error::Closed {
            reason: self.driver.reason(),
        }
    }

    /// Waits until queued fix-ups have reached the server.
    pub(crate) async fn settle(&self) {
        while self.is_dirty() && !self.driver.is_done() {
            self.settled.wait().await;
        }
    }

    /// Queues a fix-up; the connection is dirty until it has run.
    pub(crate) fn schedule(self: &Arc<Self>, fixup: Fixup) {
        if self.driver.is_done() {
            return;
        }
        let mut f = self.fixups.lock().unwrap_or_else(|p| p.into_inner());
        f.pending.push_back(fixup);
        if f.running {
            return;
        }
        f.running = true;
        self.settled.clear();
        self.dirty.store(true, Ordering::Release);
        drop(f);
        let session = self.clone();
        // Through the driver's loop: a handle may be dropped on another thread, or outside
        // any task.
        let sent = self.handle.call_soon_threadsafe(move || {
            drop(conductor::spawn_named(
                "conductor-postgres fix-up",
                session.run_fixups(),
            ));
        });
        if sent.is_err() {
            // The loop is gone, and the driver with it: nothing can reach the server.
            self.driver_gone();
        }
    }

    fn driver_gone(&self) {
        let mut f = self.fixups.lock().unwrap_or_else(|p| p.into_inner());
        f.pending.clear();
        f.running = false;
        self.dirty.store(false, Ordering::Release);
        self.settled.set();
    }

    async fn run_fixups(self: Arc<Self>) {
        // Whatever ends this task (its loop shutting down included) leaves the connection
        // clean for waiters, so that none waits forever.
        struct Done<'a>(&'a Session);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.driver_gone();
            }
        }
        let _done = Done(&self);
        loop {
            let next = {
                let mut f = self.fixups.lock().unwrap_or_else(|p| p.into_inner());
                match f.pending.pop_front() {
                    Some(next) => next,
                    None => return,
                }
            };
            match next {
                Fixup::Cancel => self.cancel_running().await,
                Fixup::Sql(sql) => {
                    let _ = self.client.batch_execute(&sql).await;
                }
            }
        }
    }

    /// Queues the marker, sends the CancelRequest, and waits for the marker's reply.
    async fn cancel_running(&self) {
        let mut marker = pin!(self.client.batch_execute(""));
        // The first poll puts the marker on the connection's queue, behind the abandoned query.
        let mut finished = false;
        poll_fn(|cx| {
            finished = marker.as_mut().poll(cx).is_ready();
            Poll::Ready(())
        })
        .await;
        let _ = conductor::timeout(CANCEL_TIMEOUT, send_cancel(&self.addr, &self.cancel)).await;
        if !finished {
            // Its error (57014 when the cancel hit it) does not matter: its reply does.
            let _ = marker.await;
        }
    }
}

/// PostgreSQL's CancelRequest on a new socket, then waits for the server to close it: by then
/// the backend has been signalled.
async fn send_cancel(addr: &Addr, token: &CancelToken) -> std::io::Result<()> {
    match addr {
        Addr::Tcp(a) => {
            let mut s = TcpStream::connect(*a).await?;
            let _ = token.cancel_query_raw(&mut s, NoTls).await;
            drain(&mut s).await
        }
        Addr::Unix(p) => {
            let mut s = UnixStream::connect(p).await?;
            let _ = token.cancel_query_raw(&mut s, NoTls).await;
            drain(&mut s).await
        }
    }
}

async fn drain(s: &mut (impl tokio::io::AsyncRead + Unpin)) -> std::io::Result<()> {
    let mut buf = [0u8; 64];
    while s.read(&mut buf).await? > 0 {}
    Ok(())
}

/// Held by every call while it runs: dropped before [`InFlight::finish`], it schedules a
/// cancel.
pub(crate) struct InFlight<'a> {
    session: &'a Arc<Session>,
    armed: bool,
}

impl<'a> InFlight<'a> {
    pub(crate) fn new(session: &'a Arc<Session>) -> Self {
        InFlight {
            session,
            armed: true,
        }
    }

    pub(crate) fn finish(mut self) {
        self.armed = false;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.session.schedule(Fixup::Cancel);
        }
    }
}
