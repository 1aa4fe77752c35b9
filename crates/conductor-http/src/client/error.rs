//! `ClientError`: what failed, for which request (aiohttp's `ClientConnectorError`,
//! `ClientSSLError`, `ServerTimeoutError`, `ClientResponseError`... as one type with a kind).

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};

use crate::BoxError;

/// A request that failed: the method and URL, what went wrong ([`ErrorKind`]), and the
/// underlying error as [`source`](std::error::Error::source).
///
/// Its message names all three: "GET http://127.0.0.1:1/: could not connect to 127.0.0.1:1:
/// Connection refused (os error 111)", "GET http://127.0.0.1:8080/slow: timed out: no byte
/// of the response for 1s (ClientTimeout::sock_read)".
pub struct ClientError {
    method: Method,
    url: String,
    kind: ErrorKind,
    /// The status of a refused WebSocket handshake.
    status: Option<StatusCode>,
    source: Option<BoxError>,
}

/// What failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL does not parse, or is not `http`/`https` with a host (aiohttp's `InvalidURL`).
    InvalidUrl,
    /// A header, the body or a builder setting is invalid; nothing was sent.
    InvalidRequest,
    /// No TCP connection to the host: the name did not resolve, or every address refused
    /// (aiohttp's `ClientConnectorError`).
    Connect,
    /// The TLS handshake failed: an untrusted or wrong certificate, no shared protocol
    /// (aiohttp's `ClientSSLError`).
    Tls,
    /// A [`ClientTimeout`](super::ClientTimeout) ran out (aiohttp's `ServerTimeoutError`,
    /// `ConnectionTimeoutError`, `asyncio.TimeoutError`).
    Timeout(TimeoutKind),
    /// The server answered with an error status and `raise_for_status` was asked for
    /// (aiohttp's `ClientResponseError`).
    Status(StatusCode),
    /// The connection failed while sending the request or reading the response head
    /// (aiohttp's `ServerDisconnectedError`, `ClientOSError`).
    Request,
    /// The connection failed while reading the response body (aiohttp's
    /// `ClientPayloadError`).
    Body,
    /// The body is not what was asked for: not UTF-8 for `text`, not that JSON for `json`
    /// (aiohttp's `ContentTypeError`, `JSONDecodeError`).
    Decode,
    /// The session was closed (aiohttp: "Session is closed"), or the WebSocket was.
    Closed,
    /// More redirects than the session's `max_redirects` (aiohttp's `TooManyRedirects`).
    TooManyRedirects(usize),
    /// The WebSocket handshake was refused (its status is [`ClientError::status`]: aiohttp's
    /// `WSServerHandshakeError`), or the server broke the WebSocket protocol or sent a
    /// message over `max_msg_size`.
    WebSocket,
}

/// Which [`ClientTimeout`](super::ClientTimeout) ran out, and after how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// `total`: the whole request, body included.
    Total(Duration),
    /// `connect`: getting a connection, waiting for the pool included.
    Connect(Duration),
    /// `sock_connect`: connecting a new socket (TCP and TLS) to one address.
    SockConnect(Duration),
    /// `sock_read`: the longest wait for the next bytes of the response.
    SockRead(Duration),
    /// A WebSocket's `heartbeat`: nothing, not even the pong, came within half of it after
    /// its ping.
    Heartbeat(Duration),
}

impl ClientError {
    pub(crate) fn new(method: &Method, url: impl fmt::Display, kind: ErrorKind) -> Self {
        ClientError {
            method: method.clone(),
            url: url.to_string(),
            kind,
            status: None,
            source: None,
        }
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The request's URL, as given (after joining it to the base URL when it parsed).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The request's method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The status, for [`ErrorKind::Status`] and a WebSocket handshake the server refused
    /// (aiohttp's `ClientResponseError.status`).
    pub fn status(&self) -> Option<StatusCode> {
        match self.kind {
            ErrorKind::Status(s) => Some(s),
            _ => self.status,
        }
    }

    /// Whether a [`ClientTimeout`](super::ClientTimeout) ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, ErrorKind::Timeout(_))
    }

    /// Whether no TCP connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == ErrorKind::Connect
    }

    /// Whether the TLS handshake failed.
    pub fn is_tls(&self) -> bool {
        self.kind == ErrorKind::Tls
    }

    fn what(&self) -> String {
        match self.kind {
            ErrorKind::InvalidUrl => "invalid URL".into(),
            ErrorKind::InvalidRequest => "invalid request".into(),
            ErrorKind::Connect => "could not connect".into(),
            ErrorKind::Tls => "TLS failed".into(),
            ErrorKind::Timeout(t) => match t {
                TimeoutKind::Total(d) => {
                    format!("timed out: the request took longer than {d:?} (ClientTimeout::total)")
                }
                TimeoutKind::Connect(d) => format!(
                    "timed out: no connection within {d:?} (ClientTimeout::connect; the pool's \
                     limits may be too low for this many concurrent requests)"
                ),
                TimeoutKind::SockConnect(d) => format!(
                    "timed out: the socket did not connect within {d:?} \
                     (ClientTimeout::sock_connect)"
                ),
                TimeoutKind::SockRead(d) => format!(
                    "timed out: no byte of the response for {d:?} (ClientTimeout::sock_read)"
                ),
                TimeoutKind::Heartbeat(d) => format!(
                    "timed out: the WebSocket's heartbeat ping was not answered (heartbeat {d:?})"
                ),
            },
            ErrorKind::Status(s) => format!("the server answered {s} (raise_for_status)"),
            ErrorKind::Request => "the request failed".into(),
            ErrorKind::Body => "reading the response body failed".into(),
            ErrorKind::Decode => "the response body is not what was asked for".into(),
            ErrorKind::Closed => "closed".into(),
            ErrorKind::TooManyRedirects(n) => format!(
                "more than {n} redirects (ClientSessionBuilder::max_redirects; \
                 allow_redirects(false) returns the redirect itself)"
            ),
            ErrorKind::WebSocket => "WebSocket failed".into(),
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.method, self.url, self.what())?;
        // The whole chain: hyper's errors keep the OS error as their own source.
        let mut next = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

impl fmt::Debug for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientError")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}
