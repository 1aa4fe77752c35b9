//! The client half (aiohttp's `ClientSession`): [`ClientSession`], built once and reused, with
//! a keep-alive connection pool (aiohttp's `TCPConnector`: `limit`, `limit_per_host`,
//! `keepalive_timeout`), HTTP/2 where a TLS server offers it through ALPN, TLS on conductor's
//! rustls connector, names resolved by conductor's `lookup_host`.
//!
//! ```
//! use conductor_http::client::{ClientSession, ClientTimeout};
//! use std::time::Duration;
//! # use conductor_http::{json_response, Router, Server};
//! # conductor::run(async {
//! # let app = Router::new().post("/post", |req| async move {
//! #     let v: serde_json::Value = req.into_body().json().await.unwrap();
//! #     json_response(&serde_json::json!({"json": v}))
//! # });
//! # let running = Server::new().start(conductor::net::TcpListener::bind("127.0.0.1:0").await.unwrap(), app);
//! # let base = format!("http://{}/", running.local_addr().unwrap());
//! let session = ClientSession::builder()
//!     .base_url(base)
//!     .limit_per_host(10)
//!     .timeout(ClientTimeout::total(Duration::from_secs(10)))
//!     .build()?;
//! let resp = session
//!     .post("post")
//!     .json(&serde_json::json!({"key": "value"}))
//!     .send()
//!     .await?
//!     .raise_for_status()?;
//! let echoed: serde_json::Value = resp.json().await?;
//! assert_eq!(echoed["json"]["key"], "value");
//! # Ok::<(), conductor_http::client::ClientError>(())
//! # }).unwrap();
//! ```
//!
//! # Connections and cancellation
//! A response read to its end gives its HTTP/1 connection back to the pool; a response dropped
//! before that, a request cancelled or timed out, or an error closes it, since its state is
//! unknown. Either way the pool's counts stay right: every open connection holds a place in
//! them until it really closes. HTTP/2 connections are shared by their host's requests; a
//! cancelled request resets its stream only.
//!
//! # Differences from aiohttp
//! - No `async with`: the response is a value; reading its body to the end (or dropping it)
//!   is what leaving the block does.
//! - `text()` requires UTF-8 (aiohttp guesses from `charset`); `json()` does not check the
//!   content type (aiohttp raises `ContentTypeError` unless `content_type=None`): the error of
//!   a body that is not JSON quotes its content type and its start instead.
//! - Redirects are followed (up to `max_redirects`, 10) as aiohttp does; forms are
//!   url-encoded (`form`).
//! - gzip, deflate and brotli bodies are decoded as they come (`accept-encoding: gzip,
//!   deflate, br` is a default header, as in aiohttp with Brotli installed); the headers stay
//!   as the server sent them.
//! - A streamed upload ([`RequestBuilder::body_stream`]) is sent once: a 307/308 redirect
//!   that would repeat it is the response; [`Multipart`] bodies are built in memory.
//! - The WebSocket client ([`ClientSession::ws_connect`], [`ClientWebSocket`]) opens a
//!   connection of its own, outside the pool's limits (aiohttp counts it under `limit`); its
//!   heartbeat runs while the socket is read.
//! - Cookies: as aiohttp's jar, [`CookieJar`] ignores IP-address hosts unless made with
//!   [`CookieJar::unsafe_hosts`].
//! - Not yet: proxies.

mod body;
mod connect;
mod cookies;
mod decode;
mod error;
mod pool;
mod request;
mod response;
mod session;
mod timeout;
mod ws;

pub use body::Multipart;
pub use cookies::CookieJar;
pub use error::{ClientError, ErrorKind, TimeoutKind};
pub use request::RequestBuilder;
pub use response::{BodyStream, Chunked, ClientResponse, Lines, MAX_LINE, Redirect};
pub use session::{ClientSession, ClientSessionBuilder, PoolStats};
pub use timeout::ClientTimeout;
pub use ws::{ClientWebSocket, WsConnectBuilder};
