//! `RequestBuilder`: one request (aiohttp's `session.get(url, params=, headers=, json=,
//! data=, timeout=)`), and the exchange that sends it through the pool.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use hyper::body::Incoming;
use url::{Position, Url};

use super::body::{Multipart, Payload};
use super::connect::{ConnectError, Connector, Opened};
use super::error::{ClientError, ErrorKind, TimeoutKind};
use super::pool::{Checkout, Conn, Key, ReqBody};
use super::response::{ClientResponse, Redirect};
use super::session::ClientSession;
use super::timeout::ClientTimeout;

/// A request being built: headers, query, body, timeout; [`send`](Self::send) it (or `.await`
/// it directly).
///
/// Invalid input (a header that is not valid, JSON that does not serialise) is reported by
/// `send`, as [`ErrorKind::InvalidRequest`], so that the builder chains without `?`.
#[must_use = "a request does nothing until it is sent: call .send().await"]
pub struct RequestBuilder {
    session: ClientSession,
    method: Method,
    url: Result<Url, String>,
    raw_url: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Payload,
    timeout: Option<ClientTimeout>,
    raise_for_status: Option<bool>,
    allow_redirects: bool,
    error: Option<String>,
}

impl RequestBuilder {
    pub(crate) fn new(session: ClientSession, method: Method, raw: &str) -> Self {
        let url = resolve(session.inner.base_url.as_ref(), raw);
        let headers = session.inner.headers.clone();
        RequestBuilder {
            session,
            method,
            url,
            raw_url: raw.to_owned(),
            query: Vec::new(),
            headers,
            body: Payload::Bytes(Bytes::new()),
            timeout: None,
            raise_for_status: None,
            allow_redirects: true,
            error: None,
        }
    }

    /// Sets a header (aiohttp's `headers=`), replacing the session's default of that name.
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

