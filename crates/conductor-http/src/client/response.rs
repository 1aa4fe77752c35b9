//! `ClientResponse` (aiohttp's `ClientResponse`): the head at once, the body read whole
//! (`text`, `json`, `bytes`) or as it comes (`chunk`, `into_stream`), and the connection given
//! back to the pool when the body has been read to its end.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use conductor::time::Sleep;
use futures_core::Stream;
use http::{HeaderMap, Method, StatusCode, Version};
use http_body::Body as _;
use hyper::body::Incoming;
use url::Url;

use super::decode::Decoder;
use super::error::{ClientError, ErrorKind, TimeoutKind};
use super::pool::{Conn, Pool};

/// A response: status, headers, and the body still to read (aiohttp's `ClientResponse`).
///
/// Reading the body to its end (`text`, `json`, `bytes`, or `chunk` until `None`) gives the
/// connection back to the pool for the next request. Dropping the response before that closes
/// the connection instead (its state is unknown), as leaving aiohttp's `async with` block
/// early does.
pub struct ClientResponse {
    method: Method,
    url: Url,
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    body: BodyReader,
    /// Bytes read from the body and not yet returned (by `read(n)` and `readline`).
    pending: Bytes,
    /// The redirects followed to get here, oldest first.
    history: Vec<Redirect>,
}

/// One redirect followed on the way to a response (an element of aiohttp's
/// `response.history`): the request's method and URL, and the redirect's status and headers
/// (`location` among them). Its body was read and discarded, and its connection reused.
#[derive(Debug, Clone)]
pub struct Redirect {
    method: Method,
    url: Url,
    status: StatusCode,
    headers: HeaderMap,
}

impl Redirect {
    pub(crate) fn of(resp: &ClientResponse) -> Self {
        Redirect {
            method: resp.method.clone(),
            url: resp.url.clone(),
            status: resp.status,
            headers: resp.headers.clone(),
        }
    }

    /// The method of the request that was redirected.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL that answered with the redirect.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The redirect's status: 301, 302, 303, 307 or 308.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The redirect's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// The longest line [`ClientResponse::readline`] assembles (aiohttp's reader: twice its
/// 64 KiB limit).
pub const MAX_LINE: usize = 128 * 1024;

impl ClientResponse {
    pub(crate) fn new(
        method: Method,
        url: Url,
        head: http::Response<Incoming>,
        lease: Option<Conn>,
        pool: Pool,
        total: Option<(Instant, Duration)>,
        sock_read: Option<Duration>,
    ) -> Self {
        let (parts, incoming) = head.into_parts();
        let mut body = BodyReader {
            decoder: Decoder::for_headers(&parts.headers),
            fed: false,
            incoming,
            lease,
            pool,
            total,
            sock_read,
            total_timer: None,
            read_timer: None,
            done: false,
        };
        if body.incoming.is_end_stream() {
            body.finish(); // no body (HEAD, 204, content-length: 0): the connection is free now
        }
        ClientResponse {
            method,
            url,
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body,
            pending: Bytes::new(),
            history: Vec::new(),
        }
    }

    /// The redirects followed to get this response, oldest first (aiohttp's
    /// `response.history`); empty when the first answer was this one.
    pub fn history(&self) -> &[Redirect] {
        &self.history
    }

    pub(crate) fn set_history(&mut self, history: Vec<Redirect>) {
        self.history = history;
    }

    /// The status (aiohttp's `response.status`); compares with a number: `status() == 200`.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers (aiohttp's `response.headers`).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The URL requested (aiohttp's `response.url`).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The HTTP version spoken (`HTTP/1.1`, `HTTP/2.0`).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The media type of `content-type`, without its parameters (aiohttp's
    /// `response.content_type`): `"application/json"`.
    pub fn content_type(&self) -> Option<&str> {
        let v = self
            .headers
            .get(http::header::CONTENT_TYPE)?
            .to_str()
            .ok()?;
        Some(v.split(';').next().unwrap_or(v).trim())
    }

