//! TCP: `TcpStream` (connect, read, write, half-close, options) and `TcpListener`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::Interest;
use socket2::{SockRef, TcpKeepalive};

use super::addr::{ToSocketAddrs, addr_error, each_addr};
use super::listener::ListenerKind;
use super::socket::Kind;
use super::stream::StreamKind;
use super::{ServerOptions, Socket};
use crate::streams::Address;

/// A TCP connection on the loop's selector (asyncio's socket transport, without the
/// protocol callbacks: read and write it through `futures_io::AsyncRead`/`AsyncWrite`, or turn
/// it into asyncio's streams with [`into_streams`](Socket::into_streams)).
///
/// It is a [`Socket`] of `std::net::TcpStream`: the stream methods it shares with
/// [`UnixStream`](super::UnixStream) are listed there. It belongs to the loop it was created
/// on and is `!Send`; to hand a connection to another loop, [`into_std`](Socket::into_std) it
/// there and [`from_std`](Socket::from_std) it back. Used on another loop of the same thread,
/// its IO fails with an error.
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
pub type TcpStream = Socket<std::net::TcpStream>;

impl Kind for std::net::TcpStream {
    type Mio = mio::net::TcpStream;
    const NAME: &'static str = "TcpStream";
    #[cfg(feature = "tracing")]
    const CONSOLE: bool = true;
}

impl StreamKind for std::net::TcpStream {
    fn names(io: &Self::Mio) -> (Option<Address>, Option<Address>) {
        let inet = |a: io::Result<SocketAddr>| a.ok().map(Address::Inet);
        (inet(io.peer_addr()), inet(io.local_addr()))
    }
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
        let sock = SockRef::from(self);
        match idle {
            Some(d) => sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(d)),
            None => sock.set_keepalive(false),
        }
    }

    /// Whether keepalive probes are on.
    pub fn keepalive(&self) -> io::Result<bool> {
        SockRef::from(self).keepalive()
    }

    /// `SO_LINGER`: `Some(ZERO)` makes closing reset the connection (the peer sees
    /// `ConnectionReset`) instead of the orderly end of stream.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self).set_linger(linger)
    }

    /// The IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
    TcpStream::connecting(mio::net::TcpStream::connect(addr))
        .await
        .map_err(|e| addr_error("connect to", addr, e))
}

/// A listening TCP socket on the loop's selector.
///
/// It is a [`Socket`] of `std::net::TcpListener`, whose `accept` is listed there. Like
/// [`TcpStream`], it belongs to its loop (`!Send`). For one listener per loop on the same
/// port, see [`serve_per_core`](super::serve_per_core) or [`ServerOptions::reuse_port`].
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
pub type TcpListener = Socket<std::net::TcpListener>;

impl Kind for std::net::TcpListener {
    type Mio = mio::net::TcpListener;
    const NAME: &'static str = "TcpListener";
    const INTEREST: Interest = Interest::READABLE;
}

impl ListenerKind for std::net::TcpListener {
    type Stream = std::net::TcpStream;
    type Addr = SocketAddr;

    fn accept(io: &Self::Mio) -> io::Result<(mio::net::TcpStream, SocketAddr)> {
        io.accept()
    }
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
