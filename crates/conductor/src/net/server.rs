//! asyncio's streams entry points: `open_connection`, `start_server` and the `Server` they
//! return (and the Unix-socket variants).
//!
//! A server runs one accept task per listening socket and one task per connection, running the
//! handler. The listening sockets live in the `Server`, so that `close` stops accepting at
//! once, as asyncio's does. Accept errors never end a server: running out of file descriptors
//! (or kernel memory) pauses accepting for `ACCEPT_BACKOFF` on the loop clock, other errors
//! concern one connection only and are skipped. Neither does a handler's failure: a panic in
//! the handler's call or in its future, or an `Err` it returns, goes to the loop's exception
//! handler and ends that connection only. A server whose accept loops are all gone (cancelled
//! from outside, say) is closed, so `is_serving` tells the truth.

use std::cell::{Cell, RefCell};
use std::error::Error;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use slab::Slab;

use super::addr::{ToSocketAddrs, lookup_host};
use super::split::{self, AbortHandle};
use super::{ServerOptions, TcpListener, TcpStream, UnixListener, UnixStream};
use crate::runtime::{ExceptionContext, call_exception_handler};
use crate::streams::{Address, StreamReader, StreamWriter};
use crate::task::TaskRef;

/// How long a server stops accepting after the OS ran out of file descriptors or memory.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Connects to `addr` over TCP and returns asyncio's streams over the connection (asyncio's
/// `open_connection(host, port)`). `TCP_NODELAY` is set, as asyncio's transports do.
///
/// # Errors
/// What [`TcpStream::connect`] reports.
///
/// ```
/// use conductor::net::{open_connection, start_server};
/// # conductor::run(async {
/// let server = start_server(
///     |mut reader, mut writer| async move {
///         let line = reader.readline().await?;
///         writer.write(&line.to_ascii_uppercase());
///         writer.drain().await
///     },
///     "127.0.0.1:0",
/// )
/// .await
/// .unwrap();
///
/// let (mut reader, mut writer) = open_connection(server.local_addr().unwrap()).await.unwrap();
/// writer.write(b"hello\n");
/// writer.drain().await.unwrap();
/// assert_eq!(reader.readline().await.unwrap(), b"HELLO\n");
/// server.close();
/// server.wait_closed().await;
/// # });
/// ```
pub async fn open_connection(addr: impl ToSocketAddrs) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream.into_streams())
}

/// Connects to the Unix socket at `path` and returns asyncio's streams over the connection
/// (asyncio's `open_unix_connection(path)`).
///
/// # Errors
/// What [`UnixStream::connect`] reports.
pub async fn open_unix_connection(
    path: impl AsRef<Path>,
) -> io::Result<(StreamReader, StreamWriter)> {
    Ok(UnixStream::connect(path).await?.into_streams())
}

/// Starts a TCP server on every address `addr` resolves to, running `handler(reader, writer)`
/// as a task for each connection (asyncio's `start_server(client_connected_cb, host, port)`).
///
/// The handler's output is dropped. An `Err`, or a panic (in the handler's call or in its
/// future), goes to the loop's exception handler (see
/// [`call_exception_handler`](crate::runtime::call_exception_handler)) and ends that
/// connection only, as asyncio logs an exception of the callback and keeps serving. The server
/// accepts until [`Server::close`]; dropping the `Server` does not stop it (as in asyncio,
/// where the loop keeps it alive).
///
/// # Errors
/// When an address does not bind, or resolves to nothing.
pub async fn start_server<H, F>(handler: H, addr: impl ToSocketAddrs) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    start_server_with(handler, addr, &ServerOptions::new()).await
}

/// [`start_server`] with a backlog, `SO_REUSEPORT`, a reader limit... (asyncio's keyword
/// arguments).
///
/// # Errors
/// As [`start_server`].
pub async fn start_server_with<H, F>(
    handler: H,
    addr: impl ToSocketAddrs,
    options: &ServerOptions,
) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    let addrs = lookup_host(addr).await?;
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing; check the host name",
        ));
    }
    let listeners = addrs
        .into_iter()
        .map(|a| TcpListener::bind_with(a, options).map(Listener::Tcp))
        .collect::<io::Result<Vec<_>>>()?;
    Server::start(listeners, handler, options, None)
}

