//! The server (aiohttp.web's role): [`Server`] configures limits, TLS and protocols once, then
//! [`serve`](Server::serve)s any tower `Service<Request<Body>>` on a listener, or
//! [`start`](Server::start)s it as a task with a handle for graceful shutdown; [`serve`] and
//! [`serve_per_core`] are the short forms.
//!
//! Connections run as tasks of the loop that accepted them, so services and their futures need
//! not be `Send` (they may hold `Rc` state and conductor's sockets). Each connection is HTTP/1.1
//! with keep-alive or HTTP/2: by ALPN over TLS, else by the client's first bytes (HTTP/2's
//! preface, "prior knowledge").
//!
//! # Limits (what a hostile client cannot get past)
//! | limit | default | answer |
//! |---|---|---|
//! | [`max_header_size`](Server::max_header_size) | 64 KiB | `431 Request Header Fields Too Large` (hyper) |
//! | [`max_body_size`](Server::max_body_size) | 1 MiB (aiohttp's `client_max_size`) | `413`: before reading, for a `Content-Length` over it; else the body fails at the limit |
//! | [`header_read_timeout`](Server::header_read_timeout) | 30 s | `408 Request Timeout` for a head begun and not finished (slowloris); a connection that sends nothing is closed |
//! | [`keep_alive_timeout`](Server::keep_alive_timeout) | 75 s (aiohttp's) | an idle keep-alive connection is closed |
//! | [`max_connections`](Server::max_connections) | 10,000 | accepting waits for a free place (backpressure: the kernel's backlog holds the rest), or with [`reject_when_full`](Server::reject_when_full) `503` |
//! | [`request_timeout`](Server::request_timeout) | none | `503 Service Unavailable` when the service takes longer |
//! | a panicking or failing service | | `500`, logged; the connection goes on |

mod conn;
mod io;
mod service;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io as stdio;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use conductor::net::{ReadUninit, TcpListener, TcpStream, UnixListener, UnixStream};
use conductor::signal::InFlight;
use conductor::task::TaskRef;
use conductor::tls::TlsAcceptor;
use futures_io::AsyncWrite;
use slab::Slab;

use crate::rt::{ConductorTimer, LocalExecutor};

pub use service::{HttpService, ServerBody};

/// How a server runs: limits, TLS, protocols. Build it once, then [`serve`](Self::serve) or
/// [`start`](Self::start).
///
/// ```
/// use std::time::Duration;
/// let server = conductor_http::Server::new()
///     .max_body_size(64 * 1024)
///     .header_read_timeout(Duration::from_secs(10))
///     .max_connections(1_000);
/// # let _ = server;
/// ```
#[derive(Clone)]
pub struct Server {
    config: Config,
    in_flight: Option<InFlight>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .field("in_flight", &self.in_flight.is_some())
            .finish()
    }
}

