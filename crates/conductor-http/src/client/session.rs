//! `ClientSession` (aiohttp's `ClientSession` with its `TCPConnector`) and its builder.

use std::cell::OnceCell;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use conductor::tls::TlsConnector;
use http::header::{ACCEPT, ACCEPT_ENCODING, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::Url;

use super::cookies::CookieJar;
use super::error::{ClientError, ErrorKind};
use super::pool::{Limits, Pool};
use super::request::{RequestBuilder, try_header};
use super::timeout::ClientTimeout;
use super::ws::WsConnectBuilder;

/// An HTTP client with a keep-alive connection pool (aiohttp's `ClientSession`): build it once
/// and make every request through it, as the guides insist, so that connections are reused.
///
/// A clone is the same session (an `Rc`): it stays on the loop that uses it, like everything
/// conductor opens. Dropping the last clone closes its idle connections;
/// [`close`](Self::close) does it explicitly (aiohttp's `await session.close()`).
///
/// ```
/// use conductor_http::client::ClientSession;
/// # use conductor_http::{json_response, Router, Server};
/// # conductor::run(async {
/// # let app = Router::new().get("/users/{name}", |req| async move {
/// #     let name = conductor_http::match_info(&req).get("name").unwrap().to_owned();
/// #     json_response(&serde_json::json!({"name": name}))
/// # });
/// # let running = Server::new().start(conductor::net::TcpListener::bind("127.0.0.1:0").await.unwrap(), app);
/// # let base = format!("http://{}", running.local_addr().unwrap());
/// let session = ClientSession::new();
/// let resp = session.get(format!("{base}/users/octocat")).send().await?;
/// assert_eq!(resp.status(), 200);
/// let user: serde_json::Value = resp.json().await?;
/// assert_eq!(user["name"], "octocat");
/// # Ok::<(), conductor_http::client::ClientError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct ClientSession {
    pub(crate) inner: Rc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: Pool,
    pub(crate) base_url: Option<Url>,
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: ClientTimeout,
    pub(crate) raise_for_status: bool,
    pub(crate) max_redirects: usize,
    pub(crate) h2_prior_knowledge: bool,
    http2: bool,
    tls_given: Option<TlsConnector>,
    tls: OnceCell<Result<TlsConnector, String>>,
    ws_tls: OnceCell<Result<TlsConnector, String>>,
    cookie_jar: CookieJar,
}

impl Inner {
    /// The default headers of a WebSocket handshake: the session's, without
    /// `accept-encoding` (a WebSocket has no body to compress).
    pub(crate) fn ws_headers(&self) -> HeaderMap {
        let mut h = self.headers.clone();
        h.remove(ACCEPT_ENCODING);
        h
    }
}

/// What the pool holds now (for tests and monitoring).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections open or being opened (HTTP/2 ones included).
    pub open: usize,
    /// HTTP/1 connections idle in the pool, ready for reuse.
    pub idle: usize,
    /// Requests waiting for a connection (the limits are reached).
    pub waiting: usize,
}

impl ClientSession {
    /// A session with aiohttp's defaults: `limit` 100, `limit_per_host` unlimited, idle
    /// connections kept 15 s, [`ClientTimeout::default`], HTTP/2 when a TLS server offers it.
    pub fn new() -> ClientSession {
        ClientSession::builder()
            .build()
            .expect("the default session builds")
    }

    /// A builder.
    pub fn builder() -> ClientSessionBuilder {
        ClientSessionBuilder {
            base_url: None,
            headers: HeaderMap::new(),
            error: None,
            timeout: ClientTimeout::default(),
            limits: Limits {
                limit: 100,
                limit_per_host: 0,
                keepalive: Duration::from_secs(15),
            },
            tls: None,
            http2: true,
            h2_prior_knowledge: false,
            raise_for_status: false,
            max_redirects: 10,
            cookie_jar: None,
        }
    }