/// Starts a server on the Unix socket `path` (asyncio's `start_unix_server(cb, path)`). A stale
/// socket file at `path` is removed first, and the file is removed again when the server closes
/// (asyncio 3.13's `cleanup_socket=True`).
///
/// # Errors
/// When `path` exists and is not a socket, or cannot be bound.
pub async fn start_unix_server<H, F>(handler: H, path: impl AsRef<Path>) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    let path = path.as_ref();
    remove_stale_socket(path)?;
    let options = ServerOptions::new();
    let listener = UnixListener::bind_with(path, &options)?;
    Server::start(
        vec![Listener::Unix(listener)],
        handler,
        &options,
        Some(path.to_owned()),
    )
}

fn remove_stale_socket(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path),
        _ => Ok(()),
    }
}

/// What a connection handler returns: `()`, or a `Result` whose error goes to the loop's
/// exception handler (asyncio reports the exception of a `client_connected_cb` there).
pub trait HandlerOutput {
    /// The failure to report, if any.
    fn into_error(self) -> Option<Box<dyn Error + Send + Sync>>;
}

impl HandlerOutput for () {
    fn into_error(self) -> Option<Box<dyn Error + Send + Sync>> {
        None
    }
}

impl<T, E: Into<Box<dyn Error + Send + Sync>>> HandlerOutput for Result<T, E> {
    fn into_error(self) -> Option<Box<dyn Error + Send + Sync>> {
        self.err().map(Into::into)
    }
}

/// The report of a connection whose handler failed: asyncio's "Unhandled exception in
/// client_connected_cb", with the peer and the server's address.
fn handler_failed(peer: Option<&Address>, server: Option<&Address>) -> ExceptionContext {
    let mut ctx = ExceptionContext::new("Unhandled error in connection handler");
    if let Some(p) = peer {
        ctx = ctx.with_detail("peer", p);
    }
    if let Some(s) = server {
        ctx = ctx.with_detail("server", s);
    }
    ctx
}

/// A listening socket of a server.
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    fn address(&self) -> Option<Address> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok().map(Address::Inet),
            Listener::Unix(l) => l.local_addr().ok().map(Address::Unix),
        }
    }

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        options: &ServerOptions,
    ) -> Poll<io::Result<Accepted>> {
        match self {
            Listener::Tcp(l) => l.poll_accept(cx).map(|r| {
                let (stream, _) = r?;
                if options.nodelay {
                    stream.set_nodelay(true)?;
                }
                #[cfg(feature = "tls")]
                if options.ssl.is_some() {
                    return Ok(Accepted::Tls(stream));
                }
                let (r, w, abort) = split::into_streams(stream, options.limit);
                Ok(Accepted::Streams(r, w, abort))
            }),
            Listener::Unix(l) => l.poll_accept(cx).map(|r| {
                let (r, w, abort) = split::into_streams(r?.0, options.limit);
                Ok(Accepted::Streams(r, w, abort))
            }),
        }
    }
}

/// An accepted connection: its streams and the handle `abort_clients` uses, or (a TLS server)
/// the socket whose handshake the connection's task runs first. Moved once per connection, so
/// the size difference costs less than boxing would (an allocation per connection).
#[allow(clippy::large_enum_variant)]
enum Accepted {
    Streams(StreamReader, StreamWriter, AbortHandle),
    #[cfg(feature = "tls")]
    Tls(TcpStream),
}

/// A running server, from [`start_server`] (asyncio's `Server`).
///
/// Single-loop and `!Send`, as everything of a loop; it can be cloned (the clones are the same
/// server). [`close`](Self::close) stops accepting; [`wait_closed`](Self::wait_closed) then
/// waits for the connections' handlers to finish; [`serve_forever`](Self::serve_forever)
/// waits until the server is closed, and closes it when cancelled.
#[derive(Clone)]
pub struct Server {
    inner: Rc<Inner>,
}