/// hyper's limit on a request's headers when none is set (`DEFAULT_MAX_HEADERS`).
const HYPER_MAX_HEADERS: usize = 100;

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) max_header_size: usize,
    pub(crate) max_headers: usize,
    pub(crate) max_body_size: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) reject_when_full: bool,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) http1: bool,
    pub(crate) http2: bool,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) max_concurrent_streams: u32,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// A server with the defaults of the module's table, HTTP/1.1 and HTTP/2, no TLS.
    pub fn new() -> Self {
        Server {
            config: Config {
                max_header_size: 64 * 1024,
                max_headers: HYPER_MAX_HEADERS,
                max_body_size: 1024 * 1024,
                header_read_timeout: Duration::from_secs(30),
                keep_alive_timeout: Duration::from_secs(75),
                max_connections: 10_000,
                reject_when_full: false,
                request_timeout: None,
                http1: true,
                http2: true,
                tls: None,
                max_concurrent_streams: 200,
            },
            in_flight: None,
        }
    }

    /// The largest request head (request line and headers), in bytes; larger ones get `431`.
    /// HTTP/2's header list is held to the same size.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.config.max_header_size = bytes.max(64);
        self
    }

    /// The most headers in a request (HTTP/1); more get `431`.
    pub fn max_headers(mut self, n: usize) -> Self {
        self.config.max_headers = n;
        self
    }

    /// The largest request body, in bytes (aiohttp's `client_max_size`).
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.config.max_body_size = bytes;
        self
    }

    /// How long a client may take to send a whole request head, counted from its first byte
    /// (and, for a new connection, how long it may stay silent). `Duration::MAX` for never.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// How long a keep-alive connection may stay idle between requests (aiohttp's
    /// `keepalive_timeout`).
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.config.keep_alive_timeout = timeout;
        self
    }

    /// The most connections served at once; past it, accepting waits.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n.max(1);
        self
    }

    /// At [`max_connections`](Self::max_connections), accept and answer `503 Service
    /// Unavailable` (then close) instead of waiting.
    pub fn reject_when_full(mut self, on: bool) -> Self {
        self.config.reject_when_full = on;
        self
    }

    /// The longest a service may take to produce a response head; then `503`.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = Some(timeout);
        self
    }

    /// HTTP/1.1 only (HTTP/2's preface is then a bad request).
    pub fn http1_only(mut self) -> Self {
        self.config.http1 = true;
        self.config.http2 = false;
        self
    }

    /// HTTP/2 only (prior knowledge on cleartext).
    pub fn http2_only(mut self) -> Self {
        self.config.http1 = false;
        self.config.http2 = true;
        self
    }

    /// The most concurrent streams of one HTTP/2 connection (200 by default).
    pub fn max_concurrent_streams(mut self, n: u32) -> Self {
        self.config.max_concurrent_streams = n;
        self
    }

    /// Serves TLS with `acceptor` (its ALPN list decides HTTP/2: offer `["h2", "http/1.1"]`).
    /// The handshake must finish within the header-read timeout.
    pub fn tls(mut self, acceptor: TlsAcceptor) -> Self {
        self.config.tls = Some(acceptor);
        self
    }

    /// Spawns each connection's task through `in_flight` (from
    /// [`conductor::signal::graceful_shutdown`]), so that the shutdown's grace period waits
    /// for them; see [`serve`](Self::serve).
    pub fn in_flight(mut self, in_flight: InFlight) -> Self {
        self.in_flight = Some(in_flight);
        self
    }

    /// Serves `service` on `listener` until this future is cancelled (or dropped). Cancelling
    /// it is the graceful shutdown: accepting stops at once, every connection is told to finish
    /// its in-flight requests and close (idle keep-alives close now), and the connections run
    /// on by themselves; under [`conductor::signal::graceful_shutdown`] with
    /// [`in_flight`](Self::in_flight), its grace period waits for them and cancels the rest.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use conductor_http::{handler_fn, text_response, Server};
    /// let report = conductor::run(async {
    ///     let listener = conductor::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
    ///     let app = handler_fn(|_req| async { text_response(http::StatusCode::OK, "hi") });
    ///     conductor::signal::graceful_shutdown(Duration::from_secs(10), move |in_flight| async move {
    ///         Server::new().in_flight(in_flight).serve(listener, app).await.unwrap();
    ///     })
    ///     .unwrap()
    ///     .await
    /// });
    /// report.exit();
    /// ```
    ///
    /// # Errors
    /// None today (accept errors back off and retry); the `Result` leaves room.
    pub async fn serve<L, S>(self, listener: L, service: S) -> stdio::Result<()>
    where
        L: Listener,
        S: HttpService,
    {
        let shared = Shared::new(self.config, self.in_flight);
        let _drain = DrainOnDrop(shared.clone());
        accept_loop(&shared, &listener, service).await;
        Ok(())
    }

    /// Starts serving `service` on `listener` in a task of this loop and returns its handle:
    /// the address, the open connections, and [`Running::shutdown`].
    pub fn start<L, S>(self, listener: L, service: S) -> Running
    where
        L: Listener,
        S: HttpService,
    {
        let shared = Shared::new(self.config, self.in_flight);
        let addr = listener.local_addr();
        let inner = shared.clone();
        let task = conductor::spawn_named("HTTP server accept", async move {
            let _drain = DrainOnDrop(inner.clone());
            accept_loop(&inner, &listener, service).await;
        });
        let accept = task.task_ref();
        task.detach();
        Running {
            shared,
            accept,
            addr,
        }
    }
}

