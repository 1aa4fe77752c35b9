//! One connection: TLS handshake (when configured), HTTP/1 or HTTP/2 (ALPN, else the client's
//! first bytes: HTTP/2's preface means prior knowledge), then hyper's connection driven with the
//! server's limits: the header-read deadline (slowloris: `408`), the idle keep-alive deadline,
//! and the server's drain (graceful shutdown).

use std::future::{Future, poll_fn};
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use conductor::net::ReadUninit;
use futures_io::AsyncWrite;

use super::io::{ConnState, Expiry, RESPONSE_408, Tracked};
use super::service::{Adapter, RequestLimits};
use super::{HttpService, Shared};
use crate::body::BoxError;
use crate::rt::ThreadBound;

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves one accepted connection until it ends.
pub(crate) async fn serve<St, S>(
    shared: Rc<Shared>,
    key: usize,
    stream: St,
    peer: Option<SocketAddr>,
    service: S,
) where
    St: ReadUninit + futures_io::AsyncRead + AsyncWrite + Unpin + 'static,
    S: HttpService,
{
    let result = match shared.config.tls.clone() {
        None => serve_stream(&shared, key, stream, None, peer, service).await,
        Some(tls) => {
            let deadline = shared.config.header_read_timeout;
            match conductor::timeout(deadline, tls.accept(stream)).await {
                Ok(Ok(tls_stream)) => {
                    let h2 = tls_stream.alpn_protocol().map(|p| p == b"h2");
                    serve_stream(&shared, key, tls_stream, h2, peer, service).await
                }
                Ok(Err(e)) => Err(e),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the TLS handshake took longer than {deadline:?} (header_read_timeout)"
                    ),
                )),
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(target: "conductor_http::server", peer = ?peer, error = %e, "connection ended with an error");
    }
}

async fn serve_stream<St, S>(
    shared: &Rc<Shared>,
    key: usize,
    mut stream: St,
    alpn_h2: Option<bool>,
    peer: Option<SocketAddr>,
    service: S,
) -> io::Result<()>
where
    St: ReadUninit + futures_io::AsyncRead + AsyncWrite + Unpin + 'static,
    S: HttpService,
{
    let state = Rc::new(ConnState::new());
    let (h2, prefix) = match alpn_h2 {
        Some(h2) => (h2, Vec::new()),
        None if !shared.config.http2 => (false, Vec::new()),
        None if !shared.config.http1 => (true, Vec::new()),
        None => match detect(shared, &mut stream).await? {
            Some(found) => found,
            None => return Ok(()), // closed, or timed out, before a request
        },
    };
    state.h2.set(h2);
    let adapter = Adapter {
        service,
        conn: state.clone(),
        limits: RequestLimits {
            max_body: shared.config.max_body_size,
            timeout: shared.config.request_timeout,
        },
        peer,
        log: crate::log::AccessLog::enabled(),
    };
    let io = Tracked::new(stream, state.clone(), prefix);
    let result = if h2 {
        let conn = shared.h2.serve_connection(io, adapter);
        drive(shared, key, &state, conn).await
    } else {
        let conn = shared
            .h1
            .serve_connection(ThreadBound::new(io), adapter)
            .with_upgrades();
        drive(shared, key, &state, conn).await
    };
    result.map_err(io::Error::other)
}

/// Reads the client's first bytes: HTTP/2's preface (prior knowledge), or HTTP/1. The bytes
/// read are handed to hyper. `None` when the client closed, or sent nothing whole in time.
async fn detect<St>(shared: &Shared, stream: &mut St) -> io::Result<Option<(bool, Vec<u8>)>>
where
    St: ReadUninit + futures_io::AsyncRead + AsyncWrite + Unpin,
{
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let read = async {
        loop {
            let n = poll_fn(|cx| {
                let spare: &mut [MaybeUninit<u8>] = buf.spare_capacity_mut();
                Pin::new(&mut *stream).poll_read_uninit(cx, spare)
            })
            .await?;
            if n == 0 {
                return Ok::<_, io::Error>(None);
            }
            // SAFETY: `poll_read_uninit` initialised `n` more bytes after the length.
            unsafe { buf.set_len(buf.len() + n) };
            let seen = buf.len().min(H2_PREFACE.len());
            if buf[..seen] != H2_PREFACE[..seen] {
                return Ok(Some(false));
            }
            if seen == H2_PREFACE.len() {
                return Ok(Some(true));
            }
        }
    };
    match conductor::timeout(shared.config.header_read_timeout, read).await {
        Ok(Ok(Some(h2))) => Ok(Some((h2, buf))),
        Ok(Ok(None)) => Ok(None),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            if !buf.is_empty() {
                shared.count_timeout();
                let _ = poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, RESPONSE_408)).await;
                let _ = poll_fn(|cx| Pin::new(&mut *stream).poll_flush(cx)).await;
            }
            Ok(None)
        }
    }
}

