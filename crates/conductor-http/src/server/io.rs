//! The connection's IO as hyper sees it: conductor's stream through [`HyperIo`], plus what the
//! server's limits need to know (when the first byte of a request head arrived), the bytes read
//! while telling HTTP/1 from HTTP/2, and a canned `408` the driver can make hyper's next read
//! send before it sees the end of the stream.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use conductor::net::ReadUninit;
use futures_io::AsyncWrite;

use crate::rt::HyperIo;

/// What a connection's driver and its requests share (one per connection, on its loop).
#[derive(Debug)]
pub(crate) struct ConnState {
    /// Requests whose response is not finished (the service runs, or its body is being sent).
    in_flight: Cell<u32>,
    /// Requests seen so far.
    requests: Cell<u64>,
    /// When the connection last became idle (opened, or its last response finished).
    idle_since: Cell<Instant>,
    /// When the first byte of the next request head arrived, while idle (HTTP/1).
    first_byte: Cell<Option<Instant>>,
    /// The next read sends `408 Request Timeout` and reports the end of the stream.
    send_408: Cell<bool>,
    pub(crate) h2: Cell<bool>,
}

/// What ends a connection's wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Part of a request head came and the rest did not in time: `408`, then close.
    SlowHead,
    /// No request came in time (a fresh connection, or an idle keep-alive one): close.
    Idle,
}

impl ConnState {
    pub(crate) fn new() -> Self {
        ConnState {
            in_flight: Cell::new(0),
            requests: Cell::new(0),
            idle_since: Cell::new(conductor::now()),
            first_byte: Cell::new(None),
            send_408: Cell::new(false),
            h2: Cell::new(false),
        }
    }

    pub(crate) fn begin_request(&self) {
        self.in_flight.set(self.in_flight.get() + 1);
        self.requests.set(self.requests.get() + 1);
        self.first_byte.set(None);
    }

    pub(crate) fn end_request(&self) {
        let n = self.in_flight.get().saturating_sub(1);
        self.in_flight.set(n);
        if n == 0 {
            self.idle_since.set(conductor::now());
        }
    }

    pub(crate) fn send_408(&self) {
        self.send_408.set(true);
    }

    fn on_read(&self, n: usize) {
        if n > 0 && self.in_flight.get() == 0 && self.first_byte.get().is_none() {
            self.first_byte.set(Some(conductor::now()));
        }
    }

    /// When the connection's wait ends, and how; `None` while a request is in flight (its own
    /// timeout applies) or never.
    pub(crate) fn deadline(
        &self,
        header_read: Duration,
        keep_alive: Duration,
    ) -> Option<(Instant, Expiry)> {
        if self.in_flight.get() > 0 {
            return None;
        }
        if !self.h2.get()
            && let Some(t) = self.first_byte.get()
        {
            return t.checked_add(header_read).map(|d| (d, Expiry::SlowHead));
        }
        let idle = if self.requests.get() == 0 {
            header_read
        } else {
            keep_alive
        };
        self.idle_since
            .get()
            .checked_add(idle)
            .map(|d| (d, Expiry::Idle))
    }
}

/// The answer to a request head that did not arrive in time.
pub(crate) const RESPONSE_408: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\ncontent-length: 73\r\nconnection: close\r\n\r\n408 Request Timeout: the request head did not arrive within the time limit";

/// conductor's stream as hyper's IO, with the connection's state.
pub(crate) struct Tracked<S> {
    io: HyperIo<S>,
    state: std::rc::Rc<ConnState>,
    /// Bytes read while detecting the protocol, given to hyper first.
    prefix: Vec<u8>,
    pos: usize,
}

impl<S> Tracked<S> {
    pub(crate) fn new(stream: S, state: std::rc::Rc<ConnState>, prefix: Vec<u8>) -> Self {
        Tracked {
            io: HyperIo::new(stream),
            state,
            prefix,
            pos: 0,
        }
    }
}

impl<S: ReadUninit + AsyncWrite + Unpin> hyper::rt::Read for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.state.send_408.get() {
            // Best effort: a client that does not read its socket gets the end of the stream.
            let _ = Pin::new(this.io.get_mut()).poll_write(cx, RESPONSE_408);
            let _ = Pin::new(this.io.get_mut()).poll_flush(cx);
            return Poll::Ready(Ok(()));
        }
        if this.pos < this.prefix.len() {
            let n = buf.remaining().min(this.prefix.len() - this.pos);
            buf.put_slice(&this.prefix[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        // SAFETY: the stream only writes into the slice (ReadUninit's contract), so nothing
        // initialised is de-initialised.
        let dst = unsafe { buf.as_mut() };
        let n = ready!(Pin::new(this.io.get_mut()).poll_read_uninit(cx, dst))?;
        // SAFETY: `poll_read_uninit` initialised the first `n` bytes of `dst`.
        unsafe { buf.advance(n) };
        this.state.on_read(n);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> hyper::rt::Write for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write(Pin::new(&mut self.io), cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write_vectored(Pin::new(&mut self.io), cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_flush(Pin::new(&mut self.io), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_shutdown(Pin::new(&mut self.io), cx)
    }
}