    /// Sets these headers, replacing the session's defaults of the same names.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        for (name, value) in headers {
            if let Some(name) = name {
                self.headers.insert(name, value);
            }
        }
        self
    }

    /// Appends these pairs to the URL's query string, percent-encoded (aiohttp's `params=`).
    pub fn query<I, K, V>(mut self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.query.extend(
            pairs
                .into_iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
        );
        self
    }

    /// Sends `value` as JSON, with `content-type: application/json` unless one is set
    /// (aiohttp's `json=`).
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(v) => {
                self.body = Payload::Bytes(v.into());
                if !self.headers.contains_key(CONTENT_TYPE) {
                    self.headers
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
            }
            Err(e) => self.fail(format!("the JSON body does not serialise: {e}")),
        }
        self
    }

    /// Sends these pairs as a form, `application/x-www-form-urlencoded` (aiohttp's `data=`
    /// with a dict).
    pub fn form<I, K, V>(mut self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body = Payload::Bytes(body.into());
        self.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self
    }

    /// Sends this cookie with this request only, beside the jar's (aiohttp's `cookies=` of a
    /// request).
    pub fn cookie(mut self, name: &str, value: &str) -> Self {
        let pair = format!("{name}={value}");
        let line = match self
            .headers
            .get(http::header::COOKIE)
            .and_then(|v| v.to_str().ok())
        {
            Some(own) => format!("{own}; {pair}"),
            None => pair,
        };
        match HeaderValue::from_str(&line) {
            Ok(v) => {
                self.headers.insert(http::header::COOKIE, v);
            }
            Err(e) => self.fail(format!("invalid cookie {name:?}: {e}")),
        }
        self
    }

    /// Whether to follow redirects (aiohttp's `allow_redirects=`, on by default): 301, 302
    /// and 303 go on as `GET` without the body (a `HEAD` stays one), 307 and 308 repeat the
    /// request; `authorization` is dropped when the host changes. Off, the redirect is the
    /// response.
    pub fn allow_redirects(mut self, on: bool) -> Self {
        self.allow_redirects = on;
        self
    }

    /// Sends these bytes as the body (aiohttp's `data=` with bytes or a string).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Payload::Bytes(body.into());
        self
    }

    /// Sends the body as `stream` yields it (aiohttp's `data=` with an async generator):
    /// `transfer-encoding: chunked` over HTTP/1.1, unless a `content-length` header is set.
    /// An error from the stream aborts the request ([`ErrorKind::Request`], with it as the
    /// source).
    ///
    /// A stream is sent once: a 307 or 308 redirect, which would send the body again, is not
    /// followed (it is the response).
    pub fn body_stream<S, E>(mut self, stream: S) -> Self
    where
        S: futures_core::Stream<Item = Result<Bytes, E>> + 'static,
        E: Into<crate::BoxError> + 'static,
    {
        use futures_util::TryStreamExt;
        let boxed: super::body::ChunkStream = Box::pin(stream.map_err(Into::into));
        self.body = Payload::Stream(std::cell::Cell::new(Some(boxed)));
        self
    }

    /// Sends a multipart body (aiohttp's `data=FormData(...)` with files, or a
    /// `MultipartWriter`), with its `content-type` and boundary.
    pub fn multipart(mut self, form: Multipart) -> Self {
        let (content_type, body) = form.finish();
        match HeaderValue::from_str(&content_type) {
            Ok(v) => {
                self.headers.insert(CONTENT_TYPE, v);
                self.body = Payload::Bytes(body);
            }
            Err(e) => self.fail(format!("invalid multipart content type: {e}")),
        }
        self
    }

    /// This request's timeouts, instead of the session's (aiohttp's `timeout=`).
    pub fn timeout(mut self, timeout: ClientTimeout) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Whether a status of 400 or more is an error, instead of the session's setting
    /// (aiohttp's `raise_for_status=` of a request).
    pub fn raise_for_status(mut self, on: bool) -> Self {
        self.raise_for_status = Some(on);
        self
    }

    fn fail(&mut self, why: String) {
        self.error.get_or_insert(why);
    }

    /// Sends the request and waits for the response's head (aiohttp's
    /// `async with session.get(url) as response`); read the body from the response.
    ///
    /// Dropping this future (a cancelled task, an outer timeout) cancels the request: its
    /// connection, whose state is then unknown, is closed, never reused.
    ///
    /// # Errors
    /// A [`ClientError`] saying what failed: the URL, connecting, TLS, a timeout, the
    /// connection, or the status with `raise_for_status`.
    pub async fn send(self) -> Result<ClientResponse, ClientError> {
        let mut prepared = self.prepare()?;
        let raise = prepared.raise_for_status;
        let (method, url) = (prepared.method.clone(), prepared.url.clone());
        let total = prepared.total;
        let work = prepared.exchange_following();
        let resp = match total {
            None => work.await,
            Some((at, d)) => conductor::timeout_at(at, work).await.unwrap_or_else(|_| {
                let kind = ErrorKind::Timeout(TimeoutKind::Total(d));
                Err(ClientError::new(&method, &url, kind))
            }),
        }?;
        if raise {
            return resp.raise_for_status();
        }
        Ok(resp)
    }

    fn prepare(self) -> Result<Prepared, ClientError> {
        let mut url = match self.url {
            Ok(u) => u,
            Err(why) => {
                return Err(
                    ClientError::new(&self.method, &self.raw_url, ErrorKind::InvalidUrl)
                        .with_source(why),
                );
            }
        };
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        if let Some(why) = self.error {
            return Err(
                ClientError::new(&self.method, &url, ErrorKind::InvalidRequest).with_source(why),
            );
        }
        let key = Key {
            https: url.scheme() == "https",
            host: bare_host(&url),
            port: url.port_or_known_default().unwrap_or(80),
        };
        let timeout = self.timeout.unwrap_or(self.session.inner.timeout);
        let raise_for_status = self
            .raise_for_status
            .unwrap_or(self.session.inner.raise_for_status);
        let max_redirects = match self.allow_redirects {
            true => Some(self.session.inner.max_redirects),
            false => None,
        };
        Ok(Prepared {
            total: timeout.total.map(|d| (conductor::now() + d, d)),
            session: self.session,
            method: self.method,
            url,
            key,
            headers: self.headers,
            body: self.body,
            timeout,
            raise_for_status,
            max_redirects,
        })
    }
}

impl IntoFuture for RequestBuilder {
    type Output = Result<ClientResponse, ClientError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output>>>;