struct Inner {
    /// `None` once closed.
    listeners: RefCell<Vec<Option<Listener>>>,
    addrs: Vec<Address>,
    options: ServerOptions,
    closed: Cell<bool>,
    /// The running handlers' tasks, and their connections (which the handlers own).
    conns: RefCell<Slab<(Option<TaskRef>, AbortHandle)>>,
    accept_tasks: RefCell<Vec<TaskRef>>,
    /// Tasks in `wait_closed` or `serve_forever`.
    waiters: RefCell<Vec<Waker>>,
    unix_path: Option<PathBuf>,
}

impl Server {
    pub(crate) fn start<H, F>(
        listeners: Vec<Listener>,
        handler: H,
        options: &ServerOptions,
        unix_path: Option<PathBuf>,
    ) -> io::Result<Server>
    where
        H: Fn(StreamReader, StreamWriter) -> F + 'static,
        F: Future + 'static,
        F::Output: HandlerOutput,
    {
        let addrs = listeners.iter().filter_map(Listener::address).collect();
        let n = listeners.len();
        let inner = Rc::new(Inner {
            listeners: RefCell::new(listeners.into_iter().map(Some).collect()),
            addrs,
            options: options.clone(),
            closed: Cell::new(false),
            conns: RefCell::new(Slab::new()),
            accept_tasks: RefCell::new(Vec::new()),
            waiters: RefCell::new(Vec::new()),
            unix_path,
        });
        let handler = Rc::new(handler);
        for index in 0..n {
            let task = crate::spawn_named(
                "Server accept",
                accept_loop(inner.clone(), index, handler.clone()),
            );
            inner.accept_tasks.borrow_mut().push(task.task_ref());
            task.detach();
        }
        Ok(Server { inner })
    }

    /// The addresses listened on (asyncio's `server.sockets`, as addresses).
    pub fn sockets(&self) -> Vec<Address> {
        self.inner.addrs.clone()
    }

    /// The first TCP address listened on (handy after binding port 0).
    ///
    /// # Errors
    /// For a Unix-socket server.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .addrs
            .iter()
            .find_map(Address::as_inet)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a TCP server"))
    }

    /// Whether the server accepts connections (asyncio's `is_serving`): false once it is
    /// closed, or once its accept loops are gone for any reason.
    pub fn is_serving(&self) -> bool {
        !self.inner.closed.get()
    }

    /// How many connections' handlers are running.
    pub fn connections(&self) -> usize {
        self.inner.conns.borrow().len()
    }

    /// Stops accepting: the listening sockets are closed now (asyncio's `close`). Connections
    /// already accepted go on; see [`close_clients`](Self::close_clients).
    pub fn close(&self) {
        self.inner.close();
    }

    /// Cancels the handlers of the open connections (asyncio 3.13's `close_clients`); each
    /// receives the cancellation at its next `.await`, and may catch it to say goodbye.
    pub fn close_clients(&self) {
        for t in self.handler_tasks() {
            t.cancel();
        }
    }

    /// Closes the open connections at once and cancels their handlers (asyncio 3.13's
    /// `abort_clients`): both directions of each socket are shut down, so data still buffered
    /// for the client is dropped and a handler's goodbye can no longer reach it; the peer reads
    /// the end of the stream.
    pub fn abort_clients(&self) {
        let conns: Vec<AbortHandle> = self
            .inner
            .conns
            .borrow()
            .iter()
            .map(|(_, c)| c.1.clone())
            .collect();
        for conn in conns.iter().filter_map(std::rc::Weak::upgrade) {
            conn.abort();
        }
        self.close_clients();
    }

    fn handler_tasks(&self) -> Vec<TaskRef> {
        let conns = self.inner.conns.borrow();
        conns.iter().filter_map(|(_, c)| c.0.clone()).collect()
    }

    /// Waits until the server is closed and every connection's handler has finished (asyncio
    /// 3.12's `wait_closed`).
    pub async fn wait_closed(&self) {
        poll_fn(|cx| {
            self.inner
                .poll_wait(cx, |i| i.closed.get() && i.conns.borrow().is_empty())
        })
        .await;
    }

    /// Waits until the server is closed (asyncio's `serve_forever`). Cancelling the awaiting
    /// task closes the server, as asyncio's does.
    pub async fn serve_forever(&self) {
        struct CloseOnDrop<'a>(&'a Inner);
        impl Drop for CloseOnDrop<'_> {
            fn drop(&mut self) {
                self.0.close();
            }
        }
        let _guard = CloseOnDrop(&self.inner);
        poll_fn(|cx| self.inner.poll_wait(cx, |i| i.closed.get())).await;
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("sockets", &self.inner.addrs)
            .field("serving", &self.is_serving())
            .field("connections", &self.connections())
            .finish()
    }
}

