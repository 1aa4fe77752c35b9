//! The bridge from hyper to the user's tower `Service`: each request gets the body limit (413
//! before reading a body announced too large), the request timeout (503), a panic caught into a
//! `500`, the connection's in-flight count (kept until the response body is sent), and an
//! access-log line.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use tower_service::Service;

use super::io::ConnState;
use crate::body::{Body, BoxError};

/// What the server runs: a tower `Service<Request<Body>>` answering `Response<B>` for any
/// body `B` of `Bytes`, with errors that convert into [`BoxError`], cloned for each connection.
/// An axum `Router`, [`Router`](crate::Router) and [`handler_fn`](crate::handler_fn)s are
/// such services. `!Send` services and futures are fine: a connection stays on its loop.
///
/// Implemented for every such service (it names the bounds once, so that `serve`, `start` and
/// `serve_per_core` read as what they take); it is not meant to be implemented by hand.
pub trait HttpService:
    Service<
        Request<Body>,
        Response = Response<<Self as HttpService>::ResBody>,
        Error: Into<BoxError>,
        Future: 'static,
    > + Clone
    + 'static
{
    /// The response body.
    type ResBody: http_body::Body<Data = Bytes, Error: Into<BoxError>> + 'static;
}

impl<S, B> HttpService for S
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + 'static,
    B::Error: Into<BoxError>,
{
    type ResBody = B;
}

/// Counts one request in flight on its connection until dropped (with the response body, or
/// with the request's future when the connection goes away first).
pub(crate) struct RequestGuard(Rc<ConnState>);