    /// `session.get(url).await` is `session.get(url).send().await`.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("url", &self.raw_url)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// A header from anything `http` converts into one, or why it cannot be: the builders keep the
/// first such error and return it when the request is sent, so that a chain of setters reads
/// as one expression.
pub(crate) fn try_header<K, V>(name: K, value: V) -> Result<(HeaderName, HeaderValue), String>
where
    K: TryInto<HeaderName>,
    V: TryInto<HeaderValue>,
    K::Error: fmt::Display,
    V::Error: fmt::Display,
{
    let name = name
        .try_into()
        .map_err(|e| format!("invalid header name: {e}"))?;
    let value = value
        .try_into()
        .map_err(|e| format!("invalid header value: {e}"))?;
    Ok((name, value))
}

/// `raw`, joined to `base` when there is one, as an `http(s)` URL with a host.
pub(crate) fn resolve(base: Option<&Url>, raw: &str) -> Result<Url, String> {
    let url = match base {
        Some(b) => b.join(raw),
        None => Url::parse(raw),
    }
    .map_err(|e| match (e, base) {
        (url::ParseError::RelativeUrlWithoutBase, None) => {
            "a relative URL needs the session's base_url".to_owned()
        }
        (e, _) => e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme {:?} is not http or https",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(url)
}

/// The host as a name to resolve and to check the certificate against: IPv6 without brackets.
pub(crate) fn bare_host(url: &Url) -> String {
    match url.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    }
}

/// A request ready to go.
struct Prepared {
    session: ClientSession,
    method: Method,
    url: Url,
    key: Key,
    headers: HeaderMap,
    body: Payload,
    timeout: ClientTimeout,
    total: Option<(Instant, Duration)>,
    raise_for_status: bool,
    /// `None`: redirects are not followed.
    max_redirects: Option<usize>,
}

/// A connection to send on.
enum Got {
    /// An HTTP/1 connection, and whether it was reused (then a failure before anything was
    /// sent may be the server closing it while idle: try again).
    H1(Conn, bool),
    H2(hyper::client::conn::http2::SendRequest<ReqBody>),
}

/// Attempts on reused connections that the server had closed, before giving up.
const STALE_RETRIES: usize = 3;

impl Prepared {
    fn error(&self, kind: ErrorKind) -> ClientError {
        ClientError::new(&self.method, &self.url, kind)
    }

    /// The exchange, following redirects.
    async fn exchange_following(&mut self) -> Result<ClientResponse, ClientError> {
        let mut history = Vec::new();
        loop {
            let mut resp = self.exchange().await?;
            let Some(next) = self.redirect_target(&resp) else {
                resp.set_history(history);
                return Ok(resp);
            };
            let max = self.max_redirects.unwrap_or(0);
            if history.len() == max {
                return Err(self
                    .error(ErrorKind::TooManyRedirects(max))
                    .with_source(format!("the next one was to {next}")));
            }
            history.push(Redirect::of(&resp));
            let status = resp.status();
            resp.discard().await;
            self.follow(next, status);
        }
    }

    /// Where a redirect response sends the request, when redirects are followed.
    fn redirect_target(&self, resp: &ClientResponse) -> Option<Url> {
        self.max_redirects?;
        let s = resp.status().as_u16();
        if !matches!(s, 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        // 307 and 308 repeat the body (301 and 302 too, but for a POST): a stream cannot be.
        let repeats = matches!(s, 307 | 308) || (s != 303 && self.method != Method::POST);
        if repeats && self.body.is_stream() && self.method != Method::HEAD {
            return None;
        }
        let location = resp.headers().get(http::header::LOCATION)?.to_str().ok()?;
        let next = self.url.join(location).ok()?;
        matches!(next.scheme(), "http" | "https").then_some(next)
    }

    /// The request to `next`, after a redirect of `status`.
    fn follow(&mut self, next: Url, status: http::StatusCode) {
        let to_get = status == http::StatusCode::SEE_OTHER
            || (matches!(status.as_u16(), 301 | 302) && self.method == Method::POST);
        if to_get && self.method != Method::HEAD {
            self.method = Method::GET;
            self.body = Payload::Bytes(Bytes::new());
            self.headers.remove(CONTENT_TYPE);
            self.headers.remove(http::header::CONTENT_LENGTH);
        }
        if next.origin() != self.url.origin() {
            self.headers.remove(http::header::AUTHORIZATION);
            self.headers.remove(HOST);
        }
        self.key = Key {
            https: next.scheme() == "https",
            host: bare_host(&next),
            port: next.port_or_known_default().unwrap_or(80),
        };
        self.url = next;
    }

    async fn exchange(&self) -> Result<ClientResponse, ClientError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let may_retry = attempt <= STALE_RETRIES;
            match self.acquire().await? {
                Got::H2(mut sender) => {
                    let head = self
                        .read_head(sender.send_request(self.request(true)?))
                        .await?;
                    return Ok(self.response(head, None));
                }
                Got::H1(mut conn, reused) => {
                    if let Err(e) = conn.sender.ready().await {
                        if reused && may_retry {
                            continue;
                        }
                        return Err(self.error(ErrorKind::Request).with_source(e));
                    }
                    let sent = conn.sender.try_send_request(self.request(false)?);
                    let head = self.read_head(async move {
                        match sent.await {
                            Ok(r) => Ok(Ok(r)),
                            Err(mut e) => match e.take_message() {
                                Some(req) => {
                                    // Not sent: a streamed body can go on another connection.
                                    self.body.give_back(req.into_body());
                                    Ok(Err(e.into_error()))
                                }
                                None => Err(e.into_error()),
                            },
                        }
                    });
                    match head.await? {
                        Ok(resp) => return Ok(self.response(resp, Some(conn))),
                        // Not sent: the connection had closed. Try another one.
                        Err(_) if reused && may_retry => continue,
                        Err(e) => return Err(self.error(ErrorKind::Request).with_source(e)),
                    }
                }
            }
        }
    }

    /// A connection: from the pool, or a new one; within `connect`.
    async fn acquire(&self) -> Result<Got, ClientError> {
        let work = async {
            let pool = &self.session.inner.pool;
            let checkout = pool.checkout(&self.key).await.map_err(|_| {
                self.error(ErrorKind::Closed)
                    .with_source("the ClientSession is closed")
            })?;
            let slot = match checkout {
                Checkout::Idle(c) => return Ok(Got::H1(c, true)),
                Checkout::H2(s) => return Ok(Got::H2(s)),
                Checkout::Open(slot) => slot,
            };
            let tls = match self.key.https {
                false => None,
                true => Some(
                    self.session
                        .tls()
                        .map_err(|e| self.error(ErrorKind::Tls).with_source(e.to_owned()))?,
                ),
            };
            let connector = Connector {
                tls,
                h2_prior_knowledge: self.session.inner.h2_prior_knowledge,
                sock_connect: self.timeout.sock_connect,
            };
            match connector.open(&self.key, slot).await {
                Ok(Opened::H1(c)) => Ok(Got::H1(c, false)),
                Ok(Opened::H2(s)) => {
                    pool.put_h2(&self.key, s.clone());
                    Ok(Got::H2(s))
                }
                Err(ConnectError { kind, source }) => Err(self.error(kind).with_source(source)),
            }
        };
        match self.timeout.connect {
            None => work.await,
            Some(d) => conductor::timeout(d, work)
                .await
                .unwrap_or_else(|_| Err(self.error(ErrorKind::Timeout(TimeoutKind::Connect(d))))),
        }
    }

    /// Waits for the response head, within `sock_read`.
    async fn read_head<T>(
        &self,
        head: impl Future<Output = Result<T, hyper::Error>>,
    ) -> Result<T, ClientError> {
        let r = match self.timeout.sock_read {
            None => head.await,
            Some(d) => match conductor::timeout(d, head).await {
                Ok(r) => r,
                Err(_) => return Err(self.error(ErrorKind::Timeout(TimeoutKind::SockRead(d)))),
            },
        };
        r.map_err(|e| self.error(ErrorKind::Request).with_source(e))
    }

    /// The request for hyper: absolute URI for HTTP/2 (its `:authority`), origin form and a
    /// `Host` header for HTTP/1.1.
    fn request(&self, h2: bool) -> Result<Request<ReqBody>, ClientError> {
        let target = if h2 {
            &self.url[..Position::AfterQuery]
        } else {
            &self.url[Position::BeforePath..Position::AfterQuery]
        };
        let Some(body) = self.body.take() else {
            return Err(self.error(ErrorKind::Request).with_source(
                "the connection closed while the streamed body was being sent; a stream is \
                 sent once",
            ));
        };
        let mut req = Request::new(body);
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = Uri::try_from(target).expect("a parsed URL is a valid URI");
        *req.headers_mut() = self.headers.clone();
        self.session.add_cookies(&self.url, req.headers_mut());
        if !h2 && !req.headers().contains_key(HOST) {
            let authority = &self.url[Position::BeforeHost..Position::AfterPort];
            if let Ok(v) = HeaderValue::from_str(authority) {
                req.headers_mut().insert(HOST, v);
            }
        }
        Ok(req)
    }

    fn response(&self, head: http::Response<Incoming>, lease: Option<Conn>) -> ClientResponse {
        self.session.store_cookies(&self.url, head.headers());
        ClientResponse::new(
            self.method.clone(),
            self.url.clone(),
            head,
            lease,
            self.session.inner.pool.clone(),
            self.total,
            self.timeout.sock_read,
        )
    }
}
