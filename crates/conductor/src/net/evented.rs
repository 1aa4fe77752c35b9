//! `Evented`: a mio socket and its registration with the loop's selector. Every socket type of
//! `net` does its IO through these few methods and nowhere else, so that a completion-based
//! driver (io_uring) can later come in here behind the same public types.
//!
//! Readiness is edge-triggered and changes only on the loop's thread between task polls (see
//! `io`), so clearing it here after `WouldBlock`, or after a short read or write, cannot lose an
//! event: bytes that arrive after the system call produce a new edge at the next poll.

use std::future::poll_fn;
use std::io;
use std::task::{ready, Context, Poll};

use mio::event::Source;
use mio::Interest;

use crate::io::driver::WaitKey;
use crate::io::{Direction, Registration};
use crate::runtime::budget::poll_proceed;

pub(crate) struct Evented<S: Source> {
    source: S,
    reg: Registration,
}

impl<S: Source> Evented<S> {
    /// Registers `source` with the running loop.
    pub(crate) fn new(mut source: S, interest: Interest) -> io::Result<Self> {
        let reg = Registration::new(&mut source, interest)?;
        Ok(Evented { source, reg })
    }

    /// The socket, for calls that do not wait (addresses, options).
    pub(crate) fn get_ref(&self) -> &S {
        &self.source
    }

    /// Leaves the selector and gives the socket back (to move it to another loop).
    pub(crate) fn into_inner(self) -> io::Result<S> {
        let Evented {
            mut source,
            mut reg,
        } = self;
        reg.deregister(&mut source)?;
        Ok(source)
    }

    /// Waits until the socket is ready in `dir` (or closed, or in error).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        self.reg.poll_ready(cx, dir)
    }

    /// Forgets readiness in `dir` (after `WouldBlock` from a call made outside `poll_io`).
    pub(crate) fn clear_ready(&self, dir: Direction) {
        self.reg.clear_ready(dir);
    }

    /// Runs `op` once the socket is ready, waiting again while it would block. Spends one unit
    /// of the task's budget first, so that a task on a socket that is always ready still
    /// yields to the loop.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(poll_proceed(cx));
        self.reg.poll_io(cx, dir, || op(&self.source))
    }

    /// [`poll_io`](Self::poll_io) for a byte-stream read or write of `len` bytes: a short
    /// transfer means the socket's buffer was drained (or filled), so readiness is cleared at
    /// once and the next call waits for the next edge instead of paying a `WouldBlock` call.
    ///
    /// Writes are tried before readiness is known (a socket is writable far more often than
    /// not, and a fresh socket has had no event yet): a `WouldBlock` then waits for the edge.
    pub(crate) fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        mut op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let r = if dir == WRITE {
            ready!(poll_proceed(cx));
            loop {
                match op(&self.source) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.reg.clear_ready(WRITE);
                        ready!(self.reg.poll_ready(cx, WRITE))?;
                    }
                    other => break other,
                }
            }
        } else {
            ready!(self.poll_io(cx, dir, op))
        };
        if let Ok(n) = r {
            if n > 0 && n < len {
                self.reg.clear_data_ready(dir);
            }
        }
        Poll::Ready(r)
    }

    /// Waits until the socket is ready in `dir`, as a future with its own place among the
    /// socket's waiters: every task waiting so is woken (unlike [`poll_ready`](Self::poll_ready),
    /// whose callers share one slot).
    pub(crate) async fn ready(&self, dir: Direction) -> io::Result<()> {
        let mut waiter = Waiter::new(&self.reg, dir);
        poll_fn(|cx| {
            ready!(poll_proceed(cx));
            waiter.poll_ready(cx)
        })
        .await
    }

    /// [`poll_io`](Self::poll_io) as a future with its own place among the socket's waiters
    /// (see [`ready`](Self::ready)): what the socket types' `async` methods use, so that tasks
    /// sharing a socket (`recv_from` on one UDP socket, `accept` on one listener) are each
    /// woken.
    pub(crate) async fn io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut waiter = Waiter::new(&self.reg, dir);
        poll_fn(|cx| {
            ready!(poll_proceed(cx));
            loop {
                ready!(waiter.poll_ready(cx))?;
                match op(&self.source) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.reg.clear_ready(dir),
                    other => return Poll::Ready(other),
                }
            }
        })
        .await
    }

    /// One attempt without waiting: `WouldBlock` when not ready (tokio's `try_read` family).
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let r = op(&self.source);
        if let Err(e) = &r {
            if e.kind() == io::ErrorKind::WouldBlock {
                self.reg.clear_ready(dir);
            }
        }
        r
    }
}

/// A waiting future's entry among its socket's waiters, removed when the future goes away.
struct Waiter<'a> {
    reg: &'a Registration,
    dir: Direction,
    key: Option<WaitKey>,
}

impl<'a> Waiter<'a> {
    fn new(reg: &'a Registration, dir: Direction) -> Self {
        Waiter {
            reg,
            dir,
            key: None,
        }
    }

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reg.poll_ready_as(cx, self.dir, &mut self.key)
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.reg.forget(self.dir, key);
        }
    }
}

impl<S: Source + std::fmt::Debug> std::fmt::Debug for Evented<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.source.fmt(f)
    }
}

pub(crate) const READ: Direction = Direction::Read;
pub(crate) const WRITE: Direction = Direction::Write;

/// Interest in both directions, which every stream socket registers.
pub(crate) const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
