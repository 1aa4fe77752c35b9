//! Bodies: [`Body`], the request body a service receives (hyper's, capped at the server's
//! body limit), and [`ResponseBody`], the response body of conductor-http's own helpers (whole,
//! streamed, or empty).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::StatusCode;
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

/// An error as hyper, tower and axum pass them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body: hyper's, cut off at the server's body limit
/// ([`Server::max_body_size`](crate::Server::max_body_size)).
///
/// Past the limit it fails with `http_body_util::LengthLimitError`, the error axum's extractors
/// turn into `413 Payload Too Large`; [`bytes`](Self::bytes), [`text`](Self::text) and
/// [`json`](Self::json) say it as [`BodyError::TooLarge`]. A request whose `Content-Length`
/// announces more than the limit never reaches the service: the server answers 413 without
/// reading the body.
///
/// `Send`, so that axum (whose handlers are `Send`) takes it.
pub struct Body {
    inner: Limited<Incoming>,
    limit: usize,
}

impl Body {
    pub(crate) fn new(incoming: Incoming, limit: usize) -> Self {
        Body {
            inner: Limited::new(incoming, limit),
            limit,
        }
    }

    /// The whole body (aiohttp's `await request.read()`).
    ///
    /// # Errors
    /// [`BodyError::TooLarge`] past the limit, [`BodyError::Read`] when the client went away or
    /// sent a malformed body.
    pub async fn bytes(self) -> Result<Bytes, BodyError> {
        let limit = self.limit;
        match self.inner.collect().await {
            Ok(c) => Ok(c.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                Err(BodyError::TooLarge { limit })
            }
            Err(e) => Err(BodyError::Read(e)),
        }
    }

    /// The whole body as UTF-8 text (aiohttp's `await request.text()`).
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes), and [`BodyError::Invalid`] for bytes that are not UTF-8.
    pub async fn text(self) -> Result<String, BodyError> {
        let bytes = self.bytes().await?;
        String::from_utf8(bytes.to_vec())
            .map_err(|e| BodyError::Invalid(format!("the body is not UTF-8: {e}")))
    }

    /// The whole body parsed as JSON (aiohttp's `await request.json()`).
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes), and [`BodyError::Invalid`] for a body that is not that JSON.
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, BodyError> {
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| BodyError::Invalid(format!("the body is not the JSON expected: {e}")))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body").field("limit", &self.limit).finish()
    }
}

/// Why a request body could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is longer than the server's limit (answer 413).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body's bytes are not what was asked for (answer 400).
    Invalid(String),
    /// The client went away or sent a malformed body.
    Read(BoxError),
}

impl BodyError {
    /// The status that answers it: 413, 400, or 400 for a broken body.
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Invalid(_) | BodyError::Read(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// A plain-text response with [`status`](Self::status) and this message.
    pub fn into_response(self) -> http::Response<ResponseBody> {
        crate::response::text_response(self.status(), self.to_string())
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::TooLarge { limit } => write!(
                f,
                "the request body is larger than the server's limit of {limit} bytes \
                 (Server::max_body_size)"
            ),
            BodyError::Invalid(why) => f.write_str(why),
            BodyError::Read(e) => write!(f, "the request body could not be read: {e}"),
        }
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BodyError::Read(e) => Some(&**e),
            _ => None,
        }
    }
}

/// A stream of body chunks, for streamed responses.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>>>>;

/// The response body of conductor-http's helpers ([`json_response`](crate::json_response),
/// [`text_response`](crate::text_response), [`sse`](crate::sse), [`files`](crate::files)):
/// whole bytes, a stream of chunks (sent as they come, chunked on HTTP/1.1), or nothing.
/// `!Send`: a stream may hold the loop's `Rc` state.
pub struct ResponseBody {
    kind: Kind,
}

enum Kind {
    Full(Option<Bytes>),
    Stream(ChunkStream),
}

impl ResponseBody {
    /// No bytes.
    pub fn empty() -> Self {
        ResponseBody {
            kind: Kind::Full(None),
        }
    }

    /// These bytes.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        ResponseBody {
            kind: Kind::Full((!bytes.is_empty()).then_some(bytes)),
        }
    }

    /// The chunks of `stream`, sent as they come; an `Err` ends the response abruptly (the
    /// client sees a truncated body).
    pub fn stream<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + 'static,
        B: Into<Bytes>,
        E: Into<BoxError>,
    {
        struct MapStream<S>(Pin<Box<S>>);
        impl<S, B, E> Stream for MapStream<S>
        where
            S: Stream<Item = Result<B, E>>,
            B: Into<Bytes>,
            E: Into<BoxError>,
        {
            type Item = Result<Bytes, BoxError>;
            fn poll_next(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Self::Item>> {
                self.0
                    .as_mut()
                    .poll_next(cx)
                    .map(|o| o.map(|r| r.map(Into::into).map_err(Into::into)))
            }
        }
        ResponseBody {
            kind: Kind::Stream(Box::pin(MapStream(Box::pin(stream)))),
        }
    }
}

impl Default for ResponseBody {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<Bytes> for ResponseBody {
    fn from(b: Bytes) -> Self {
        Self::full(b)
    }
}

impl From<String> for ResponseBody {
    fn from(s: String) -> Self {
        Self::full(s)
    }
}

impl From<&'static str> for ResponseBody {
    fn from(s: &'static str) -> Self {
        Self::full(Bytes::from_static(s.as_bytes()))
    }
}

impl From<Vec<u8>> for ResponseBody {
    fn from(v: Vec<u8>) -> Self {
        Self::full(v)
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.kind {
            Kind::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Kind::Stream(s) => s
                .as_mut()
                .poll_next(cx)
                .map(|o| o.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.kind, Kind::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(None) => SizeHint::with_exact(0),
            Kind::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Kind::Stream(_) => SizeHint::default(),
        }
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full(b) => f
                .debug_tuple("ResponseBody::Full")
                .field(&b.as_ref().map_or(0, Bytes::len))
                .finish(),
            Kind::Stream(_) => f.write_str("ResponseBody::Stream"),
        }
    }
}