    /// A request of `method` to `url` (aiohttp's `session.request(method, url)`); `url` may be
    /// relative to the session's base URL.
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url.as_ref())
    }

    /// A GET (aiohttp's `session.get(url)`).
    pub fn get(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A POST (aiohttp's `session.post(url)`).
    pub fn post(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A PUT.
    pub fn put(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A PATCH.
    pub fn patch(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A DELETE.
    pub fn delete(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// A HEAD.
    pub fn head(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A WebSocket to `url` (aiohttp's `session.ws_connect(url)`): `ws://`, `wss://`,
    /// `http://` or `https://`, maybe relative to the base URL. See [`ClientWebSocket`].
    ///
    /// [`ClientWebSocket`]: super::ClientWebSocket
    pub fn ws_connect(&self, url: impl AsRef<str>) -> WsConnectBuilder {
        WsConnectBuilder::new(self.clone(), url.as_ref())
    }

    /// The session's cookies (aiohttp's `session.cookie_jar`).
    pub fn cookie_jar(&self) -> &CookieJar {
        &self.inner.cookie_jar
    }

    /// Closes the idle connections and makes later requests fail with
    /// [`ErrorKind::Closed`] (aiohttp's `await session.close()`); connections in use close
    /// when their responses end.
    pub fn close(&self) {
        self.inner.pool.close();
    }

    /// What the pool holds now.
    pub fn pool_stats(&self) -> PoolStats {
        let c = self.inner.pool.counts();
        PoolStats {
            open: c.open,
            idle: c.idle,
            waiting: c.waiting,
        }
    }

    /// The TLS connector for `https`: the one given, or one trusting the system's roots
    /// (Mozilla's when the system has none), with ALPN `h2`, `http/1.1`; made on first use.
    pub(crate) fn tls(&self) -> Result<&TlsConnector, &str> {
        let inner = &self.inner;
        inner
            .tls
            .get_or_init(|| {
                let alpn: &[&str] = if inner.http2 {
                    &["h2", "http/1.1"]
                } else {
                    &["http/1.1"]
                };
                match &inner.tls_given {
                    Some(given) => Ok(with_alpn(given, alpn)),
                    None => default_tls(alpn),
                }
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

impl ClientSession {
    /// The TLS connector of WebSockets: the session's, offering `http/1.1` only (the
    /// handshake is an HTTP/1.1 upgrade).
    pub(crate) fn ws_tls(&self) -> Result<TlsConnector, &str> {
        let tls = self.tls()?;
        self.inner
            .ws_tls
            .get_or_init(|| {
                let mut config = (**tls.config()).clone();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Ok(TlsConnector::from_config(Arc::new(config)))
            })
            .as_ref()
            .cloned()
            .map_err(String::as_str)
    }

    /// Adds the jar's cookies for `url` to `headers`.
    pub(crate) fn add_cookies(&self, url: &Url, headers: &mut HeaderMap) {
        self.inner.cookie_jar.add_to(url, headers);
    }

    /// Keeps the cookies that a response from `url` sets.
    pub(crate) fn store_cookies(&self, url: &Url, headers: &HeaderMap) {
        self.inner.cookie_jar.store_response(url, headers);
    }
}

/// `tls` offering `alpn` when it offers nothing itself.
fn with_alpn(tls: &TlsConnector, alpn: &[&str]) -> TlsConnector {
    if !tls.config().alpn_protocols.is_empty() {
        return tls.clone();
    }
    let mut config = (**tls.config()).clone();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    TlsConnector::from_config(Arc::new(config))
}

fn default_tls(alpn: &[&str]) -> Result<TlsConnector, String> {
    let builder = TlsConnector::builder()
        .with_system_roots()
        .unwrap_or_else(|_| TlsConnector::builder().with_webpki_roots());
    builder
        .alpn_protocols(alpn)
        .build()
        .map_err(|e| e.to_string())
}

impl Default for ClientSession {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSession")
            .field("base_url", &self.inner.base_url.as_ref().map(Url::as_str))
            .field("timeout", &self.inner.timeout)
            .field("pool", &self.pool_stats())
            .finish_non_exhaustive()
    }
}

/// Configures a [`ClientSession`] (aiohttp's `ClientSession(...)` and `TCPConnector(...)`
/// arguments).
pub struct ClientSessionBuilder {
    base_url: Option<String>,
    headers: HeaderMap,
    error: Option<String>,
    timeout: ClientTimeout,
    limits: Limits,
    tls: Option<TlsConnector>,
    http2: bool,
    h2_prior_knowledge: bool,
    raise_for_status: bool,
    max_redirects: usize,
    cookie_jar: Option<CookieJar>,
}

impl ClientSessionBuilder {
    /// The jar that keeps the session's cookies (aiohttp's `cookie_jar=`): by default a new
    /// [`CookieJar::new`], which ignores IP-address hosts as aiohttp's does;
    /// [`CookieJar::unsafe_hosts`] keeps theirs too, [`CookieJar::dummy`] keeps none. A
    /// clone of a jar shares it between sessions.
    pub fn cookie_jar(mut self, jar: CookieJar) -> Self {
        self.cookie_jar = Some(jar);
        self
    }

    /// Relative request URLs are joined to this one (aiohttp's `base_url=`): with
    /// `http://host/api/`, `get("users")` is `http://host/api/users` (and `get("/users")`
    /// is `http://host/users`, as URLs join).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// A header sent with every request (aiohttp's `headers=`); a request's own header of the
    /// same name replaces it.
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
            Err(why) => self.error = Some(format!("{why} (a session default)")),
        }
        self
    }

    /// The timeouts of every request (aiohttp's `timeout=`); a request may set its own.
    pub fn timeout(mut self, timeout: ClientTimeout) -> Self {
        self.timeout = timeout;
        self
    }

    /// At most `n` connections open at once, all hosts together (aiohttp's
    /// `TCPConnector(limit=)`, 100 by default); 0 is no limit. Requests past it wait.
    pub fn limit(mut self, n: usize) -> Self {
        self.limits.limit = n;
        self
    }

    /// At most `n` connections open at once to one (scheme, host, port) (aiohttp's
    /// `limit_per_host=`); 0, the default, is no limit.
    pub fn limit_per_host(mut self, n: usize) -> Self {
        self.limits.limit_per_host = n;
        self
    }

    /// How long an idle connection is kept for reuse (aiohttp's `keepalive_timeout=`, 15 s).
    pub fn keepalive_timeout(mut self, d: Duration) -> Self {
        self.limits.keepalive = d;
        self
    }

    /// The TLS connector for `https` URLs (aiohttp's `ssl=`): a private CA, a client
    /// certificate. When it offers no ALPN protocol, the session offers `h2` and `http/1.1`.
    pub fn tls(mut self, tls: TlsConnector) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Whether to speak HTTP/2 when a TLS server offers it through ALPN (on by default).
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// Speaks HTTP/2 to cleartext `http` servers without asking first (prior knowledge).
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.h2_prior_knowledge = true;
        self
    }

    /// Makes every response with a status of 400 or more an [`ErrorKind::Status`] error
    /// (aiohttp's `raise_for_status=True`).
    pub fn raise_for_status(mut self, on: bool) -> Self {
        self.raise_for_status = on;
        self
    }

    /// Follows at most `n` redirects per request (aiohttp's `max_redirects=10`); more is
    /// [`ErrorKind::TooManyRedirects`]. 0 follows none.
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = n;
        self
    }

    /// The session.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidUrl`] for a base URL that does not parse or cannot be a base;
    /// [`ErrorKind::InvalidRequest`] for an invalid default header.
    pub fn build(self) -> Result<ClientSession, ClientError> {
        let base_url = match self.base_url {
            None => None,
            Some(raw) => Some(parse_base(&raw)?),
        };
        if let Some(why) = self.error {
            return Err(
                ClientError::new(&Method::GET, "(session)", ErrorKind::InvalidRequest)
                    .with_source(why),
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("conductor-http/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        headers.extend(self.headers);
        Ok(ClientSession {
            inner: Rc::new(Inner {
                pool: Pool::new(self.limits),
                base_url,
                headers,
                timeout: self.timeout,
                raise_for_status: self.raise_for_status,
                max_redirects: self.max_redirects,
                h2_prior_knowledge: self.h2_prior_knowledge,
                http2: self.http2,
                tls_given: self.tls,
                tls: OnceCell::new(),
                ws_tls: OnceCell::new(),
                cookie_jar: self.cookie_jar.unwrap_or_default(),
            }),
        })
    }
}

fn parse_base(raw: &str) -> Result<Url, ClientError> {
    let err =
        |why: String| ClientError::new(&Method::GET, raw, ErrorKind::InvalidUrl).with_source(why);
    let url = Url::parse(raw).map_err(|e| err(format!("the base URL does not parse: {e}")))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(err("the base URL must be an http or https URL".into()));
    }
    Ok(url)
}

impl fmt::Debug for ClientSessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSessionBuilder")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
