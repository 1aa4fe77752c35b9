//! `Evented`: the one readiness adapter (tokio's `PollEvented`). It holds a mio source and its
//! registration with the loop's selector, and turns readiness into operations: every socket of
//! `net`, the process pipes and pidfds, and the user's descriptors ([`AsyncFd`](super::AsyncFd))
//! do their IO through these few methods and nowhere else.
//!
//! Every wait goes through one readiness poll, which spends one unit of the task's cooperative
//! budget first: a task on a source that is always ready (a full pipe, a socket under load)
//! still yields to the loop within the budget, whatever the source.
//!
//! Readiness is edge-triggered and changes only on the loop's thread between task polls (see
//! `io`), so clearing it here after `WouldBlock`, or after a short read, cannot lose an event:
//! bytes that arrive after the system call produce a new edge at the next poll.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll, ready};

use mio::Interest;
use mio::event::Source;

use super::driver::WaitKey;
use super::{Direction, Registration};
use crate::context::poll_budget as poll_proceed;

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

    /// The source, for calls that do not wait (addresses, options).
    pub(crate) fn get_ref(&self) -> &S {
        &self.source
    }

    /// The source, mutably (it must stay the same descriptor).
    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.source
    }

    /// Leaves the selector and gives the source back (to move it to another loop); an error
    /// (under another loop) drops the source.
    pub(crate) fn into_inner(self) -> io::Result<S> {
        let (source, left) = self.leave();
        left.map(|()| source)
    }

    /// Leaves the selector, and gives the source back whether that worked or not (under
    /// another loop the descriptor stays in that loop's selector until it is closed; its events
    /// are then ignored).
    pub(crate) fn leave(self) -> (S, io::Result<()>) {
        let Evented {
            mut source,
            mut reg,
        } = self;
        let left = reg.deregister(&mut source);
        (source, left)
    }

    /// The readiness poll: spends one unit of the task's budget (so that a task on a source
    /// that is always ready still yields to the loop), then waits until the source is ready in
    /// `dir` (or closed, or in error). For `poll_*` methods, whose callers share one waker slot
    /// per direction (see `io::waiters`).
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        ready!(poll_proceed(cx));
        self.reg.poll_ready(cx, dir)
    }

    /// Forgets readiness in `dir` (after `WouldBlock` from a call made outside `poll_io`).
    pub(crate) fn clear_ready(&self, dir: Direction) {
        self.reg.clear_ready(dir);
    }

    /// Forgets only the data readiness in `dir` (after a short read or write made outside
    /// `poll_io`), keeping a closed or error state seen with it.
    pub(crate) fn clear_data_ready(&self, dir: Direction) {
        self.reg.clear_data_ready(dir);
    }

    /// Runs `op` once the source is ready (after the readiness poll), waiting again while it
    /// would block.
    ///
    /// A fresh source counts as writable (see `io::driver`), so a first write is simply tried.
    #[inline]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(self.poll_ready(cx, dir))?;
        loop {
            match op(&self.source) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.reg.clear_ready(dir);
                    ready!(self.reg.poll_ready(cx, dir))?;
                }
                other => return Poll::Ready(other),
            }
        }
    }

    /// [`poll_io`](Self::poll_io) for a byte-stream read or write of `len` bytes. A short read
    /// means the buffer was drained, so read readiness is cleared at once and the next read
    /// waits for the next edge instead of paying a `WouldBlock` call. A short write keeps write
    /// readiness: the next write is tried, and a `WouldBlock` then waits for the edge.
    #[inline]
    pub(crate) fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let r = ready!(self.poll_io(cx, dir, op));
        if let Ok(n) = r
            && dir == Direction::Read
            && n > 0
            && n < len
        {
            self.reg.clear_data_ready(dir);
        }
        Poll::Ready(r)
    }

    /// Waits until the source is ready in `dir`, as a future with its own place among the
    /// source's waiters: every task waiting so is woken (unlike [`poll_ready`](Self::poll_ready),
    /// whose callers share one slot). Spends the budget as `poll_ready` does.
    pub(crate) async fn ready(&self, dir: Direction) -> io::Result<()> {
        let mut waiter = Waiter::new(&self.reg, dir);
        poll_fn(|cx| {
            ready!(poll_proceed(cx));
            waiter.poll_ready(cx)
        })
        .await
    }

    /// [`poll_io`](Self::poll_io) as a future with its own place among the source's waiters
    /// (see [`ready`](Self::ready)): what the `async` methods use, so that tasks sharing a
    /// source (`recv_from` on one UDP socket, `accept` on one listener) are each woken.
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
        if let Err(e) = &r
            && e.kind() == io::ErrorKind::WouldBlock
        {
            self.reg.clear_ready(dir);
        }
        r
    }
}

/// A waiting future's entry among its source's waiters, removed when the future goes away.
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
