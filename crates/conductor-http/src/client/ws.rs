//! The WebSocket client (aiohttp's `session.ws_connect(url)` and its
//! `ClientWebSocketResponse`): [`WsConnectBuilder`] opens a connection of its own (TCP, TLS
//! with ALPN `http/1.1`), tungstenite does the handshake and the protocol, and
//! [`ClientWebSocket`] adds aiohttp's heartbeat, its hidden ping/pong and its close codes.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::handshake::client::generate_key;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use async_tungstenite::tungstenite::{Error as WsError, Message};
use bytes::Bytes;
use conductor::time::Sleep;
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{Sink, StreamExt};
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use url::{Position, Url};

use super::connect::{ConnectError, Connector, Transport};
use super::error::{ClientError, ErrorKind, TimeoutKind};
use super::pool::Key;
use super::request::{bare_host, resolve, try_header};
use super::session::ClientSession;
use super::timeout::ClientTimeout;

/// aiohttp's `WSCloseCode.ABNORMAL_CLOSURE`: the connection ended without a Close frame
/// (or the heartbeat's pong did not come).
const ABNORMAL: u16 = 1006;

/// How long [`ClientWebSocket::close`] waits for the server's Close frame (aiohttp's
/// `ws_connect(timeout=10.0)`).
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// A WebSocket handshake being built (aiohttp's `session.ws_connect(url, protocols=,
/// heartbeat=, headers=)`); `.await` it or call [`connect`](Self::connect).
#[must_use = "a WebSocket connects only when awaited"]
pub struct WsConnectBuilder {
    session: ClientSession,
    url: Result<Url, String>,
    raw_url: String,
    headers: HeaderMap,
    protocols: Vec<String>,
    heartbeat: Option<Duration>,
    autoping: bool,
    timeout: Option<ClientTimeout>,
    max_msg_size: Option<usize>,
    error: Option<String>,
}

impl WsConnectBuilder {
    pub(crate) fn new(session: ClientSession, raw: &str) -> Self {
        // aiohttp takes http(s) and ws(s) alike; the handshake is an http(s) request.
        let url = ws_to_http(raw, session.inner.base_url.as_ref());
        let headers = session.inner.ws_headers();
        WsConnectBuilder {
            session,
            url,
            raw_url: raw.to_owned(),
            headers,
            protocols: Vec::new(),
            heartbeat: None,
            autoping: true,
            timeout: None,
            max_msg_size: None,
            error: None,
        }
    }

    /// Sets a header of the handshake request, replacing the session's default of that name.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
        K::Error: fmt::Display,
        V::Error: fmt::Display,
    {
        match try_header(name, value) {
            Ok((n, v)) => {
                self.headers.insert(n, v);
            }
            Err(why) => self.fail(why),
        }
        self
    }

