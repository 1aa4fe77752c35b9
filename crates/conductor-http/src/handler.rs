//! aiohttp.web's application side: [`handler_fn`] turns an async function into a tower
//! `Service`, [`Router`] dispatches by method and path (aiohttp's `app.router.add_get`), with
//! path parameters (`/users/{id}`, aiohttp's `request.match_info`). Handlers need not be
//! `Send`: they may capture `Rc` state.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use http::{Method, Request, Response, StatusCode};
use tower_service::Service;

use crate::body::{Body, ResponseBody};
use crate::response::status_response;

/// A request as handlers receive it.
pub type HttpRequest = Request<Body>;
/// A response of conductor-http's helpers.
pub type HttpResponse = Response<ResponseBody>;

/// A tower `Service` from an async function (hyper's `service_fn`, for tower and without
/// `Send`): `f(request)` returns the response. Clone is cheap (an `Rc`).
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use conductor_http::{handler_fn, text_response};
/// let hits = Rc::new(Cell::new(0)); // !Send state: fine
/// let app = handler_fn(move |_req| {
///     hits.set(hits.get() + 1);
///     let n = hits.get();
///     async move { text_response(http::StatusCode::OK, format!("hit {n}")) }
/// });
/// # let _ = app;
/// ```
pub fn handler_fn<F, Fut>(f: F) -> HandlerFn<F>
where
    F: Fn(HttpRequest) -> Fut + 'static,
    Fut: Future<Output = HttpResponse> + 'static,
{
    HandlerFn(Rc::new(f))
}

/// The service made by [`handler_fn`].
pub struct HandlerFn<F>(Rc<F>);

impl<F> Clone for HandlerFn<F> {
    fn clone(&self) -> Self {
        HandlerFn(self.0.clone())
    }
}

impl<F, Fut> Service<HttpRequest> for HandlerFn<F>
where
    F: Fn(HttpRequest) -> Fut + 'static,
    Fut: Future<Output = HttpResponse> + 'static,
{
    type Response = HttpResponse;
    type Error = Infallible;
    type Future = InfallibleFuture<Fut>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        InfallibleFuture((self.0)(req))
    }
}

pin_project_lite::pin_project! {
    /// A handler's future, as a service's (never failing).
    pub struct InfallibleFuture<F> { #[pin] inner: F }
}

#[allow(non_snake_case)]
fn InfallibleFuture<F>(inner: F) -> InfallibleFuture<F> {
    InfallibleFuture { inner }
}

impl<F: Future<Output = HttpResponse>> Future for InfallibleFuture<F> {
    type Output = Result<HttpResponse, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx).map(Ok)
    }
}

type BoxHandler = Rc<dyn Fn(HttpRequest) -> Pin<Box<dyn Future<Output = HttpResponse>>>>;

/// The path parameters of the matched route (aiohttp's `request.match_info`), in the request's
/// extensions.
#[derive(Debug, Clone, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// The value of `{name}` in the route.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// `request.match_info` for a request routed by [`Router`].
pub fn match_info(req: &HttpRequest) -> Params {
    req.extensions()
        .get::<Params>()
        .cloned()
        .unwrap_or_default()
}

/// Routes by method and path (aiohttp's `web.Application().router`): `/users/{id}` binds
/// `id`, `/static/{*path}` the rest of the path. Unknown paths get `404`, a known path with
/// another method `405` (with `Allow`). A service: give it to [`serve`](crate::serve).
///
/// ```
/// use conductor_http::{json_response, match_info, Router};
/// let app = Router::new()
///     .get("/", |_req| async { json_response(&"hello") })
///     .get("/users/{id}", |req| async move {
///         let id = match_info(&req).get("id").unwrap_or("").to_owned();
///         json_response(&serde_json::json!({ "id": id }))
///     });
/// # let _ = app;
/// ```
#[derive(Clone, Default)]
pub struct Router {
    routes: Rc<RouterInner>,
}

