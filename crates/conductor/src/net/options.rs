//! `ServerOptions`: how a listening socket is made (asyncio's `create_server`/`start_server`
//! keyword arguments), and the socket2 calls that make it.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

use crate::streams::DEFAULT_LIMIT;

/// Options of a listening socket and of the streams a server hands out (asyncio's `backlog=`,
/// `reuse_address=`, `reuse_port=`, `limit=`).
///
/// ```
/// use conductor::net::{ServerOptions, TcpListener};
/// # conductor::run(async {
/// let options = ServerOptions::new().backlog(16).reuse_port(true);
/// let listener = TcpListener::bind_with("127.0.0.1:0".parse().unwrap(), &options).unwrap();
/// assert!(listener.local_addr().unwrap().port() != 0);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub(crate) backlog: i32,
    pub(crate) reuse_address: bool,
    pub(crate) reuse_port: bool,
    pub(crate) limit: usize,
    pub(crate) nodelay: bool,
    #[cfg(feature = "tls")]
    pub(crate) ssl: Option<crate::tls::TlsAcceptor>,
    #[cfg(feature = "tls")]
    pub(crate) ssl_handshake_timeout: std::time::Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerOptions {
    /// A backlog of 1024 (asyncio's is 100: servers here are expected to take bursts),
    /// `SO_REUSEADDR` on (asyncio's default on Unix), `SO_REUSEPORT` off, a 64 KiB reader limit,
    /// `TCP_NODELAY` on accepted streams (as asyncio's transports set it).
    pub fn new() -> Self {
        ServerOptions {
            backlog: 1024,
            reuse_address: true,
            reuse_port: false,
            limit: DEFAULT_LIMIT,
            nodelay: true,
            #[cfg(feature = "tls")]
            ssl: None,
            #[cfg(feature = "tls")]
            ssl_handshake_timeout: std::time::Duration::from_secs(60),
        }
    }

    /// The length of the queue of connections waiting for `accept` (the kernel may cap it at
    /// `net.core.somaxconn`).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        self
    }

    /// `SO_REUSEADDR`: bind even while old connections of the port linger in TIME_WAIT.
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = on;
        self
    }

    /// `SO_REUSEPORT`: several listeners (one per loop) share the port, and the kernel spreads
    /// new connections over them.
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// The buffer limit of the [`StreamReader`](crate::streams::StreamReader)s a server hands
    /// out (asyncio's `limit=`).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// Whether a server sets `TCP_NODELAY` on the connections it accepts.
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// Serves TLS with `acceptor` (asyncio's `start_server(ssl=ctx)`, feature `tls`): each
    /// accepted TCP connection runs the handshake in its own task, and the handler receives
    /// streams over the TLS session. A connection whose handshake fails or takes longer than
    /// [`ssl_handshake_timeout`](Self::ssl_handshake_timeout) is closed, and the reason
    /// printed to standard error (asyncio logs it); the handler never sees it. Unix-socket
    /// servers ignore it.
    #[cfg(feature = "tls")]
    pub fn ssl(mut self, acceptor: crate::tls::TlsAcceptor) -> Self {
        self.ssl = Some(acceptor);
        self
    }

    /// How long a client may take to finish the TLS handshake (asyncio's
    /// `ssl_handshake_timeout`, 60 s by default, as asyncio's).
    #[cfg(feature = "tls")]
    pub fn ssl_handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.ssl_handshake_timeout = timeout;
        self
    }

    /// A listening, non-blocking TCP socket bound to `addr`.
    pub(crate) fn bind_tcp(&self, addr: SocketAddr) -> io::Result<std::net::TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        socket.set_reuse_address(self.reuse_address)?;
        if self.reuse_port {
            socket.set_reuse_port(true)?;
        }
        socket.bind(&addr.into())?;
        socket.listen(self.backlog)?;
        Ok(socket.into())
    }

    /// A listening, non-blocking Unix socket bound to `path`.
    pub(crate) fn bind_unix(
        &self,
        path: &std::path::Path,
    ) -> io::Result<std::os::unix::net::UnixListener> {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        socket.bind(&socket2::SockAddr::unix(path)?)?;
        socket.listen(self.backlog)?;
        Ok(socket.into())
    }
}