/// Serves `service` on `listener` with [`Server::new`]'s defaults (hyper's `serve_connection`
/// in a loop, with everything this crate adds). Runs until cancelled; see [`Server::serve`].
///
/// ```
/// use conductor_http::{handler_fn, json_response};
/// # conductor::run(async {
/// let listener = conductor::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let app = handler_fn(|_req| async { json_response(&serde_json::json!({"hello": "world"})) });
/// let server = conductor::spawn(conductor_http::serve(listener, app));
/// server.cancel(); // a graceful stop
/// # });
/// ```
///
/// # Errors
/// As [`Server::serve`].
pub async fn serve<L, S>(listener: L, service: S) -> stdio::Result<()>
where
    L: Listener,
    S: HttpService,
{
    Server::new().serve(listener, service).await
}

/// A listening socket the server accepts from: conductor's [`TcpListener`] and
/// [`UnixListener`].
pub trait Listener: 'static {
    /// The accepted stream.
    type Stream: ReadUninit + futures_io::AsyncRead + AsyncWrite + Unpin + 'static;

    /// Accepts a connection, with the peer's address for TCP.
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<stdio::Result<(Self::Stream, Option<SocketAddr>)>>;

    /// The address listened on, for TCP.
    fn local_addr(&self) -> Option<SocketAddr>;
}

impl Listener for TcpListener {
    type Stream = TcpStream;

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<stdio::Result<(TcpStream, Option<SocketAddr>)>> {
        TcpListener::poll_accept(self, cx).map(|r| {
            let (s, a) = r?;
            s.set_nodelay(true)?;
            Ok((s, Some(a)))
        })
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        TcpListener::local_addr(self).ok()
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<stdio::Result<(UnixStream, Option<SocketAddr>)>> {
        UnixListener::poll_accept(self, cx).map(|r| r.map(|(s, _)| (s, None)))
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        None
    }
}

/// A server started with [`Server::start`].
#[derive(Debug)]
pub struct Running {
    shared: Rc<Shared>,
    accept: TaskRef,
    addr: Option<SocketAddr>,
}

/// What [`Running::shutdown`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownStats {
    /// Connections that finished within the grace period.
    pub finished: usize,
    /// Connections cancelled when it ran out (their requests were cut).
    pub cancelled: usize,
}

impl Running {
    /// The TCP address listened on (handy after binding port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.shared.active.get()
    }

    /// Request heads that timed out (`408`) so far.
    pub fn header_timeouts(&self) -> u64 {
        self.shared.timeouts.get()
    }

    /// The graceful shutdown: stops accepting, lets in-flight requests finish (idle keep-alive
    /// connections close at once) for up to `grace`, then cancels the connections left, and
    /// waits for them.
    pub async fn shutdown(self, grace: Duration) -> ShutdownStats {
        self.accept.cancel();
        self.shared.drain();
        let open = self.shared.active.get();
        let _ = conductor::timeout(grace, self.shared.idle()).await;
        let left = self.shared.active.get();
        for task in self.shared.tasks() {
            task.cancel();
        }
        self.shared.idle().await;
        ShutdownStats {
            finished: open - left,
            cancelled: left,
        }
    }
}

/// What a server's accept loop and its connections share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) h1: hyper::server::conn::http1::Builder,
    pub(crate) h2: hyper::server::conn::http2::Builder<LocalExecutor>,
    in_flight: Option<InFlight>,
    active: Cell<usize>,
    conns: RefCell<Slab<Slot>>,
    draining: Cell<bool>,
    /// The accept loop waiting for a free place, and tasks waiting for no connection.
    accept_waker: RefCell<Option<Waker>>,
    idle_wakers: RefCell<Vec<Waker>>,
    timeouts: Cell<u64>,
}