    /// The subprotocols offered, in order of preference (aiohttp's `protocols=`); the one the
    /// server chose is [`ClientWebSocket::protocol`].
    pub fn protocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Sends a ping every `every` of silence from the server, and closes the connection
    /// (close code 1006, an [`ErrorKind::Timeout`] of [`TimeoutKind::Heartbeat`]) when
    /// nothing, not even the pong, comes back within half of it (aiohttp's `heartbeat=`).
    ///
    /// The heartbeat runs while the socket is being read ([`ClientWebSocket::receive`] or its
    /// `Stream`), as it does in aiohttp's usual `async for msg in ws` loop.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = (!every.is_zero()).then_some(every);
        self
    }

    /// Whether pings are answered and pongs consumed out of sight (aiohttp's `autoping=`, on
    /// by default). Off, `receive` returns them too (tungstenite still answers every ping).
    pub fn autoping(mut self, on: bool) -> Self {
        self.autoping = on;
        self
    }

    /// The timeouts of the handshake (`total`, `connect`, `sock_connect`), instead of the
    /// session's.
    pub fn timeout(mut self, timeout: ClientTimeout) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest message accepted, in bytes (aiohttp's `max_msg_size=`, 4 MiB); a larger
    /// one is an [`ErrorKind::WebSocket`] error. 0 is no limit.
    pub fn max_msg_size(mut self, bytes: usize) -> Self {
        self.max_msg_size = Some(bytes);
        self
    }

    fn fail(&mut self, why: String) {
        self.error.get_or_insert(why);
    }

    /// Connects and does the handshake (aiohttp's `await session.ws_connect(url)`).
    ///
    /// # Errors
    /// A [`ClientError`] for the URL: [`ErrorKind::InvalidUrl`], [`ErrorKind::Connect`],
    /// [`ErrorKind::Tls`], [`ErrorKind::Timeout`], or [`ErrorKind::WebSocket`] when the server
    /// does not accept the handshake (its status is [`ClientError::status`]: aiohttp's
    /// `WSServerHandshakeError`).
    pub async fn connect(self) -> Result<ClientWebSocket, ClientError> {
        let url = match self.url {
            Ok(u) => u,
            Err(why) => {
                return Err(
                    ClientError::new(&Method::GET, &self.raw_url, ErrorKind::InvalidUrl)
                        .with_source(why),
                );
            }
        };
        let err = |kind| ClientError::new(&Method::GET, &url, kind);
        if let Some(why) = self.error {
            return Err(err(ErrorKind::InvalidRequest).with_source(why));
        }
        let timeout = self.timeout.unwrap_or(self.session.inner.timeout);
        let key = Key {
            https: url.scheme() == "https",
            host: bare_host(&url),
            port: url.port_or_known_default().unwrap_or(80),
        };
        let mut request = match handshake_request(&url, self.headers, &self.protocols) {
            Ok(r) => r,
            Err(why) => return Err(err(ErrorKind::InvalidRequest).with_source(why)),
        };
        self.session.add_cookies(&url, request.headers_mut());
        let mut config = WebSocketConfig::default();
        let max = self.max_msg_size.unwrap_or(4 << 20);
        config.max_message_size = (max > 0).then_some(max);
        config.max_frame_size = (max > 0).then_some(max);
        let session = self.session.clone();
        let work = async {
            let tls = match key.https {
                false => None,
                true => Some(
                    session
                        .ws_tls()
                        .map_err(|e| err(ErrorKind::Tls).with_source(e.to_owned()))?,
                ),
            };
            let connector = Connector {
                tls: tls.as_ref(),
                h2_prior_knowledge: false,
                sock_connect: timeout.sock_connect,
            };
            let open = connector.open_transport(&key);
            let io = match timeout.connect {
                None => open.await,
                Some(d) => conductor::timeout(d, open).await.unwrap_or_else(|_| {
                    Err(ConnectError {
                        kind: ErrorKind::Timeout(TimeoutKind::Connect(d)),
                        source: "opening the WebSocket's connection".into(),
                    })
                }),
            }
            .map_err(|ConnectError { kind, source }| err(kind).with_source(source))?;
            let io: Box<dyn Io> = match io {
                Transport::Tcp(s) => Box::new(s),
                Transport::Tls(s) => Box::new(*s),
            };
            async_tungstenite::client_async_with_config(request, io, Some(config))
                .await
                .map_err(|e| handshake_error(&url, e))
        };
        let (stream, response) = match timeout.total {
            None => work.await?,
            Some(d) => conductor::timeout(d, work)
                .await
                .unwrap_or_else(|_| Err(err(ErrorKind::Timeout(TimeoutKind::Total(d)))))?,
        };
        session.store_cookies(&url, response.headers());
        let protocol = response
            .headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(ClientWebSocket {
            stream,
            url,
            protocol,
            autoping: self.autoping,
            heartbeat: self.heartbeat.map(Heartbeat::new),
            close_code: None,
            closed: false,
        })
    }
}

impl IntoFuture for WsConnectBuilder {
    type Output = Result<ClientWebSocket, ClientError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.connect())
    }
}

impl fmt::Debug for WsConnectBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConnectBuilder")
            .field("url", &self.raw_url)
            .field("protocols", &self.protocols)
            .field("heartbeat", &self.heartbeat)
            .finish_non_exhaustive()
    }
}