/// The waker the connection's timer wakes: it notes that the timer fired, then wakes the
/// connection's task.
struct TimerFlag {
    fired: AtomicBool,
    task: Waker,
}

impl TimerFlag {
    fn new(task: &Waker) -> (Arc<TimerFlag>, Waker) {
        let flag = Arc::new(TimerFlag {
            fired: AtomicBool::new(false),
            task: task.clone(),
        });
        let waker = Waker::from(flag.clone());
        (flag, waker)
    }
}

impl std::task::Wake for TimerFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Relaxed);
        self.task.wake_by_ref();
    }
}

/// hyper's two connection types, as the driver needs them.
trait Graceful: Future<Output = Result<(), hyper::Error>> {
    fn graceful(self: Pin<&mut Self>);
}

impl<I, S, B> Graceful for hyper::server::conn::http1::UpgradeableConnection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<BoxError>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    B: http_body::Body + 'static,
    B::Error: Into<BoxError>,
{
    fn graceful(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I, S, B, E> Graceful for hyper::server::conn::http2::Connection<I, S, E>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<BoxError>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: http_body::Body + 'static,
    B::Error: Into<BoxError>,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn graceful(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// Drives `conn` until it ends, the server drains it (graceful shutdown: in-flight requests
/// finish, idle keep-alives close), or a deadline of the connection passes.
async fn drive<C: Graceful>(
    shared: &Shared,
    key: usize,
    state: &ConnState,
    conn: C,
) -> Result<(), hyper::Error> {
    let mut conn = pin!(conn);
    let config = &shared.config;
    let mut timer: Option<Pin<Box<conductor::time::Sleep>>> = None;
    let mut armed: Option<Instant> = None;
    let mut draining = false;
    let mut registered = false;
    let mut fired: Option<(Arc<TimerFlag>, Waker)> = None;
    poll_fn(|cx| {
        loop {
            if let Poll::Ready(r) = conn.as_mut().poll(cx) {
                return Poll::Ready(r);
            }
            if !draining && shared.is_draining() {
                draining = true;
                conn.as_mut().graceful();
                continue;
            }
            if !registered {
                // A task's waker stays the same: told once where to wake it for the drain.
                shared.register_waker(key, cx.waker());
                registered = true;
            }
            let Some((due, expiry)) =
                state.deadline(config.header_read_timeout, config.keep_alive_timeout)
            else {
                return Poll::Pending;
            };
            let mut must_poll = false;
            let sleep = match &mut timer {
                Some(sleep) => {
                    // Re-armed only when the deadline moved earlier: a later one is checked when
                    // the timer fires, so a busy connection does not touch the timer per request.
                    if armed.is_none_or(|at| due < at) {
                        sleep.as_mut().get_mut().reset(due);
                        armed = Some(due);
                        must_poll = true;
                    }
                    sleep
                }
                None => {
                    armed = Some(due);
                    must_poll = true;
                    timer.insert(Box::pin(conductor::sleep_until(due)))
                }
            };
            // The timer wakes the task through `fired`, so the sleep is polled only when it was
            // just armed (to register) or has fired, not at every wake-up of the connection.
            let flag = fired.get_or_insert_with(|| TimerFlag::new(cx.waker()));
            if !must_poll && !flag.0.fired.swap(false, Ordering::Relaxed) {
                return Poll::Pending;
            }
            if sleep
                .as_mut()
                .poll(&mut Context::from_waker(&flag.1))
                .is_pending()
            {
                return Poll::Pending;
            }
            // The timer fired at `armed`; the deadline may have moved since (a request came).
            if conductor::now() < due {
                sleep.as_mut().get_mut().reset(due);
                armed = Some(due);
                // Polled again at once, to register the re-armed timer.
                flag.0.fired.store(true, Ordering::Relaxed);
                continue;
            }
            armed = None;
            match expiry {
                Expiry::SlowHead => {
                    shared.count_timeout();
                    state.send_408();
                    // hyper's next read sends the 408 and sees the end of the stream.
                    return match conn.as_mut().poll(cx) {
                        Poll::Ready(r) => Poll::Ready(r),
                        Poll::Pending => Poll::Ready(Ok(())),
                    };
                }
                Expiry::Idle => return Poll::Ready(Ok(())),
            }
        }
    })
    .await
}
