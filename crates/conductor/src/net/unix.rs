//! Unix domain sockets: `UnixStream`, `UnixListener`, `UnixDatagram`.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use mio::Interest;

use super::addr::addr_error;
use super::listener::ListenerKind;
use super::socket::Kind;
use super::stream::StreamKind;
use super::{ServerOptions, Socket};
use crate::io::evented::{READ, WRITE};
use crate::streams::Address;

/// A Unix stream socket on the loop's selector: the same interface as
/// [`TcpStream`](super::TcpStream), for local connections named by a path.
///
/// It is a [`Socket`] of `std::os::unix::net::UnixStream`, whose stream methods are listed
/// there. It belongs to the loop it was created on and is `!Send`.
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
pub type UnixStream = Socket<std::os::unix::net::UnixStream>;

impl Kind for std::os::unix::net::UnixStream {
    type Mio = mio::net::UnixStream;
    const NAME: &'static str = "UnixStream";
    #[cfg(feature = "tracing")]
    const CONSOLE: bool = true;
}

impl StreamKind for std::os::unix::net::UnixStream {
    fn names(io: &Self::Mio) -> (Option<Address>, Option<Address>) {
        let unix = |a: io::Result<SocketAddr>| a.ok().map(Address::Unix);
        (unix(io.peer_addr()), unix(io.local_addr()))
    }
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    /// No such socket, nobody listening (`ConnectionRefused`), or `WouldBlock` when the
    /// listener's accept queue is full (Unix sockets cannot wait for room: retry later).
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        Self::connecting(mio::net::UnixStream::connect(path))
            .await
            .map_err(|e| addr_error("connect to", path.display(), e))
    }

    /// A connected pair of sockets (`socketpair(2)`).
    ///
    /// # Errors
    /// Out of file descriptors, or outside a running loop.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        Self::from_mio_pair(mio::net::UnixStream::pair()?)
    }

    /// The peer's address (usually unnamed, for the connecting side).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

/// A listening Unix stream socket on the loop's selector: a [`Socket`] of
/// `std::os::unix::net::UnixListener`, whose `accept` is listed there.
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
pub type UnixListener = Socket<std::os::unix::net::UnixListener>;

impl Kind for std::os::unix::net::UnixListener {
    type Mio = mio::net::UnixListener;
    const NAME: &'static str = "UnixListener";
    const INTEREST: Interest = Interest::READABLE;
}

impl ListenerKind for std::os::unix::net::UnixListener {
    type Stream = std::os::unix::net::UnixStream;
    type Addr = SocketAddr;

    fn accept(io: &Self::Mio) -> io::Result<(mio::net::UnixStream, SocketAddr)> {
        io.accept()
    }
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

    /// The path it is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

/// A Unix datagram socket on the loop's selector: a [`Socket`] of
/// `std::os::unix::net::UnixDatagram` (its `from_std`, `into_std` and `take_error` are listed
/// there).
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
pub type UnixDatagram = Socket<std::os::unix::net::UnixDatagram>;

impl Kind for std::os::unix::net::UnixDatagram {
    type Mio = mio::net::UnixDatagram;
    const NAME: &'static str = "UnixDatagram";
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
        Self::from_mio_pair(mio::net::UnixDatagram::pair()?)
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
}
