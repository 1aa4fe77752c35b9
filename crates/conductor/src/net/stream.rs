//! The stream sockets' IO, once for TCP and Unix: `Socket<T>` for a `T` of [`StreamKind`]
//! reads, writes, half-closes, splits and turns into asyncio's streams, and implements the IO
//! traits (`io_traits`). `tcp` and `unix` add how each connects, its addresses and options.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd};
use std::task::{Context, Poll, ready};

use rustix::net::{RecvFlags, SendFlags};
use socket2::SockRef;

use super::Socket;
use super::socket::Kind;
use super::split::sealed::Sealed;
use super::split::{self, OwnedReadHalf, OwnedWriteHalf, SplitStream};
use crate::io::evented::{READ, WRITE};
use crate::streams::{Address, ExtraInfo, StreamReader, StreamWriter};

/// What a stream socket type adds to [`Kind`]: its mio socket reads and writes through a
/// shared reference ([`Duplex`]), and it names its peer and itself for asyncio's
/// `get_extra_info`.
pub trait StreamKind: Kind<Mio: Duplex> {
    /// The peer's address and the local one (`'peername'`, `'sockname'`), where they are known.
    fn names(io: &Self::Mio) -> (Option<Address>, Option<Address>);
}

/// A socket read and written through `&self`, as `&mio::net::TcpStream` and
/// `&mio::net::UnixStream` are.
pub trait Duplex {
    /// One `recv(2)`.
    fn read_some(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// One `send(2)`.
    fn write_some(&self, buf: &[u8]) -> io::Result<usize>;
    /// One `writev(2)`.
    fn write_some_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
}

// The system calls themselves, through rustix: std's `Read`/`Write` for sockets go through
// libc's `recv`/`send`, which as pthread cancellation points cost ~60 instructions a call pair
// more (callgrind, the echo benchmark). `send` with `MSG_NOSIGNAL`, as std's `TcpStream` does:
// a peer that closed is an `EPIPE` error, never a SIGPIPE, for Unix sockets too.
impl<S: AsFd> Duplex for S {
    #[inline]
    fn read_some(&self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(rustix::net::recv(self, buf, RecvFlags::empty())?.0)
    }

    #[inline]
    fn write_some(&self, buf: &[u8]) -> io::Result<usize> {
        Ok(rustix::net::send(self, buf, SendFlags::NOSIGNAL)?)
    }

    #[inline]
    fn write_some_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Ok(rustix::io::writev(self, bufs)?)
    }
}

/// The stream sockets: [`TcpStream`](super::TcpStream) and [`UnixStream`](super::UnixStream).
impl<T: StreamKind> Socket<T> {
    /// Registers a socket whose non-blocking `connect(2)` has begun, and waits until the
    /// connection is made (or has failed).
    pub(super) async fn connecting(socket: io::Result<T::Mio>) -> io::Result<Self> {
        let stream = Self::from_mio(socket?)?;
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        Ok(stream)
    }

    /// A non-blocking connect is done when the socket turns writable: then either it has a
    /// peer, or `SO_ERROR` says why not.
    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.io.poll_ready(cx, WRITE))?;
            if let Some(e) = self.take_error()? {
                return Poll::Ready(Err(e));
            }
            match SockRef::from(self).peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                // Woken before the handshake finished: wait for the next edge.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => self.io.clear_ready(WRITE),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Shuts down the read side, the write side (half-close: the peer reads the end of the
    /// stream, and this side can still read), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        SockRef::from(self).shutdown(how)
    }

    /// Splits into a read half and a write half, for one task to read while another writes.
    pub fn into_split(self) -> (OwnedReadHalf<Self>, OwnedWriteHalf<Self>) {
        split::split(self)
    }

    /// asyncio's streams over this connection (what `open_connection` and
    /// `open_unix_connection` return), with the default limits.
    pub fn into_streams(self) -> (StreamReader, StreamWriter) {
        let (reader, writer, _) = split::into_streams(self, crate::streams::DEFAULT_LIMIT);
        (reader, writer)
    }

    /// Waits until the socket is readable (data, the end of the stream, or an error).
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(READ).await
    }

    /// Waits until the socket is writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(WRITE).await
    }

    /// Reads what is there without waiting; `WouldBlock` when nothing is (after which
    /// [`readable`](Self::readable) waits for more).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(READ, |s| s.read_some(buf))
    }

    /// Writes what the socket takes without waiting; `WouldBlock` when it takes nothing.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(WRITE, |s| s.write_some(buf))
    }

    /// Reads into `buf`, waiting for data; `Ok(0)` at the end of the stream.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_priv(cx, buf)).await
    }

    /// Fills `buf` exactly; `UnexpectedEof` when the stream ends first.
    pub async fn read_exact(&mut self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    /// Writes some of `buf`, waiting until the socket takes at least one byte.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_priv(cx, buf)).await
    }

    /// Writes all of `buf`.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }
}

impl<T: StreamKind> Sealed for Socket<T> {
    fn extra_info_priv(&self) -> ExtraInfo {
        let (peername, sockname) = T::names(self.io.get_ref());
        ExtraInfo {
            peername,
            sockname,
            fd: Some(self.as_raw_fd()),
        }
    }

    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.console_read(|| {
            self.io
                .poll_transfer(cx, READ, buf.len(), |s| s.read_some(buf))
        })
    }

    fn poll_read_uninit_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.console_read(|| {
            self.io
                .poll_transfer(cx, READ, len, |s| super::read_uninit::recv(s, buf))
        })
    }

    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.console_write(|| {
            self.io
                .poll_transfer(cx, WRITE, buf.len(), |s| s.write_some(buf))
        })
    }

    fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.console_write(|| {
            self.io
                .poll_transfer(cx, WRITE, len, |s| s.write_some_vectored(bufs))
        })
    }

    fn shutdown_priv(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown(how)
    }
}

/// A read or a write as tokio-console sees it: inside the socket's resource, with the bytes
/// counted; without the `tracing` feature, the call itself.
impl<T: StreamKind> Socket<T> {
    #[inline(always)]
    fn console_read(&self, f: impl FnOnce() -> Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        #[cfg(feature = "tracing")]
        if let Some(c) = &self.console {
            return c.poll_read(f);
        }
        f()
    }

    #[inline(always)]
    fn console_write(
        &self,
        f: impl FnOnce() -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        #[cfg(feature = "tracing")]
        if let Some(c) = &self.console {
            return c.poll_write(f);
        }
        f()
    }
}

impl<T: StreamKind> SplitStream for Socket<T> {}

async_read!(Socket<T: StreamKind>, |s| s);
async_write!(Socket<T: StreamKind>, |s| s);