#[derive(Default)]
struct Slot {
    waker: Option<Waker>,
    task: Option<TaskRef>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("active", &self.active.get())
            .field("draining", &self.draining.get())
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn new(config: Config, in_flight: Option<InFlight>) -> Rc<Self> {
        let mut h1 = hyper::server::conn::http1::Builder::new();
        // The header-read deadline is the driver's (it answers 408; hyper's would only close,
        // and would re-arm a timer for every request).
        h1.timer(ConductorTimer)
            .header_read_timeout(None)
            .max_buf_size(config.max_header_size.max(8192))
            .keep_alive(true);
        // hyper's own default (100) parses into inline uninitialised arrays; any explicit limit,
        // even 100, makes it fill a `SmallVec` element by element on every request (~1,000
        // instructions of a 9,500-instruction hello).
        if config.max_headers != HYPER_MAX_HEADERS {
            h1.max_headers(config.max_headers);
        }
        // hyper's own check of the head's size; its read buffer must stay at least 8 KiB.
        h1.max_header_size(config.max_header_size);
        let mut h2 = hyper::server::conn::http2::Builder::new(LocalExecutor);
        h2.timer(ConductorTimer)
            .max_header_list_size(u32::try_from(config.max_header_size).unwrap_or(u32::MAX))
            .max_concurrent_streams(config.max_concurrent_streams);
        Rc::new(Shared {
            config,
            h1,
            h2,
            in_flight,
            active: Cell::new(0),
            conns: RefCell::new(Slab::new()),
            draining: Cell::new(false),
            accept_waker: RefCell::new(None),
            idle_wakers: RefCell::new(Vec::new()),
            timeouts: Cell::new(0),
        })
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.get()
    }

    pub(crate) fn count_timeout(&self) {
        self.timeouts.set(self.timeouts.get() + 1);
    }

    /// Remembers the connection's waker, for `drain`.
    pub(crate) fn register_waker(&self, key: usize, waker: &Waker) {
        if let Some(slot) = self.conns.borrow_mut().get_mut(key) {
            match &slot.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => slot.waker = Some(waker.clone()),
            }
        }
    }

    fn drain(&self) {
        if self.draining.replace(true) {
            return;
        }
        let wakers: Vec<Waker> = self
            .conns
            .borrow_mut()
            .iter_mut()
            .filter_map(|(_, s)| s.waker.take())
            .collect();
        for w in wakers {
            w.wake();
        }
    }

    fn tasks(&self) -> Vec<TaskRef> {
        self.conns
            .borrow()
            .iter()
            .filter_map(|(_, s)| s.task.clone())
            .collect()
    }

    async fn idle(&self) {
        poll_fn(|cx| {
            if self.active.get() == 0 {
                return Poll::Ready(());
            }
            self.idle_wakers.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }

    /// Waits for a free place under `max_connections`.
    fn poll_place(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.active.get() < self.config.max_connections {
            return Poll::Ready(());
        }
        *self.accept_waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Drains the server when its accept loop ends, however it ends (cancelled, dropped).
struct DrainOnDrop(Rc<Shared>);

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        self.0.drain();
    }
}

/// Forgets a connection when its task ends, however it ends.
struct ConnGuard {
    shared: Rc<Shared>,
    key: usize,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.conns.borrow_mut().try_remove(self.key);
        let active = shared.active.get() - 1;
        shared.active.set(active);
        if let Some(w) = shared.accept_waker.borrow_mut().take() {
            w.wake();
        }
        if active == 0 {
            let wakers = std::mem::take(&mut *shared.idle_wakers.borrow_mut());
            for w in wakers {
                w.wake();
            }
        }
    }
}