/// `raw` (ws, wss, http or https, maybe relative to `base`) as the http(s) URL of the
/// handshake.
fn ws_to_http(raw: &str, base: Option<&Url>) -> Result<Url, String> {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("ws") => ("http", rest),
        Some((s, rest)) if s.eq_ignore_ascii_case("wss") => ("https", rest),
        _ => return resolve(base, raw),
    };
    resolve(base, &format!("{scheme}://{rest}"))
}

/// The handshake request for tungstenite: its URI in `ws`/`wss` form, the session's and the
/// caller's headers, and the WebSocket headers of RFC 6455.
fn handshake_request(
    url: &Url,
    headers: HeaderMap,
    protocols: &[String],
) -> Result<http::Request<()>, String> {
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    let uri = format!(
        "{scheme}://{}",
        &url[Position::BeforeHost..Position::AfterQuery]
    );
    let mut req = http::Request::new(());
    *req.uri_mut() = uri.parse().map_err(|e| format!("{uri}: {e}"))?;
    let h = req.headers_mut();
    *h = headers;
    let authority = &url[Position::BeforeHost..Position::AfterPort];
    h.insert(
        header::HOST,
        HeaderValue::from_str(authority).map_err(|e| e.to_string())?,
    );
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(
        header::SEC_WEBSOCKET_VERSION,
        HeaderValue::from_static("13"),
    );
    h.insert(
        header::SEC_WEBSOCKET_KEY,
        HeaderValue::from_str(&generate_key()).map_err(|e| e.to_string())?,
    );
    if !protocols.is_empty() {
        let offered = protocols.join(", ");
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_str(&offered).map_err(|e| format!("invalid protocols: {e}"))?,
        );
    }
    Ok(req)
}

fn handshake_error(url: &Url, e: WsError) -> ClientError {
    let error = |kind| ClientError::new(&Method::GET, url, kind);
    match e {
        WsError::Http(resp) => {
            let status = resp.status();
            let why = format!(
                "the server answered {status} instead of 101 Switching Protocols to the \
                 WebSocket handshake"
            );
            error(ErrorKind::WebSocket)
                .with_status(status)
                .with_source(why)
        }
        WsError::Io(e) => error(ErrorKind::Request).with_source(e),
        e => {
            error(ErrorKind::WebSocket).with_source(format!("the WebSocket handshake failed: {e}"))
        }
    }
}

/// The connection under the WebSocket: TCP or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Io for T {}

/// aiohttp's heartbeat: the next ping's time, and, after a ping, the pong's deadline.
struct Heartbeat {
    every: Duration,
    timer: Sleep,
    /// A ping was sent and nothing has come since: `timer` is the pong's deadline.
    awaiting_pong: bool,
}

impl Heartbeat {
    fn new(every: Duration) -> Self {
        Heartbeat {
            every,
            timer: conductor::sleep(every),
            awaiting_pong: false,
        }
    }

    /// Something came from the server: it is alive, the next ping is `every` away.
    fn heard(&mut self) {
        self.awaiting_pong = false;
        self.timer.reset(conductor::now() + self.every);
    }
}