    /// `self`, or [`ErrorKind::Status`] for a status of 400 or more (aiohttp's
    /// `response.raise_for_status()`). The error drops the response, and with it its
    /// connection.
    ///
    /// # Errors
    /// For a 4xx or 5xx status.
    pub fn raise_for_status(self) -> Result<Self, ClientError> {
        if self.status.is_client_error() || self.status.is_server_error() {
            return Err(self.error(ErrorKind::Status(self.status)));
        }
        Ok(self)
    }

    fn error(&self, kind: ErrorKind) -> ClientError {
        ClientError::new(&self.method, &self.url, kind)
    }

    /// The next chunk of the body as it arrives, `None` at its end (aiohttp's
    /// `await response.content.readany()`, `iter_any()`).
    ///
    /// # Errors
    /// [`ErrorKind::Body`] when the connection fails; [`ErrorKind::Timeout`] for `sock_read`
    /// or `total`.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, ClientError> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, ClientError>> {
        if !self.pending.is_empty() {
            return Poll::Ready(Ok(Some(std::mem::take(&mut self.pending))));
        }
        self.body
            .poll_chunk(cx)
            .map_err(|(kind, source)| match source {
                Some(s) => self.error(kind).with_source(s),
                None => self.error(kind),
            })
    }

    /// At most `n` bytes of the body, as soon as some are there; empty at its end (aiohttp's
    /// `await response.content.read(n)`).
    ///
    /// # Errors
    /// As [`chunk`](Self::chunk).
    pub async fn read(&mut self, n: usize) -> Result<Bytes, ClientError> {
        std::future::poll_fn(|cx| self.poll_read(cx, n)).await
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, n: usize) -> Poll<Result<Bytes, ClientError>> {
        if n == 0 {
            return Poll::Ready(Ok(Bytes::new()));
        }
        let mut chunk = match ready!(self.poll_chunk(cx))? {
            None => return Poll::Ready(Ok(Bytes::new())),
            Some(c) => c,
        };
        if chunk.len() > n {
            self.pending = chunk.split_off(n);
        }
        Poll::Ready(Ok(chunk))
    }

    /// Exactly `n` bytes of the body (aiohttp's `await response.content.readexactly(n)`).
    ///
    /// # Errors
    /// As [`chunk`](Self::chunk), and [`ErrorKind::Body`] when the body ends first (aiohttp's
    /// `IncompleteReadError`).
    pub async fn read_exact(&mut self, n: usize) -> Result<Bytes, ClientError> {
        let first = self.read(n).await?;
        if first.len() == n {
            return Ok(first);
        }
        let mut all = BytesMut::with_capacity(n);
        all.extend_from_slice(&first);
        while all.len() < n {
            let more = self.read(n - all.len()).await?;
            if more.is_empty() {
                return Err(self.error(ErrorKind::Body).with_source(format!(
                    "the body ended after {} of the {n} bytes asked for",
                    all.len()
                )));
            }
            all.extend_from_slice(&more);
        }
        Ok(all.freeze())
    }

    /// The next line of the body, its `\n` included; the last line may have none, and at the
    /// body's end it is empty (aiohttp's `await response.content.readline()`).
    ///
    /// # Errors
    /// As [`chunk`](Self::chunk), and [`ErrorKind::Body`] for a line longer than
    /// [`MAX_LINE`] (aiohttp: "Line is too long").
    pub async fn readline(&mut self) -> Result<Bytes, ClientError> {
        std::future::poll_fn(|cx| self.poll_line(cx)).await
    }

