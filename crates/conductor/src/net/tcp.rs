//! TCP: `TcpStream` (connect, read, write, half-close, options) and `TcpListener`.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};

use super::addr::{addr_error, each_addr, ToSocketAddrs};
use super::split::sealed::Sealed as _;
use super::split::{self, OwnedReadHalf, OwnedWriteHalf, SplitStream};
use super::ServerOptions;
use crate::io::evented::{Evented, BOTH, READ, WRITE};
use crate::streams::{Address, ExtraInfo, StreamReader, StreamWriter};

/// A TCP connection on the loop's selector (asyncio's socket transport, without the
/// protocol callbacks: read and write it through `futures_io::AsyncRead`/`AsyncWrite`, or turn
/// it into asyncio's streams with [`into_streams`](Self::into_streams)).
///
/// It belongs to the loop it was created on and is `!Send`; to hand a connection to another
/// loop, [`into_std`](Self::into_std) it there and [`from_std`](Self::from_std) it back. Used
/// on another loop of the same thread, its IO fails with an error.
///
/// ```
/// use conductor::net::{TcpListener, TcpStream};
/// # conductor::run(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let addr = listener.local_addr().unwrap();
/// let server = conductor::spawn(async move {
///     let (mut conn, _peer) = listener.accept().await.unwrap();
///     let mut buf = [0; 4];
///     let n = conn.read(&mut buf).await.unwrap();
///     conn.write_all(&buf[..n]).await.unwrap();
/// });
/// let mut client = TcpStream::connect(addr).await.unwrap();
/// client.write_all(b"ping").await.unwrap();
/// let mut buf = [0; 4];
/// client.read_exact(&mut buf).await.unwrap();
/// assert_eq!(&buf, b"ping");
/// server.await.unwrap();
/// # });
/// ```
pub struct TcpStream {
    io: Evented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to in turn (asyncio's
    /// `create_connection` without the protocol).
    ///
    /// # Errors
    /// The last address's error when none accepts; a resolution error.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, connect_addr).await
    }

    /// [`connect`](Self::connect), giving up after `timeout` (name resolution included) with
    /// an error of kind `TimedOut` (asyncio's `wait_for(open_connection(...), timeout)`).
    ///
    /// # Errors
    /// As `connect`, and `TimedOut`.
    pub async fn connect_timeout(
        addr: impl ToSocketAddrs,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        match crate::timeout(timeout, Self::connect(addr)).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "connect timed out after {timeout:?}: the peer did not answer (it may be \
                     down, or its accept queue full); retry, or raise the timeout"
                ),
            )),
        }
    }

    /// Registers a connected std socket with the running loop (and makes it non-blocking).
    ///
    /// # Errors
    /// Outside a running loop, or when the selector refuses it.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Self::from_mio(mio::net::TcpStream::from_std(stream))
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Evented::new(stream, BOTH)?,
        })
    }

    /// Leaves the loop's selector and returns the std socket (still non-blocking), to move the
    /// connection to another loop or thread.
    ///
    /// # Errors
    /// When called on another loop than the socket's (the socket is then closed).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_inner()?.into())
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// `TCP_NODELAY`: send small writes at once instead of coalescing them (Nagle's
    /// algorithm). asyncio's transports turn it on; `open_connection` and `start_server` do too.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(on)
    }

    /// Whether `TCP_NODELAY` is on.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// TCP keepalive: `Some(idle)` probes an idle connection after `idle`, `None` turns probes
    /// off (asyncio 3.13's `keep_alive=`).
    pub fn set_keepalive(&self, idle: Option<Duration>) -> io::Result<()> {
        let sock = SockRef::from(self.io.get_ref());
        match idle {
            Some(d) => sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(d)),
            None => sock.set_keepalive(false),
        }
    }

    /// Whether keepalive probes are on.
    pub fn keepalive(&self) -> io::Result<bool> {
        SockRef::from(self.io.get_ref()).keepalive()
    }

    /// `SO_LINGER`: `Some(ZERO)` makes closing reset the connection (the peer sees
    /// `ConnectionReset`) instead of the orderly end of stream.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// The IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Shuts down the read side, the write side (half-close: the peer reads the end of the
    /// stream, and this side can still read), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Splits into a read half and a write half, for one task to read while another writes.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::split(self)
    }

    /// asyncio's streams over this connection (what `open_connection` returns), with the
    /// default limits.
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
        self.io.try_io(READ, |s| (&*s).read(buf))
    }

    /// Writes what the socket takes without waiting; `WouldBlock` when it takes nothing.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(WRITE, |s| (&*s).write(buf))
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