impl Inner {
    fn close(&self) {
        if self.closed.get() {
            return;
        }
        let accept_tasks = std::mem::take(&mut *self.accept_tasks.borrow_mut());
        self.mark_closed();
        for t in accept_tasks {
            t.cancel();
        }
    }

    /// Closes the listening sockets (their accept tasks then end) and wakes the waiters.
    fn mark_closed(&self) {
        if self.closed.replace(true) {
            return;
        }
        self.accept_tasks.borrow_mut().clear();
        let listeners = std::mem::take(&mut *self.listeners.borrow_mut());
        drop(listeners);
        if let Some(path) = &self.unix_path {
            let _ = std::fs::remove_file(path);
        }
        self.wake_waiters();
    }

    /// The accept loop of listener `index` is gone (cancelled, or the server closed): nobody
    /// accepts on that socket any more, so it is closed; with no accept loop left, the server
    /// is.
    fn accept_loop_gone(&self, index: usize) {
        let listener = self
            .listeners
            .borrow_mut()
            .get_mut(index)
            .and_then(Option::take);
        drop(listener);
        let any_left = self.listeners.borrow().iter().any(Option::is_some);
        if !any_left {
            self.mark_closed();
        }
    }

    fn wake_waiters(&self) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for w in waiters {
            w.wake();
        }
    }

    fn poll_wait(&self, cx: &mut Context<'_>, done: fn(&Inner) -> bool) -> Poll<()> {
        if done(self) {
            return Poll::Ready(());
        }
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Runs `handler` for a new connection, as a task the server tracks.
    fn spawn_connection<H, F>(self: &Rc<Self>, handler: &Rc<H>, conn: Accepted)
    where
        H: Fn(StreamReader, StreamWriter) -> F + 'static,
        F: Future + 'static,
        F::Output: HandlerOutput,
    {
        let (reader, writer, abort) = match conn {
            Accepted::Streams(r, w, abort) => (r, w, abort),
            #[cfg(feature = "tls")]
            Accepted::Tls(stream) => return self.spawn_tls_connection(handler.clone(), stream),
        };
        let peer = writer.get_extra_info().peername.clone();
        let key = self.conns.borrow_mut().insert((None, abort));
        let done = ConnDone {
            server: self.clone(),
            key,
        };
        let server_addr = self.addrs.first().cloned();
        // A panic in the handler's synchronous part ends this connection only (its streams
        // are dropped, which closes it), not the accept loop.
        let work = match panic::catch_unwind(AssertUnwindSafe(|| handler(reader, writer))) {
            Ok(work) => work,
            Err(payload) => {
                drop(done);
                let ctx = handler_failed(peer.as_ref(), server_addr.as_ref()).with_panic(payload);
                return call_exception_handler(ctx);
            }
        };
        let task = crate::spawn(async move {
            let _done = done;
            let mut work = pin!(work);
            let outcome = poll_fn(|cx| {
                match panic::catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(cx))) {
                    Ok(Poll::Ready(out)) => Poll::Ready(out.into_error().map(Err)),
                    Ok(Poll::Pending) => Poll::Pending,
                    Err(payload) => Poll::Ready(Some(Ok(payload))),
                }
            })
            .await;
            let ctx = handler_failed(peer.as_ref(), server_addr.as_ref());
            match outcome {
                None => {}
                Some(Err(e)) => call_exception_handler(ctx.with_error(e)),
                Some(Ok(payload)) => call_exception_handler(ctx.with_panic(payload)),
            }
        });
        if let Some(slot) = self.conns.borrow_mut().get_mut(key) {
            slot.0 = Some(task.task_ref());
        }
        task.detach();
    }

    /// Runs the TLS handshake, then `handler`, for a new connection of a TLS server, as a task
    /// the server tracks. A failed handshake is printed (asyncio logs it) and the handler
    /// never runs.
    #[cfg(feature = "tls")]
    fn spawn_tls_connection<H, F>(self: &Rc<Self>, handler: Rc<H>, stream: TcpStream)
    where
        H: Fn(StreamReader, StreamWriter) -> F + 'static,
        F: Future + 'static,
        F::Output: HandlerOutput,
    {
        let peer = stream.peer_addr().ok().map(Address::Inet);
        let (abort, upgrade) = super::tls_server::upgrade(stream, &self.options);
        let key = self.conns.borrow_mut().insert((None, abort));
        let done = ConnDone {
            server: self.clone(),
            key,
        };
        let task = crate::spawn(async move {
            let _done = done;
            match upgrade.await {
                Ok((reader, writer)) => {
                    if let Some(e) = handler(reader, writer).await.into_error() {
                        call_exception_handler(handler_failed(peer.as_ref(), None).with_error(e));
                    }
                }
                // asyncio reports a failed handshake to the exception handler too.
                Err(e) => {
                    let mut ctx = ExceptionContext::new("TLS handshake failed");
                    if let Some(p) = &peer {
                        ctx = ctx.with_detail("peer", p);
                    }
                    call_exception_handler(ctx.with_error(e));
                }
            }
        });
        if let Some(slot) = self.conns.borrow_mut().get_mut(key) {
            slot.0 = Some(task.task_ref());
        }
        task.detach();
    }
}