    fn poll_line(&mut self, cx: &mut Context<'_>) -> Poll<Result<Bytes, ClientError>> {
        loop {
            if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                return Poll::Ready(Ok(self.pending.split_to(i + 1)));
            }
            if self.pending.len() > MAX_LINE {
                return Poll::Ready(Err(self.error(ErrorKind::Body).with_source(format!(
                    "a line of the body is longer than {MAX_LINE} bytes"
                ))));
            }
            let next = match self.body.poll_chunk(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            };
            match next {
                Ok(Some(c)) if self.pending.is_empty() => self.pending = c,
                Ok(Some(c)) => self.pending = [&self.pending[..], &c[..]].concat().into(),
                Ok(None) => return Poll::Ready(Ok(std::mem::take(&mut self.pending))),
                Err((kind, source)) => {
                    let e = self.error(kind);
                    return Poll::Ready(Err(match source {
                        Some(s) => e.with_source(s),
                        None => e,
                    }));
                }
            }
        }
    }

    /// The body as a stream of chunks of at most `n` bytes (aiohttp's `async for chunk in
    /// response.content.iter_chunked(n)`).
    pub fn iter_chunked(self, n: usize) -> Chunked {
        Chunked {
            response: self,
            n: n.max(1),
        }
    }

    /// The body as a stream of lines, each with its `\n` (aiohttp's `async for line in
    /// response.content`).
    pub fn lines(self) -> Lines {
        Lines { response: self }
    }

    /// The whole body (aiohttp's `await response.read()`).
    ///
    /// # Errors
    /// As [`chunk`](Self::chunk).
    pub async fn bytes(mut self) -> Result<Bytes, ClientError> {
        let Some(first) = self.chunk().await? else {
            return Ok(Bytes::new());
        };
        let Some(second) = self.chunk().await? else {
            return Ok(first); // one chunk: no copy
        };
        let mut all = BytesMut::with_capacity(first.len() + second.len());
        all.extend_from_slice(&first);
        all.extend_from_slice(&second);
        while let Some(c) = self.chunk().await? {
            all.extend_from_slice(&c);
        }
        Ok(all.freeze())
    }

    /// The whole body as text (aiohttp's `await response.text()`); it must be UTF-8.
    ///
    /// # Errors
    /// As [`chunk`](Self::chunk), and [`ErrorKind::Decode`] for a body that is not UTF-8.
    pub async fn text(self) -> Result<String, ClientError> {
        let (method, url) = (self.method.clone(), self.url.clone());
        let bytes = self.bytes().await?;
        String::from_utf8(bytes.into()).map_err(|e| {
            ClientError::new(&method, &url, ErrorKind::Decode)
                .with_source(format!("the body is not UTF-8: {e}"))
        })
    }

    /// The whole body parsed as JSON (aiohttp's `await response.json()`).
    ///
    /// # Errors
    /// As [`chunk`](Self::chunk), and [`ErrorKind::Decode`] for a body that is not that JSON
    /// (the message quotes its start).
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, ClientError> {
        let (method, url) = (self.method.clone(), self.url.clone());
        let ctype = self.content_type().unwrap_or("none").to_owned();
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            let start = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned();
            ClientError::new(&method, &url, ErrorKind::Decode).with_source(format!(
                "the body is not the JSON expected ({e}); content-type {ctype}, body starts \
                 {start:?}"
            ))
        })
    }

    /// Reads and forgets a small body (a redirect's), so that its connection goes back to the
    /// pool; past 64 KiB, or on an error, the connection is closed instead.
    pub(crate) async fn discard(mut self) {
        let mut read = 0;
        while read <= 64 * 1024 {
            match self.chunk().await {
                Ok(Some(c)) => read += c.len(),
                Ok(None) | Err(_) => return,
            }
        }
    }

    /// The body as a stream of chunks (aiohttp's `async for chunk in
    /// response.content.iter_any()`).
    pub fn into_stream(self) -> BodyStream {
        BodyStream { response: self }
    }
}

impl fmt::Debug for ClientResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientResponse")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// The body of a [`ClientResponse`] as a `Stream` of chunks of at most `n` bytes
/// ([`ClientResponse::iter_chunked`]).
#[derive(Debug)]
pub struct Chunked {
    response: ClientResponse,
    n: usize,
}

impl Stream for Chunked {
    type Item = Result<Bytes, ClientError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.response
            .poll_read(cx, this.n)
            .map(|r| r.map(|b| (!b.is_empty()).then_some(b)).transpose())
    }
}

/// The body of a [`ClientResponse`] as a `Stream` of lines ([`ClientResponse::lines`]).
#[derive(Debug)]
pub struct Lines {
    response: ClientResponse,
}

impl Stream for Lines {
    type Item = Result<Bytes, ClientError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .response
            .poll_line(cx)
            .map(|r| r.map(|b| (!b.is_empty()).then_some(b)).transpose())
    }
}