async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
    let connect = async {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        Ok(stream)
    };
    connect.await.map_err(|e| addr_error("connect to", addr, e))
}

impl TcpStream {
    /// A non-blocking connect is done when the socket turns writable: then either it has a
    /// peer, or `SO_ERROR` says why not.
    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.io.poll_ready(cx, WRITE))?;
            if let Some(e) = self.take_error()? {
                return Poll::Ready(Err(e));
            }
            match self.peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                // Woken before the handshake finished: wait for the next edge.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => self.io.clear_ready(WRITE),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl split::sealed::Sealed for TcpStream {
    fn extra_info_priv(&self) -> ExtraInfo {
        ExtraInfo {
            peername: self.peer_addr().ok().map(Address::Inet),
            sockname: self.local_addr().ok().map(Address::Inet),
            fd: Some(self.as_raw_fd()),
        }
    }

    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_transfer(cx, READ, buf.len(), |s| (&*s).read(buf))
    }

    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_transfer(cx, WRITE, buf.len(), |s| (&*s).write(buf))
    }

    fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.io
            .poll_transfer(cx, WRITE, len, |s| (&*s).write_vectored(bufs))
    }

    fn shutdown_priv(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl SplitStream for TcpStream {}

stream_io_traits!(TcpStream);

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpStream").field(self.io.get_ref()).finish()
    }
}

/// A listening TCP socket on the loop's selector.
///
/// Like [`TcpStream`], it belongs to its loop (`!Send`). For one listener per loop on the
/// same port, see [`serve_per_core`](super::serve_per_core) or
/// [`ServerOptions::reuse_port`].
///
/// ```
/// use conductor::net::{TcpListener, TcpStream};
/// # conductor::run(async {
/// let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
/// let addr = listener.local_addr().unwrap();
/// let client = conductor::spawn(async move { TcpStream::connect(addr).await.unwrap() });
/// let (_conn, peer) = listener.accept().await.unwrap();
/// assert_eq!(peer, client.await.unwrap().local_addr().unwrap());
/// # });
/// ```
pub struct TcpListener {
    io: Evented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (the first address it resolves to that binds) with the default
    /// [`ServerOptions`].
    ///
    /// # Errors
    /// When no address binds (in use, not local, no permission); resolution errors.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let options = ServerOptions::new();
        each_addr(addr, |a| std::future::ready(Self::bind_with(a, &options))).await
    }

    /// Binds to `addr` with `options` (backlog, `SO_REUSEPORT`...), without a lookup.
    ///
    /// # Errors
    /// When the address does not bind, or outside a running loop.
    pub fn bind_with(addr: SocketAddr, options: &ServerOptions) -> io::Result<TcpListener> {
        let listener = options
            .bind_tcp(addr)
            .map_err(|e| addr_error("bind to", addr, e))?;
        Self::from_std(listener)
    }

    /// Registers a listening std socket with the running loop (and makes it non-blocking).
    ///
    /// # Errors
    /// Outside a running loop, or when the selector refuses it.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: Evented::new(
                mio::net::TcpListener::from_std(listener),
                mio::Interest::READABLE,
            )?,
        })
    }

    /// Leaves the loop's selector and returns the std socket (still non-blocking).
    ///
    /// # Errors
    /// When called on another loop than the socket's (the socket is then closed).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner()?.into())
    }

    /// Waits for a connection.
    ///
    /// # Errors
    /// What `accept(2)` reports: out of file descriptors (`EMFILE`, `ENFILE`: retry later;
    /// [`start_server`](super::start_server) backs off), a connection reset before it was
    /// accepted, or a registration failure. None of them closes the listener.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.io.io(READ, |l| l.accept()).await?;
        Ok((TcpStream::from_mio(stream)?, peer))
    }

    /// Polls for a connection (see [`accept`](Self::accept)).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, peer) = ready!(self.io.poll_io(cx, READ, |l| l.accept()))?;
        Poll::Ready(TcpStream::from_mio(stream).map(|s| (s, peer)))
    }

    /// The local address (with the port the OS chose when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The IP time-to-live of accepted connections.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of accepted connections.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpListener")
            .field(self.io.get_ref())
            .finish()
    }
}
