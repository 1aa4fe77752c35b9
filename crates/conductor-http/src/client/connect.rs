//! Opening a connection: name resolution (conductor's `lookup_host`), TCP to each address in
//! turn (bounded by `sock_connect`), TLS with ALPN, then hyper's HTTP/1 or HTTP/2 handshake
//! with its driver spawned on the loop.

use std::net::SocketAddr;
use std::time::Duration;

use conductor::net::{ReadUninit, TcpStream};
use conductor::tls::TlsConnector;
use futures_io::{AsyncRead, AsyncWrite};
use hyper::client::conn::{http1, http2};

use super::error::{ErrorKind, TimeoutKind};
use super::pool::{Conn, Key, ReqBody, Slot};
use crate::rt::{ConductorTimer, HyperIo, LocalExecutor};

/// A new connection, ready for its first request.
pub(crate) enum Opened {
    H1(Conn),
    H2(http2::SendRequest<ReqBody>),
}

/// Why a connection could not be opened: the error's kind and its cause.
pub(crate) struct ConnectError {
    pub(crate) kind: ErrorKind,
    pub(crate) source: crate::BoxError,
}

impl ConnectError {
    fn new(kind: ErrorKind, source: impl Into<crate::BoxError>) -> Self {
        ConnectError {
            kind,
            source: source.into(),
        }
    }
}

/// How to connect: TLS (for `https`), HTTP/2 over cleartext by prior knowledge, the timeout of
/// one socket.
pub(crate) struct Connector<'a> {
    pub(crate) tls: Option<&'a TlsConnector>,
    pub(crate) h2_prior_knowledge: bool,
    pub(crate) sock_connect: Option<Duration>,
}

impl Connector<'_> {
    /// Connects to `key`, holding `slot` in the new connection.
    pub(crate) async fn open(&self, key: &Key, slot: Slot) -> Result<Opened, ConnectError> {
        let io = self.open_transport(key).await?;
        self.handshake(io, slot).await
    }

    /// TCP (and TLS for `https`) to the first of `key`'s addresses that answers.
    pub(crate) async fn open_transport(&self, key: &Key) -> Result<Transport, ConnectError> {
        let addrs = conductor::net::lookup_host((key.host.as_str(), key.port))
            .await
            .map_err(|e| {
                ConnectError::new(
                    ErrorKind::Connect,
                    format!("could not resolve {:?}: {e}", key.host),
                )
            })?;
        let mut last = None;
        for addr in addrs {
            match self.open_addr(key, addr).await {
                Ok(io) => return Ok(io),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            ConnectError::new(
                ErrorKind::Connect,
                format!("{:?} resolved to no address", key.host),
            )
        }))
    }

    /// TCP, then TLS for `https`, within `sock_connect`.
    async fn open_addr(&self, key: &Key, addr: SocketAddr) -> Result<Transport, ConnectError> {
        let work = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| ConnectError::new(ErrorKind::Connect, e))?;
            tcp.set_nodelay(true)
                .map_err(|e| ConnectError::new(ErrorKind::Connect, e))?;
            match self.tls {
                None => Ok(Transport::Tcp(tcp)),
                Some(tls) => tls
                    .connect(&key.host, tcp)
                    .await
                    .map(|s| Transport::Tls(Box::new(s)))
                    .map_err(|e| ConnectError::new(ErrorKind::Tls, e)),
            }
        };
        match self.sock_connect {
            None => work.await,
            Some(d) => conductor::timeout(d, work).await.unwrap_or_else(|_| {
                Err(ConnectError::new(
                    ErrorKind::Timeout(TimeoutKind::SockConnect(d)),
                    format!("connecting to {addr}"),
                ))
            }),
        }
    }

    async fn handshake(&self, io: Transport, slot: Slot) -> Result<Opened, ConnectError> {
        match io {
            Transport::Tcp(s) if self.h2_prior_knowledge => h2(s, slot).await,
            Transport::Tcp(s) => h1(s, slot).await,
            Transport::Tls(s) if s.alpn_protocol() == Some(b"h2") => h2(*s, slot).await,
            Transport::Tls(s) => h1(*s, slot).await,
        }
    }
}

/// A connected socket, before any HTTP.
pub(crate) enum Transport {
    Tcp(TcpStream),
    Tls(Box<conductor::tls::TlsStream<TcpStream>>),
}

fn handshake_error(e: hyper::Error) -> ConnectError {
    ConnectError::new(ErrorKind::Request, e)
}

/// HTTP/1.1: the driver is cancelled when the [`Conn`] drops.
async fn h1<S>(stream: S, slot: Slot) -> Result<Opened, ConnectError>
where
    S: ReadUninit + AsyncRead + AsyncWrite + Unpin + 'static,
{
    let (sender, conn) = http1::Builder::new()
        .handshake::<_, ReqBody>(HyperIo::new(stream))
        .await
        .map_err(handshake_error)?;
    let driver = conductor::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(target: "conductor_http::client", error = %e, "connection ended with an error");
        }
    });
    let task = driver.task_ref();
    driver.detach();
    Ok(Opened::H1(Conn::new(sender, task, slot)))
}

/// HTTP/2: one connection shared by the host's requests; the driver holds the slot and ends
/// when the server closes the connection or every sender is gone.
async fn h2<S>(stream: S, slot: Slot) -> Result<Opened, ConnectError>
where
    S: ReadUninit + AsyncRead + AsyncWrite + Unpin + 'static,
{
    let (sender, conn) = http2::Builder::new(LocalExecutor)
        .timer(ConductorTimer)
        .handshake::<_, ReqBody>(HyperIo::new(stream))
        .await
        .map_err(handshake_error)?;
    conductor::spawn(async move {
        let _slot = slot;
        if let Err(e) = conn.await {
            tracing::debug!(target: "conductor_http::client", error = %e, "HTTP/2 connection ended with an error");
        }
    })
    .detach();
    Ok(Opened::H2(sender))
}
