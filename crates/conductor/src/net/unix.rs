//! Unix domain sockets: `UnixStream`, `UnixListener`, `UnixDatagram`.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{ready, Context, Poll};

use super::addr::addr_error;
use super::split::{self, OwnedReadHalf, OwnedWriteHalf, SplitStream};
use super::ServerOptions;
use crate::io::evented::{Evented, BOTH, READ, WRITE};
use crate::streams::{Address, ExtraInfo, StreamReader, StreamWriter};

/// A Unix stream socket on the loop's selector: the same interface as
/// [`TcpStream`](super::TcpStream), for local connections named by a path.
///
/// It belongs to the loop it was created on and is `!Send`.
///
/// ```
/// use conductor::net::UnixStream;
/// # conductor::run(async {
/// let (mut a, mut b) = UnixStream::pair().unwrap();
/// a.write_all(b"hi").await.unwrap();
/// let mut buf = [0; 2];
/// b.read_exact(&mut buf).await.unwrap();
/// assert_eq!(&buf, b"hi");
/// # });
/// ```
pub struct UnixStream {
    io: Evented<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    /// No such socket, nobody listening (`ConnectionRefused`), or `WouldBlock` when the
    /// listener's accept queue is full (Unix sockets cannot wait for room: retry later).
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let connect = async {
            let stream = Self::from_mio(mio::net::UnixStream::connect(path)?)?;
            poll_fn(|cx| stream.poll_connected(cx)).await?;
            Ok(stream)
        };
        connect
            .await
            .map_err(|e| addr_error("connect to", path.display(), e))
    }

    /// A connected pair of sockets (`socketpair(2)`).
    ///
    /// # Errors
    /// Out of file descriptors, or outside a running loop.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((Self::from_mio(a)?, Self::from_mio(b)?))
    }

    /// Registers a connected std socket with the running loop (and makes it non-blocking).
    ///
    /// # Errors
    /// Outside a running loop, or when the selector refuses it.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Self::from_mio(mio::net::UnixStream::from_std(stream))
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Evented::new(stream, BOTH)?,
        })
    }

    /// Leaves the loop's selector and returns the std socket (still non-blocking).
    ///
    /// # Errors
    /// When called on another loop than the socket's (the socket is then closed).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.io.into_inner()?.into())
    }

    /// The peer's address (usually unnamed, for the connecting side).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Shuts down the read side, the write side (half-close), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// The socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Splits into a read half and a write half.
    pub fn into_split(self) -> (OwnedReadHalf<UnixStream>, OwnedWriteHalf<UnixStream>) {
        split::split(self)
    }

    /// asyncio's streams over this connection (what `open_unix_connection` returns).
    pub fn into_streams(self) -> (StreamReader, StreamWriter) {
        let (reader, writer, _) = split::into_streams(self, crate::streams::DEFAULT_LIMIT);
        (reader, writer)
    }

    /// Waits until the socket is readable.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(READ).await
    }

    /// Waits until the socket is writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(WRITE).await
    }

    /// Reads what is there without waiting; `WouldBlock` when nothing is.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(READ, |s| (&*s).read(buf))
    }

    /// Writes what the socket takes without waiting; `WouldBlock` when it takes nothing.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(WRITE, |s| (&*s).write(buf))
    }

    /// Reads into `buf`, waiting for data; `Ok(0)` at the end of the stream.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| split::sealed::Sealed::poll_read_priv(&*self, cx, buf)).await
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
        poll_fn(|cx| split::sealed::Sealed::poll_write_priv(&*self, cx, buf)).await
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

    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.io.poll_ready(cx, WRITE))?;
            if let Some(e) = self.take_error()? {
                return Poll::Ready(Err(e));
            }
            match self.peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => self.io.clear_ready(WRITE),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl split::sealed::Sealed for UnixStream {
    fn extra_info_priv(&self) -> ExtraInfo {
        ExtraInfo {
            peername: self.peer_addr().ok().map(Address::Unix),
            sockname: self.local_addr().ok().map(Address::Unix),
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

impl SplitStream for UnixStream {}

stream_io_traits!(UnixStream);

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixStream")
            .field(self.io.get_ref())
            .finish()
    }
}

/// A listening Unix stream socket on the loop's selector.
///
/// ```
/// use conductor::net::{UnixListener, UnixStream};
/// # conductor::run(async {
/// let dir = std::env::temp_dir().join(format!("conductor-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("listener.sock");
/// let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path).unwrap();
/// let client = conductor::spawn({
///     let path = path.clone();
///     async move { UnixStream::connect(path).await.unwrap() }
/// });
/// let (_conn, _peer) = listener.accept().await.unwrap();
/// client.await.unwrap();
/// std::fs::remove_dir_all(&dir).unwrap();
/// # });
/// ```
pub struct UnixListener {
    io: Evented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` (which must not exist) with the default [`ServerOptions`].
    ///
    /// # Errors
    /// When `path` exists or cannot be created, or outside a running loop.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        Self::bind_with(path, &ServerOptions::new())
    }

    /// Binds to `path` with `options` (the backlog).
    ///
    /// # Errors
    /// As [`bind`](Self::bind).
    pub fn bind_with(path: impl AsRef<Path>, options: &ServerOptions) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let listener = options
            .bind_unix(path)
            .map_err(|e| addr_error("bind to", path.display(), e))?;
        Self::from_std(listener)
    }

    /// Registers a listening std socket with the running loop (and makes it non-blocking).
    ///
    /// # Errors
    /// Outside a running loop, or when the selector refuses it.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: Evented::new(
                mio::net::UnixListener::from_std(listener),
                mio::Interest::READABLE,
            )?,
        })
    }

    /// Leaves the loop's selector and returns the std socket (still non-blocking).
    ///
    /// # Errors
    /// When called on another loop than the socket's (the socket is then closed).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner()?.into())
    }

    /// Waits for a connection.
    ///
    /// # Errors
    /// As [`TcpListener::accept`](super::TcpListener::accept).
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, peer) = self.io.io(READ, |l| l.accept()).await?;
        Ok((UnixStream::from_mio(stream)?, peer))
    }

    /// Polls for a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, peer) = ready!(self.io.poll_io(cx, READ, |l| l.accept()))?;
        Poll::Ready(UnixStream::from_mio(stream).map(|s| (s, peer)))
    }

    /// The path it is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixListener")
            .field(self.io.get_ref())
            .finish()
    }
}

/// A Unix datagram socket on the loop's selector.
///
/// ```
/// use conductor::net::UnixDatagram;
/// # conductor::run(async {
/// let (a, b) = UnixDatagram::pair().unwrap();
/// a.send(b"one datagram").await.unwrap();
/// let mut buf = [0; 64];
/// let n = b.recv(&mut buf).await.unwrap();
/// assert_eq!(&buf[..n], b"one datagram");
/// # });
/// ```
pub struct UnixDatagram {
    io: Evented<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path`.
    ///
    /// # Errors
    /// When `path` exists or cannot be created, or outside a running loop.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = mio::net::UnixDatagram::bind(path)
            .map_err(|e| addr_error("bind to", path.display(), e))?;
        Self::from_mio(socket)
    }

    /// A socket bound to no address (it can send, and receive replies only when connected).
    ///
    /// # Errors
    /// Out of file descriptors, or outside a running loop.
    pub fn unbound() -> io::Result<UnixDatagram> {
        Self::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets.
    ///
    /// # Errors
    /// Out of file descriptors, or outside a running loop.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((Self::from_mio(a)?, Self::from_mio(b)?))
    }

    /// Registers a std socket with the running loop (and makes it non-blocking).
    ///
    /// # Errors
    /// Outside a running loop, or when the selector refuses it.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Self::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Evented::new(socket, BOTH)?,
        })
    }

    /// Leaves the loop's selector and returns the std socket (still non-blocking).
    ///
    /// # Errors
    /// When called on another loop than the socket's (the socket is then closed).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.io.into_inner()?.into())
    }

    /// Sends to and receives from `path` only.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.io
            .get_ref()
            .connect(path)
            .map_err(|e| addr_error("connect to", path.display(), e))
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(WRITE, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer (truncated to `buf`).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(READ, |s| s.recv(buf)).await
    }

    /// Sends one datagram to `path`.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.io(WRITE, |s| s.send_to(buf, path)).await
    }

    /// Receives one datagram and its sender's address.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(READ, |s| s.recv_from(buf)).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down reading, writing, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// The socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixDatagram")
            .field(self.io.get_ref())
            .finish()
    }
}