/// The body of a [`ClientResponse`] as a `Stream` of chunks.
#[derive(Debug)]
pub struct BodyStream {
    response: ClientResponse,
}

impl BodyStream {
    /// The response's head.
    pub fn response(&self) -> &ClientResponse {
        &self.response
    }
}

impl Stream for BodyStream {
    type Item = Result<Bytes, ClientError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.response.poll_chunk(cx).map(Result::transpose)
    }
}

/// The body, its connection (HTTP/1: given back at the end, dropped otherwise) and its timers.
struct BodyReader {
    incoming: Incoming,
    /// For a gzip or deflate body: the decoder, and whether it was given any bytes.
    decoder: Option<Decoder>,
    fed: bool,
    lease: Option<Conn>,
    pool: Pool,
    total: Option<(Instant, Duration)>,
    sock_read: Option<Duration>,
    total_timer: Option<Sleep>,
    read_timer: Option<Sleep>,
    done: bool,
}

type Failure = (ErrorKind, Option<crate::BoxError>);

impl BodyReader {
    /// The end of the body: its connection goes back to the pool.
    fn finish(&mut self) {
        self.done = true;
        self.total_timer = None;
        self.read_timer = None;
        if let Some(conn) = self.lease.take() {
            self.pool.put(conn);
        }
    }

    /// A failure: the connection's state is unknown, so it is closed.
    fn fail(
        &mut self,
        kind: ErrorKind,
        source: Option<crate::BoxError>,
    ) -> Poll<Result<Option<Bytes>, Failure>> {
        self.done = true;
        self.lease = None;
        self.total_timer = None;
        self.read_timer = None;
        Poll::Ready(Err((kind, source)))
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Failure>> {
        loop {
            if self.done {
                return Poll::Ready(Ok(None));
            }
            match Pin::new(&mut self.incoming).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    // Trailers and empty chunks carry no bytes: read on.
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    self.read_timer = None;
                    let data = match self.decode(&data) {
                        Ok(d) => d,
                        Err(e) => return self.fail(ErrorKind::Body, Some(e.into())),
                    };
                    if self.incoming.is_end_stream() {
                        return self.end(data);
                    }
                    if !data.is_empty() {
                        return Poll::Ready(Ok(Some(data)));
                    }
                }
                Poll::Ready(None) => return self.end(Bytes::new()),
                Poll::Ready(Some(Err(e))) => return self.fail(ErrorKind::Body, Some(e.into())),
                Poll::Pending => return self.poll_timers(cx),
            }
        }
    }

    /// `data` decoded, when the body is compressed.
    fn decode(&mut self, data: &Bytes) -> std::io::Result<Bytes> {
        match &mut self.decoder {
            None => Ok(data.clone()),
            Some(d) => {
                self.fed |= !data.is_empty();
                d.push(data)
            }
        }
    }

    /// The end of the body, after `last`: what the decoder still holds, and the connection
    /// back to the pool.
    fn end(&mut self, last: Bytes) -> Poll<Result<Option<Bytes>, Failure>> {
        let mut last = last;
        if let Some(d) = self.decoder.take()
            && self.fed
        {
            match d.finish() {
                Ok(rest) if last.is_empty() => last = rest,
                Ok(rest) => last = [last, rest].concat().into(),
                Err(e) => {
                    return self.fail(
                        ErrorKind::Body,
                        Some(format!("the compressed body is broken: {e}").into()),
                    );
                }
            }
        }
        self.finish();
        Poll::Ready(Ok((!last.is_empty()).then_some(last)))
    }

    /// Pending while no timer has run out; else the timeout's failure.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Failure>> {
        if let Some((at, d)) = self.total {
            let t = self
                .total_timer
                .get_or_insert_with(|| conductor::sleep_until(at));
            if Pin::new(t).poll(cx).is_ready() {
                return self.fail(ErrorKind::Timeout(TimeoutKind::Total(d)), None);
            }
        }
        if let Some(d) = self.sock_read {
            let t = self.read_timer.get_or_insert_with(|| conductor::sleep(d));
            if Pin::new(t).poll(cx).is_ready() {
                return self.fail(ErrorKind::Timeout(TimeoutKind::SockRead(d)), None);
            }
        }
        Poll::Pending
    }
}
