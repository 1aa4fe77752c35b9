//! WebSocket upgrade (aiohttp's `web.WebSocketResponse`): [`upgrade`] checks the request and
//! answers `101 Switching Protocols`; the [`WebSocketUpgrade`] it also returns becomes a
//! [`WebSocket`] (tungstenite's protocol, over the upgraded connection) once the response is
//! sent. Spawn the task that talks on it, and return the response.
//!
//! Keep reading until the stream ends: when the client closes, tungstenite answers its Close
//! frame during the next read, then the stream ends (breaking out at `Message::Close` drops the
//! socket before the answer, and the client sees 1006, an abnormal closure).
//!
//! ```
//! use conductor_http::ws::{self, Message};
//! use futures_util::{SinkExt, StreamExt};
//! let app = conductor_http::handler_fn(|mut req| async move {
//!     let (response, upgrade) = match ws::upgrade(&mut req) {
//!         Ok(pair) => pair,
//!         Err(refusal) => return refusal,
//!     };
//!     conductor::spawn(async move {
//!         let Ok(mut socket) = upgrade.await else { return };
//!         while let Some(Ok(msg)) = socket.next().await {
//!             if msg.is_text() || msg.is_binary() {
//!                 let _ = socket.send(msg).await; // echo
//!             }
//!         }
//!     })
//!     .detach();
//!     response
//! });
//! # let _ = app;
//! ```

use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use base64::Engine as _;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use sha1::{Digest, Sha1};

use crate::body::ResponseBody;
use crate::response::text_response;

pub use async_tungstenite::tungstenite::Message;
pub use async_tungstenite::tungstenite::protocol::CloseFrame;

/// A WebSocket over an upgraded HTTP connection: a `Stream` of [`Message`]s and a `Sink` of
/// them (futures-util's `StreamExt`/`SinkExt`).
pub type WebSocket = async_tungstenite::WebSocketStream<UpgradedIo>;

/// Whether `req` asks for a WebSocket (`Upgrade: websocket`).
pub fn is_upgrade_request<B>(req: &Request<B>) -> bool {
    header_has(req, header::UPGRADE, "websocket")
}

fn header_has<B>(req: &Request<B>, name: header::HeaderName, token: &str) -> bool {
    req.headers().get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// Accepts the WebSocket handshake of `req`: the `101` response to return, and the socket to
/// await once it is sent. A request that is not a valid WebSocket handshake gets the error
/// response to return instead (`400`, or `426 Upgrade Required` with the version wanted).
#[allow(clippy::result_large_err)]
pub fn upgrade<B>(
    req: &mut Request<B>,
) -> Result<(Response<ResponseBody>, WebSocketUpgrade), Response<ResponseBody>> {
    if !is_upgrade_request(req) || !header_has(req, header::CONNECTION, "upgrade") {
        return Err(text_response(
            StatusCode::BAD_REQUEST,
            "400 Bad Request: expected a WebSocket handshake (Connection: upgrade, Upgrade: websocket)",
        ));
    }
    if req
        .headers()
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        let mut resp = text_response(
            StatusCode::UPGRADE_REQUIRED,
            "426 Upgrade Required: WebSocket version 13 only",
        );
        resp.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return Err(resp);
    }
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY) else {
        return Err(text_response(
            StatusCode::BAD_REQUEST,
            "400 Bad Request: the WebSocket handshake has no Sec-WebSocket-Key",
        ));
    };
    let accept = accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut *req);
    let mut resp = Response::new(ResponseBody::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    Ok((resp, WebSocketUpgrade(on_upgrade)))
}

/// RFC 6455's `Sec-WebSocket-Accept` for `key`.
fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// The socket of an accepted handshake, ready once the `101` response has been sent: await
/// it.
pub struct WebSocketUpgrade(hyper::upgrade::OnUpgrade);

impl std::fmt::Debug for WebSocketUpgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebSocketUpgrade")
    }
}

impl IntoFuture for WebSocketUpgrade {
    type Output = io::Result<WebSocket>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<WebSocket>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let upgraded = self.0.await.map_err(|e| {
                io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    format!("the WebSocket upgrade did not complete: {e}"),
                )
            })?;
            Ok(async_tungstenite::WebSocketStream::from_raw_socket(
                UpgradedIo(upgraded),
                async_tungstenite::tungstenite::protocol::Role::Server,
                None,
            )
            .await)
        })
    }
}

/// An upgraded connection as futures-io `AsyncRead`/`AsyncWrite` (what tungstenite reads).
pub struct UpgradedIo(hyper::upgrade::Upgraded);

impl std::fmt::Debug for UpgradedIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpgradedIo")
    }
}

impl futures_io::AsyncRead for UpgradedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut rb = hyper::rt::ReadBuf::new(buf);
        ready!(hyper::rt::Read::poll_read(
            Pin::new(&mut self.0),
            cx,
            rb.unfilled()
        ))?;
        Poll::Ready(Ok(rb.filled().len()))
    }
}

impl futures_io::AsyncWrite for UpgradedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_shutdown(Pin::new(&mut self.0), cx)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_accept_key_is_rfc_6455s_example() {
        assert_eq!(
            super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
