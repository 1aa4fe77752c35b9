//! # conductor-http
//!
//! HTTP for conductor, in aiohttp's role, on the field's crates: hyper 1.x for the protocol
//! (HTTP/1.1 and, through h2, HTTP/2), rustls for TLS (conductor's `tls` feature), tungstenite
//! for WebSockets, tower's `Service` as the server's contract. No tokio runtime is compiled or
//! started.
//!
//! - [`Server`], [`serve`], [`serve_per_core`]: serve any tower `Service<Request<Body>>` (an
//!   axum `Router` unchanged, or this crate's [`Router`] and [`handler_fn`]), with limits a
//!   hostile client cannot get past, graceful shutdown, TLS with ALPN.
//! - [`json_response`], [`text_response`], [`status_response`]: aiohttp.web's responses;
//!   [`Body`]'s `bytes`/`text`/`json`: its `await request.read()/text()/json()`.
//! - [`sse`]: Server-Sent Events; [`ws`]: WebSocket upgrade; [`files`]: static files with
//!   ranges.
//! - [`rt`]: conductor's glue for hyper (`Read`/`Write`, `Timer`, `Executor`), for those who
//!   drive hyper themselves.
//! - Access logs: `tracing` events at INFO, target `conductor_http::access`.
//! - [`client`]: aiohttp's `ClientSession`: a keep-alive pool with `limit` and
//!   `limit_per_host`, HTTP/2 over ALPN, TLS, `ClientTimeout`, JSON in and out.
//!
//! ```
//! use conductor_http::{json_response, Router};
//! # conductor::run(async {
//! let app = Router::new().get("/", |_req| async { json_response(&serde_json::json!({"ok": true})) });
//! let listener = conductor::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let running = conductor_http::Server::new().start(listener, app);
//! let addr = running.local_addr().unwrap();
//! // ... clients talk to `addr` ...
//! # let _ = addr;
//! running.shutdown(std::time::Duration::from_secs(5)).await;
//! # });
//! ```
//!
//! # Handlers that are not `Send`
//! Connections and requests run as tasks of the loop that accepted them, so a service, its
//! futures and its response bodies need not be `Send`: [`handler_fn`] and [`Router`] handlers
//! may hold `Rc<RefCell<_>>` state and conductor's sockets (one loop per core is the model;
//! [`serve_per_core`] builds one service per loop).
//!
//! axum is different: its `Handler` trait requires handler futures to be `Send` (and its
//! `Router` is `Send + Sync`), whoever runs them. An axum handler may therefore not hold an
//! `Rc` or a conductor socket across an `.await`. The rule: keep `!Send` state out of axum
//! handlers, or put it behind a conductor-native service (this crate's [`Router`]/[`handler_fn`],
//! nested in front of axum), or hand the work to a task of the loop (`conductor::spawn` accepts
//! `!Send` futures) and await a `Send` result through a `conductor::sync::oneshot` channel. The
//! `axum_app` example shows the last one.

#![warn(missing_docs)]

mod body;
pub mod client;
pub mod files;
mod handler;
mod log;
mod response;
pub mod rt;
mod server;
pub mod sse;
pub mod ws;

pub use body::{Body, BodyError, BoxError, ChunkStream, ResponseBody};
pub use handler::{
    HandlerFn, HttpRequest, HttpResponse, InfallibleFuture, Params, Router, handler_fn, match_info,
};
pub use response::{html_response, json_response, status_response, text_response};
pub use server::{
    HttpService, Listener, PerCoreHttp, Running, Server, ServerBody, ShutdownStats, serve,
    serve_per_core,
};

/// Re-exported: the `http` crate's types (`Request`, `Response`, `StatusCode`, headers).
pub use http;