/// A WebSocket connection from [`ClientSession::ws_connect`] (aiohttp's
/// `ClientWebSocketResponse`): send with [`send_str`](Self::send_str),
/// [`send_bytes`](Self::send_bytes), [`send_json`](Self::send_json), [`ping`](Self::ping);
/// read with [`receive`](Self::receive) or as a `Stream` of [`Message`]s (aiohttp's
/// `async for msg in ws`); end with [`close`](Self::close).
///
/// ```
/// use conductor_http::client::ClientSession;
/// use conductor_http::ws::Message;
/// # use futures_util::{Sink, StreamExt};
/// # conductor::run(async {
/// # let app = conductor_http::handler_fn(|mut req| async move {
/// #     let (response, upgrade) = match conductor_http::ws::upgrade(&mut req) {
/// #         Ok(pair) => pair,
/// #         Err(refusal) => return refusal,
/// #     };
/// #     conductor::spawn(async move {
/// #         let Ok(mut socket) = upgrade.await else { return };
/// #         while let Some(Ok(msg)) = socket.next().await {
/// #             if msg.is_text() || msg.is_binary() { let _ = socket.send(msg).await; }
/// #         }
/// #     }).detach();
/// #     response
/// # });
/// # let running = conductor_http::Server::new().start(conductor::net::TcpListener::bind("127.0.0.1:0").await.unwrap(), app);
/// # let url = format!("ws://{}/ws", running.local_addr().unwrap());
/// let session = ClientSession::new();
/// let mut ws = session.ws_connect(&url).heartbeat(std::time::Duration::from_secs(30)).await?;
/// ws.send_str("hello").await?;
/// match ws.receive().await {
///     Some(Ok(Message::Text(text))) => assert_eq!(text.as_str(), "hello"),
///     other => panic!("{other:?}"),
/// }
/// ws.close().await?;
/// assert_eq!(ws.close_code(), Some(1000));
/// # Ok::<(), conductor_http::client::ClientError>(())
/// # }).unwrap();
/// ```
pub struct ClientWebSocket {
    stream: WebSocketStream<Box<dyn Io>>,
    url: Url,
    protocol: Option<String>,
    autoping: bool,
    heartbeat: Option<Heartbeat>,
    close_code: Option<u16>,
    closed: bool,
}

impl ClientWebSocket {
    /// The handshake's URL (in its http(s) form).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The subprotocol the server chose (aiohttp's `ws.protocol`).
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The close code (aiohttp's `ws.close_code`): the one in the server's Close frame,
    /// 1005 for a Close frame without one, 1006 when the connection ended without a Close
    /// frame or the heartbeat's pong did not come; `None` while open.
    pub fn close_code(&self) -> Option<u16> {
        self.close_code
    }

    /// Whether the connection is closed (aiohttp's `ws.closed`).
    pub fn closed(&self) -> bool {
        self.closed
    }

    fn error(&self, kind: ErrorKind) -> ClientError {
        ClientError::new(&Method::GET, &self.url, kind)
    }

    fn ws_error(&self, e: WsError) -> ClientError {
        match e {
            WsError::Io(e) => self.error(ErrorKind::Request).with_source(e),
            WsError::ConnectionClosed | WsError::AlreadyClosed => self
                .error(ErrorKind::Closed)
                .with_source("the WebSocket is closed"),
            e => self.error(ErrorKind::WebSocket).with_source(e),
        }
    }

    /// Sends `msg` (any [`Message`], a Close frame included).
    ///
    /// # Errors
    /// [`ErrorKind::Closed`] after the close; [`ErrorKind::Request`] when the connection fails.
    pub async fn send(&mut self, msg: Message) -> Result<(), ClientError> {
        if self.closed {
            return Err(self.ws_error(WsError::AlreadyClosed));
        }
        let sent = self.stream.send(msg).await;
        sent.map_err(|e| self.ws_error(e))
    }

    /// Sends a text message (aiohttp's `await ws.send_str(data)`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_str(&mut self, text: impl Into<String>) -> Result<(), ClientError> {
        self.send(Message::text(text.into())).await
    }