/// Forgets a connection when its task ends, however it ends.
struct ConnDone {
    server: Rc<Inner>,
    key: usize,
}

impl Drop for ConnDone {
    fn drop(&mut self) {
        let empty = {
            let mut conns = self.server.conns.borrow_mut();
            conns.try_remove(self.key);
            conns.is_empty()
        };
        if empty && self.server.closed.get() {
            self.server.wake_waiters();
        }
    }
}

async fn accept_loop<H, F>(server: Rc<Inner>, index: usize, handler: Rc<H>)
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    struct Gone<'a>(&'a Inner, usize);
    impl Drop for Gone<'_> {
        fn drop(&mut self) {
            self.0.accept_loop_gone(self.1);
        }
    }
    let _gone = Gone(&server, index);
    let mut failing = false;
    loop {
        let accepted = poll_fn(|cx| match server.listeners.borrow().get(index) {
            Some(Some(l)) => l.poll_accept(cx, &server.options).map(Some),
            _ => Poll::Ready(None),
        })
        .await;
        match accepted {
            None => return,
            Some(Ok(conn)) => {
                failing = false;
                server.spawn_connection(&handler, conn);
            }
            Some(Err(e)) if is_per_connection(&e) => {}
            Some(Err(e)) => {
                if !failing {
                    // asyncio: "socket.accept() out of system resource", each time; here once
                    // per streak of failures.
                    let at = server.addrs.get(index).map(ToString::to_string);
                    crate::runtime::call_exception_handler(
                        crate::runtime::ExceptionContext::new(format!(
                            "accept() failed; the server pauses accepting for \
                             {ACCEPT_BACKOFF:?} at a time until it succeeds"
                        ))
                        .with_detail("server", at.as_deref().unwrap_or("?"))
                        .with_error(e),
                    );
                }
                failing = true;
                crate::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Errors that concern the one connection being accepted (it went away before `accept`): the
/// next one may be fine, so accept again at once. Everything else (`EMFILE`, `ENFILE`,
/// `ENOBUFS`, `ENOMEM`, and anything unforeseen) backs off instead of spinning.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNABORTED | libc::ECONNRESET | libc::EPROTO | libc::EPERM | libc::EINTR)
    )
}