impl RequestGuard {
    fn new(conn: &Rc<ConnState>) -> Self {
        conn.begin_request();
        RequestGuard(conn.clone())
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

pin_project_lite::pin_project! {
    /// The response body the server sends: the service's, or one of its own (413, 503, 500).
    /// Either holds the request's place in its connection's in-flight count.
    pub struct ServerBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        User { #[pin] body: B, guard: RequestGuard },
        Fixed { bytes: Option<Bytes>, guard: RequestGuard },
    }
}

impl<B> ServerBody<B> {
    fn user(body: B, guard: RequestGuard) -> Self {
        ServerBody {
            kind: Kind::User { body, guard },
        }
    }

    fn fixed(bytes: Bytes, guard: RequestGuard) -> Self {
        ServerBody {
            kind: Kind::Fixed {
                bytes: Some(bytes),
                guard,
            },
        }
    }
}

impl<B> http_body::Body for ServerBody<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().kind.project() {
            KindProj::User { body, .. } => body.poll_frame(cx).map_err(Into::into),
            KindProj::Fixed { bytes, .. } => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::User { body, .. } => body.is_end_stream(),
            Kind::Fixed { bytes, .. } => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::User { body, .. } => body.size_hint(),
            Kind::Fixed { bytes, .. } => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

/// What each request needs from the server's configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestLimits {
    pub(crate) max_body: usize,
    pub(crate) timeout: Option<Duration>,
}

/// hyper's service for one connection, over the user's tower service.
pub(crate) struct Adapter<S> {
    pub(crate) service: S,
    pub(crate) conn: Rc<ConnState>,
    pub(crate) limits: RequestLimits,
    pub(crate) peer: Option<std::net::SocketAddr>,
    /// Access logging, decided when the connection opened.
    pub(crate) log: bool,
}

impl<S: HttpService> hyper::service::Service<Request<Incoming>> for Adapter<S> {
    type Response = Response<ServerBody<S::ResBody>>;
    type Error = Infallible;
    type Future = ResponseFuture<S>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let guard = RequestGuard::new(&self.conn);
        let log = crate::log::AccessLog::start(self.log, &req, self.peer);
        let limits = self.limits;
        // hyper's body knows an announced `Content-Length` exactly (no header lookup here).
        let announced = http_body::Body::size_hint(req.body()).lower();
        if announced > 0 {
            let len = announced;
            if len > limits.max_body as u64 {
                let resp = fixed(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "413 Payload Too Large: the body of {len} bytes is over the server's \
                         limit of {} bytes",
                        limits.max_body
                    ),
                    guard,
                    true,
                );
                log.finish(resp.status());
                return ResponseFuture::done(resp);
            }
        }
        let req = req.map(|b| Body::new(b, limits.max_body));
        let mut service = self.service.clone();
        let timer = limits.timeout.map(|d| Box::new((d, conductor::sleep(d))));
        // Services that are always ready (axum's Router, this crate's) are called at once, so
        // the request is not kept in the future; others are awaited first.
        let state = match service.poll_ready(&mut Context::from_waker(super::noop_waker())) {
            Poll::Ready(Ok(())) => {
                match std::panic::catch_unwind(AssertUnwindSafe(|| service.call(req))) {
                    Ok(fut) => State::Calling { fut },
                    Err(panic) => {
                        let what = panic_message(&*panic);
                        tracing::error!(target: "conductor_http::server", panic = %what, "the service panicked");
                        State::Failed {
                            error: Some("panicked".into()),
                        }
                    }
                }
            }
            Poll::Ready(Err(e)) => State::Failed {
                error: Some(e.into()),
            },
            Poll::Pending => State::NotReady {
                waiting: Box::new((service, Some(req))),
            },
        };
        ResponseFuture {
            state,
            timer,
            guard: Some(guard),
            log,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of one request: the service's, with the request timeout, a panic caught,
    /// and the in-flight guard handed to the response body.
    pub struct ResponseFuture<S: HttpService> {
        #[pin]
        state: State<S>,
        // Boxed: only with a request timeout, and it keeps the future hyper moves small.
        timer: Option<Box<(Duration, conductor::time::Sleep)>>,
        guard: Option<RequestGuard>,
        log: crate::log::AccessLog,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<S: Service<Request<Body>>> {
        // Boxed, as the rare states are: the future hyper keeps per request stays small.
        NotReady { waiting: Box<(S, Option<Request<Body>>)> },
        Calling { #[pin] fut: S::Future },
        Failed { error: Option<BoxError> },
        Done { resp: Option<Box<Response<ServerBody<()>>>> },
    }
}

impl<S: HttpService> ResponseFuture<S> {
    fn done(resp: Response<ServerBody<S::ResBody>>) -> Self {
        // The response of the server's own, re-typed once it is taken (`ServerBody<()>` holds
        // only fixed bytes).
        let (parts, body) = resp.into_parts();
        let body = match body.kind {
            Kind::Fixed { bytes, guard } => ServerBody {
                kind: Kind::Fixed { bytes, guard },
            },
            Kind::User { .. } => unreachable!("done() is given the server's own responses"),
        };
        ResponseFuture {
            state: State::Done {
                resp: Some(Box::new(Response::from_parts(parts, body))),
            },
            timer: None,
            guard: None,
            log: crate::log::AccessLog::off(),
        }
    }
}

impl<S: HttpService> Future for ResponseFuture<S> {
    type Output = Result<Response<ServerBody<S::ResBody>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // The closure answers only the service's outcome, not a future to go on with, so that
        // what crosses `catch_unwind` is as small as a response (it is moved at each crossing).
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| {
            poll_state::<S>(this.state.as_mut(), cx)
        }));
        let outcome = match polled {
            Ok(Poll::Pending) => None,
            Ok(Poll::Ready(r)) => Some(r),
            Err(panic) => {
                let what = panic_message(&*panic);
                tracing::error!(target: "conductor_http::server", panic = %what, "the service panicked");
                Some(Err("panicked".into()))
            }
        };
        if let StateProj::Done { resp } = this.state.as_mut().project() {
            return Poll::Ready(Ok(take_fixed(resp)));
        }
        let guard;
        let resp = match outcome {
            None => {
                let Some(timer) = this.timer.as_mut() else {
                    return Poll::Pending;
                };
                if Pin::new(&mut timer.1).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let d = timer.0;
                this.state.set(State::Failed { error: None });
                guard = this.guard.take().expect("one response per request");
                fixed(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("503 Service Unavailable: the request took longer than {d:?}"),
                    guard,
                    false,
                )
            }
            Some(r) => {
                this.state.set(State::Failed { error: None });
                guard = this.guard.take().expect("one response per request");
                match r {
                    Ok(resp) => resp.map(|body| ServerBody::user(body, guard)),
                    Err(e) => {
                        tracing::error!(target: "conductor_http::server", error = %e, "the service failed");
                        fixed(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "500 Internal Server Error".into(),
                            guard,
                            false,
                        )
                    }
                }
            }
        };
        this.log.finish(resp.status());
        Poll::Ready(Ok(resp))
    }
}

/// Polls the request's state: the service's future, or first the service's readiness (then
/// it is called and its future polled at once).
fn poll_state<S: HttpService>(
    mut state: Pin<&mut State<S>>,
    cx: &mut Context<'_>,
) -> Poll<Result<Response<S::ResBody>, BoxError>> {
    loop {
        match state.as_mut().project() {
            StateProj::Calling { fut } => return fut.poll(cx).map_err(Into::into),
            StateProj::NotReady { waiting } => match waiting.0.poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    let (service, req) = &mut **waiting;
                    let req = req.take().expect("a request waits for its service");
                    let fut = service.call(req);
                    state.set(State::Calling { fut });
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => return Poll::Pending,
            },
            StateProj::Failed { error } => {
                return Poll::Ready(Err(error.take().unwrap_or_else(|| "failed".into())));
            }
            StateProj::Done { .. } => return Poll::Pending,
        }
    }
}

/// The server's own response kept in `State::Done`, re-typed for the service's body.
fn take_fixed<B>(resp: &mut Option<Box<Response<ServerBody<()>>>>) -> Response<ServerBody<B>> {
    let (parts, body) = resp.take().expect("polled after completion").into_parts();
    let Kind::Fixed { bytes, guard } = body.kind else {
        unreachable!("State::Done holds the server's own responses")
    };
    Response::from_parts(
        parts,
        ServerBody {
            kind: Kind::Fixed { bytes, guard },
        },
    )
}

/// A plain-text response of the server's own; `close` asks to end the connection (a body left
/// unread cannot be skipped on HTTP/1).
fn fixed<B>(
    status: StatusCode,
    text: String,
    guard: RequestGuard,
    close: bool,
) -> Response<ServerBody<B>> {
    let mut resp = Response::new(ServerBody::fixed(Bytes::from(text), guard));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if close {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic".to_owned())
}