    /// Sends a binary message (aiohttp's `await ws.send_bytes(data)`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_bytes(&mut self, data: impl Into<Bytes>) -> Result<(), ClientError> {
        self.send(Message::binary(data.into())).await
    }

    /// Sends `value` as a JSON text message (aiohttp's `await ws.send_json(data)`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidRequest`] when it does not serialise; as [`send`](Self::send).
    pub async fn send_json<T: serde::Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), ClientError> {
        let text = serde_json::to_string(value).map_err(|e| {
            self.error(ErrorKind::InvalidRequest)
                .with_source(format!("the JSON message does not serialise: {e}"))
        })?;
        self.send(Message::text(text)).await
    }

    /// Sends a ping (aiohttp's `await ws.ping(data)`); with autoping its pong is consumed by
    /// `receive`.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn ping(&mut self, data: impl Into<Bytes>) -> Result<(), ClientError> {
        self.send(Message::Ping(data.into())).await
    }

    /// Sends a pong (aiohttp's `await ws.pong(data)`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn pong(&mut self, data: impl Into<Bytes>) -> Result<(), ClientError> {
        self.send(Message::Pong(data.into())).await
    }

    /// The next message (aiohttp's `await ws.receive()`); `None` once the connection is
    /// closed (aiohttp's `WSMsgType.CLOSED`).
    ///
    /// A Close frame from the server is answered, then returned as `Message::Close` with the
    /// server's code, which [`close_code`](Self::close_code) then gives (aiohttp's
    /// `WSMsgType.CLOSE`). With autoping, pings and pongs never come out of it.
    ///
    /// # Errors
    /// [`ErrorKind::Timeout`] ([`TimeoutKind::Heartbeat`]) when the heartbeat's pong did not
    /// come (aiohttp's `WSMsgType.ERROR` with `ServerTimeoutError`), [`ErrorKind::WebSocket`]
    /// for a protocol violation or a message over `max_msg_size`, [`ErrorKind::Request`] for
    /// a failed connection. The connection is closed after any of them.
    pub async fn receive(&mut self) -> Option<Result<Message, ClientError>> {
        std::future::poll_fn(|cx| self.poll_receive(cx)).await
    }

    /// The next message, which must be text (aiohttp's `await ws.receive_str()`).
    ///
    /// # Errors
    /// As [`receive`](Self::receive); [`ErrorKind::Closed`] when the connection closes first,
    /// [`ErrorKind::Decode`] for a message that is not text.
    pub async fn receive_str(&mut self) -> Result<String, ClientError> {
        match self.receive().await {
            Some(Ok(Message::Text(t))) => Ok(t.as_str().to_owned()),
            Some(Ok(other)) => Err(self.error(ErrorKind::Decode).with_source(format!(
                "expected a text message, received {}",
                kind(&other)
            ))),
            Some(Err(e)) => Err(e),
            None => Err(self.ws_error(WsError::ConnectionClosed)),
        }
    }

    /// The next message parsed as JSON (aiohttp's `await ws.receive_json()`).
    ///
    /// # Errors
    /// As [`receive_str`](Self::receive_str), and [`ErrorKind::Decode`] for text that is not
    /// that JSON.
    pub async fn receive_json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, ClientError> {
        let text = self.receive_str().await?;
        serde_json::from_str(&text).map_err(|e| {
            self.error(ErrorKind::Decode)
                .with_source(format!("the message is not the JSON expected ({e})"))
        })
    }

    /// Closes with code 1000 (aiohttp's `await ws.close()`).
    ///
    /// # Errors
    /// As [`close_with`](Self::close_with).
    pub async fn close(&mut self) -> Result<(), ClientError> {
        self.close_with(1000, "").await
    }

    /// Sends a Close frame with `code` and `reason`, then reads (and drops) what comes until
    /// the server's Close frame, at most 10 s (aiohttp's `await ws.close(code=, message=)`);
    /// [`close_code`](Self::close_code) is then the server's code. Closing a closed socket
    /// does nothing.
    ///
    /// # Errors
    /// [`ErrorKind::Request`] when the connection fails while closing;
    /// [`ErrorKind::Timeout`] when the server's Close frame does not come within 10 s (the
    /// connection is closed anyway, code 1006).
    pub async fn close_with(&mut self, code: u16, reason: &str) -> Result<(), ClientError> {
        if self.closed {
            return Ok(());
        }
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_owned().into(),
        };
        if let Err(e) = self.stream.close(Some(frame)).await {
            self.closed = true;
            self.close_code.get_or_insert(ABNORMAL);
            return match e {
                WsError::ConnectionClosed | WsError::AlreadyClosed => Ok(()),
                e => Err(self.ws_error(e)),
            };
        }
        let drain = async {
            while let Some(r) = self.stream.next().await {
                match r {
                    Ok(Message::Close(frame)) => {
                        self.close_code = Some(frame.as_ref().map_or(1005, frame_code));
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        };
        let waited = conductor::timeout(CLOSE_WAIT, drain).await;
        self.closed = true;
        match waited {
            Ok(()) => {
                self.close_code.get_or_insert(ABNORMAL);
                Ok(())
            }
            Err(_) => {
                self.close_code = Some(ABNORMAL);
                Err(self
                    .error(ErrorKind::Timeout(TimeoutKind::Total(CLOSE_WAIT)))
                    .with_source("the server did not answer the WebSocket's Close frame"))
            }
        }
    }

    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, ClientError>>> {
        loop {
            if self.closed {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.stream).poll_next(cx) {
                Poll::Ready(Some(Ok(msg))) => {
                    if let Some(hb) = &mut self.heartbeat {
                        hb.heard();
                    }
                    match msg {
                        Message::Ping(_) | Message::Pong(_) if self.autoping => continue,
                        Message::Close(frame) => {
                            // tungstenite has queued the answering Close frame: send it.
                            let _ = Pin::new(&mut self.stream).poll_flush(cx);
                            self.close_code = Some(frame.as_ref().map_or(1005, frame_code));
                            return Poll::Ready(Some(Ok(Message::Close(frame))));
                        }
                        Message::Frame(_) => continue,
                        msg => return Poll::Ready(Some(Ok(msg))),
                    }
                }
                Poll::Ready(None) => {
                    self.closed = true;
                    self.close_code.get_or_insert(ABNORMAL);
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(e))) => {
                    self.closed = true;
                    self.close_code.get_or_insert(ABNORMAL);
                    return match e {
                        WsError::ConnectionClosed | WsError::AlreadyClosed => Poll::Ready(None),
                        e => Poll::Ready(Some(Err(self.ws_error(e)))),
                    };
                }
                Poll::Pending => return self.poll_heartbeat(cx),
            }
        }
    }

    /// Pending, after sending the heartbeat's ping when it is due; the heartbeat's error when
    /// its pong did not come.
    fn poll_heartbeat(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, ClientError>>> {
        let Some(hb) = &mut self.heartbeat else {
            return Poll::Pending;
        };
        if Pin::new(&mut hb.timer).poll(cx).is_pending() {
            return Poll::Pending;
        }
        if hb.awaiting_pong {
            let every = hb.every;
            self.closed = true;
            self.close_code = Some(ABNORMAL);
            return Poll::Ready(Some(Err(self
                .error(ErrorKind::Timeout(TimeoutKind::Heartbeat(every)))
                .with_source(format!(
                    "no pong (nor anything else) within {:?} of the heartbeat's ping",
                    every / 2
                )))));
        }
        hb.awaiting_pong = true;
        hb.timer.reset(conductor::now() + hb.every / 2);
        let _ = Pin::new(&mut hb.timer).poll(cx); // registers the waker for the deadline
        let mut sink = Pin::new(&mut self.stream);
        if let Poll::Ready(Ok(())) = sink.as_mut().poll_ready(cx)
            && sink
                .as_mut()
                .start_send(Message::Ping(Bytes::new()))
                .is_ok()
        {
            // What does not go out now goes with the next read (tungstenite flushes then).
            let _ = sink.poll_flush(cx);
        }
        Poll::Pending
    }
}

/// The code of a received Close frame, as a number.
fn frame_code(frame: &CloseFrame) -> u16 {
    u16::from(frame.code)
}

fn kind(msg: &Message) -> &'static str {
    match msg {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
        Message::Ping(_) => "a ping",
        Message::Pong(_) => "a pong",
        Message::Close(_) => "a close",
        Message::Frame(_) => "a raw frame",
    }
}

impl Stream for ClientWebSocket {
    type Item = Result<Message, ClientError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_receive(cx)
    }
}

impl fmt::Debug for ClientWebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientWebSocket")
            .field("url", &self.url.as_str())
            .field("protocol", &self.protocol)
            .field("close_code", &self.close_code)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}