async fn accept_loop<L, S>(shared: &Rc<Shared>, listener: &L, service: S)
where
    L: Listener,
    S: HttpService,
{
    let mut failing = false;
    loop {
        if !shared.config.reject_when_full {
            poll_fn(|cx| shared.poll_place(cx)).await;
        }
        let accepted = poll_fn(|cx| listener.poll_accept(cx)).await;
        let (stream, peer) = match accepted {
            Ok(conn) => {
                failing = false;
                conn
            }
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                if !failing {
                    tracing::warn!(
                        target: "conductor_http::server",
                        error = %e,
                        "accept failed; pausing accepts for {:?} at a time until it succeeds",
                        conductor::net::ACCEPT_BACKOFF
                    );
                }
                failing = true;
                conductor::sleep(conductor::net::ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if shared.active.get() >= shared.config.max_connections {
            reject(stream);
            continue;
        }
        spawn_connection(shared, stream, peer, service.clone());
    }
}

fn spawn_connection<St, S>(shared: &Rc<Shared>, stream: St, peer: Option<SocketAddr>, service: S)
where
    St: ReadUninit + futures_io::AsyncRead + AsyncWrite + Unpin + 'static,
    S: HttpService,
{
    let key = shared.conns.borrow_mut().insert(Slot::default());
    shared.active.set(shared.active.get() + 1);
    let guard = ConnGuard {
        shared: shared.clone(),
        key,
    };
    let work = {
        let shared = shared.clone();
        async move {
            let _guard = guard;
            conn::serve(shared, key, stream, peer, service).await;
        }
    };
    let task = match &shared.in_flight {
        Some(in_flight) => in_flight.spawn(work),
        None => conductor::spawn(work),
    };
    if let Some(slot) = shared.conns.borrow_mut().get_mut(key) {
        slot.task = Some(task.task_ref());
    }
    task.detach();
}

/// The answer when every place is taken: one non-blocking write, then close.
fn reject<St: AsyncWrite + Unpin>(mut stream: St) {
    const RESPONSE_503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 61\r\nconnection: close\r\n\r\n503 Service Unavailable: the server is at its connection limit";
    let mut cx = Context::from_waker(noop_waker());
    let _ = Pin::new(&mut stream).poll_write(&mut cx, RESPONSE_503);
}

/// A waker that does nothing, for polls whose wake-up nobody waits for.
pub(crate) fn noop_waker() -> &'static Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    static NOOP: std::sync::OnceLock<Waker> = std::sync::OnceLock::new();
    NOOP.get_or_init(|| Waker::from(Arc::new(Noop)))
}

/// Errors of the one connection being accepted: accept the next at once.
fn is_per_connection(e: &stdio::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNABORTED | libc::ECONNRESET | libc::EPROTO | libc::EPERM | libc::EINTR)
    )
}

/// Serves HTTP on `addr` with one loop per core, each with its own `SO_REUSEPORT` listener
/// (the kernel spreads connections), building each loop's service with `make_service` (so it
/// may be `!Send`: built on its loop). `loops == 0` means one per available core.
///
/// ```
/// use conductor_http::{handler_fn, serve_per_core, text_response, Server};
/// let server = serve_per_core(2, "127.0.0.1:0".parse().unwrap(), Server::new(), || {
///     let hits = std::rc::Rc::new(std::cell::Cell::new(0)); // per loop, not Send
///     handler_fn(move |_req| {
///         hits.set(hits.get() + 1);
///         async { text_response(http::StatusCode::OK, "hi") }
///     })
/// })
/// .unwrap();
/// assert_ne!(server.local_addr().port(), 0);
/// server.shutdown();
/// ```
///
/// # Errors
/// When the address does not bind, or a loop cannot start.
pub fn serve_per_core<F, S>(
    loops: usize,
    addr: SocketAddr,
    server: Server,
    make_service: F,
) -> stdio::Result<PerCoreHttp>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: HttpService,
{
    let loops = if loops == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        loops
    };
    let first = bind_reuse_port(addr)?;
    let local = first.local_addr()?;
    let mut listeners = vec![Some(first)];
    for _ in 1..loops {
        listeners.push(Some(bind_reuse_port(local)?));
    }
    let listeners = Arc::new(Mutex::new(listeners));
    // Only the configuration crosses threads: an `InFlight` belongs to one loop.
    let config = server.config;
    let group =
        conductor::runtime::LoopGroup::start(loops, conductor::Builder::new(), move |index| {
            let listener = listeners.lock().unwrap_or_else(|e| e.into_inner())[index].take();
            let server = Server {
                config: config.clone(),
                in_flight: None,
            };
            let service = make_service();
            async move {
                let Some(listener) = listener else { return };
                match TcpListener::from_std(listener) {
                    Ok(l) => {
                        let _ = server.serve(l, service).await;
                    }
                    Err(e) => tracing::error!(
                        target: "conductor_http::server",
                        error = %e,
                        "loop {index} could not register its listener"
                    ),
                }
            }
        })?;
    Ok(PerCoreHttp { group, addr: local })
}

fn bind_reuse_port(addr: SocketAddr) -> stdio::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// The loops of [`serve_per_core`].
pub struct PerCoreHttp {
    group: conductor::runtime::LoopGroup<()>,
    addr: SocketAddr,
}

impl std::fmt::Debug for PerCoreHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerCoreHttp")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl PerCoreHttp {
    /// The address listened on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops every loop: accepting stops, connections are drained (graceful), and each loop
    /// shuts down as `conductor::run` does (cancelling what is left). Blocks until they have.
    pub fn shutdown(self) {
        self.group.cancel();
        drop(self.group.join());
    }
}