#[derive(Default)]
struct RouterInner {
    paths: matchit::Router<usize>,
    /// Per path, the handlers by method.
    methods: Vec<Vec<(Method, BoxHandler)>>,
    patterns: Vec<String>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `method` on `path` to `handler`.
    ///
    /// # Panics
    /// When `path` is not a valid route pattern (a programming error, found at start-up), or
    /// the router is already being served (routes are added before).
    pub fn route<F, Fut>(mut self, method: Method, path: &str, handler: F) -> Self
    where
        F: Fn(HttpRequest) -> Fut + 'static,
        Fut: Future<Output = HttpResponse> + 'static,
    {
        let inner = Rc::get_mut(&mut self.routes).expect("add routes before serving the router");
        let index = match inner.patterns.iter().position(|p| p == path) {
            Some(i) => i,
            None => {
                let i = inner.methods.len();
                inner
                    .paths
                    .insert(path, i)
                    .unwrap_or_else(|e| panic!("invalid route {path:?}: {e}"));
                inner.methods.push(Vec::new());
                inner.patterns.push(path.to_owned());
                i
            }
        };
        let handler: BoxHandler = Rc::new(move |req| Box::pin(handler(req)));
        inner.methods[index].push((method, handler));
        self
    }

    /// `GET` (and `HEAD`) on `path` (aiohttp's `add_get`).
    pub fn get<F, Fut>(self, path: &str, handler: F) -> Self
    where
        F: Fn(HttpRequest) -> Fut + 'static,
        Fut: Future<Output = HttpResponse> + 'static,
    {
        self.route(Method::GET, path, handler)
    }

    /// `POST` on `path` (aiohttp's `add_post`).
    pub fn post<F, Fut>(self, path: &str, handler: F) -> Self
    where
        F: Fn(HttpRequest) -> Fut + 'static,
        Fut: Future<Output = HttpResponse> + 'static,
    {
        self.route(Method::POST, path, handler)
    }

    /// `PUT` on `path`.
    pub fn put<F, Fut>(self, path: &str, handler: F) -> Self
    where
        F: Fn(HttpRequest) -> Fut + 'static,
        Fut: Future<Output = HttpResponse> + 'static,
    {
        self.route(Method::PUT, path, handler)
    }

    /// `DELETE` on `path`.
    pub fn delete<F, Fut>(self, path: &str, handler: F) -> Self
    where
        F: Fn(HttpRequest) -> Fut + 'static,
        Fut: Future<Output = HttpResponse> + 'static,
    {
        self.route(Method::DELETE, path, handler)
    }

    fn dispatch(&self, mut req: HttpRequest) -> Pin<Box<dyn Future<Output = HttpResponse>>> {
        let inner = &self.routes;
        let Ok(found) = inner.paths.at(req.uri().path()) else {
            return Box::pin(std::future::ready(status_response(StatusCode::NOT_FOUND)));
        };
        let handlers = &inner.methods[*found.value];
        let method = req.method().clone();
        let handler = handlers
            .iter()
            .find(|(m, _)| *m == method || (method == Method::HEAD && *m == Method::GET))
            .map(|(_, h)| h.clone());
        let Some(handler) = handler else {
            let allow: Vec<&str> = handlers.iter().map(|(m, _)| m.as_str()).collect();
            let mut resp = status_response(StatusCode::METHOD_NOT_ALLOWED);
            if let Ok(v) = http::HeaderValue::from_str(&allow.join(", ")) {
                resp.headers_mut().insert(http::header::ALLOW, v);
            }
            return Box::pin(std::future::ready(resp));
        };
        let params: HashMap<String, String> = found
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        req.extensions_mut().insert(Params(params));
        handler(req)
    }
}

impl Service<HttpRequest> for Router {
    type Response = HttpResponse;
    type Error = Infallible;
    type Future = InfallibleFuture<Pin<Box<dyn Future<Output = HttpResponse>>>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        InfallibleFuture(self.dispatch(req))
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.routes.patterns)
            .finish()
    }
}
