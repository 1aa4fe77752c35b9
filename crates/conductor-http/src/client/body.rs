//! Request bodies: bytes, a stream (aiohttp's `data=` async generator: sent chunked, as it
//! comes), and multipart bodies ([`Multipart`]: aiohttp's `FormData` with files and its
//! `MultipartWriter`).

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use futures_core::Stream;
use http_body::{Frame, SizeHint};

use crate::BoxError;

/// A stream of body chunks, as a request sends it.
pub(crate) type ChunkStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>>>>;

/// The request body the connections carry: all the bytes at once, or a stream sent with
/// `transfer-encoding: chunked` (HTTP/1.1) or as DATA frames (HTTP/2) as it yields.
pub(crate) enum ReqBody {
    Full(Option<Bytes>),
    Stream(ChunkStream),
}

impl http_body::Body for ReqBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ReqBody::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            ReqBody::Stream(s) => s
                .as_mut()
                .poll_next(cx)
                .map(|next| next.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ReqBody::Full(b) => b.as_ref().is_none_or(Bytes::is_empty),
            ReqBody::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReqBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ReqBody::Stream(_) => SizeHint::default(),
        }
    }
}

/// A request's body as the builder holds it: bytes (sent again on a retry or a 307/308
/// redirect) or a stream (sent once).
pub(crate) enum Payload {
    Bytes(Bytes),
    Stream(Cell<Option<ChunkStream>>),
}

impl Payload {
    /// The body of the next attempt; `None` when the stream has been sent already.
    pub(crate) fn take(&self) -> Option<ReqBody> {
        match self {
            Payload::Bytes(b) => Some(ReqBody::Full(Some(b.clone()))),
            Payload::Stream(s) => s.take().map(ReqBody::Stream),
        }
    }

    /// An unsent body given back (hyper returns the request when the connection had closed
    /// before it was sent).
    pub(crate) fn give_back(&self, body: ReqBody) {
        if let (Payload::Stream(cell), ReqBody::Stream(s)) = (self, body) {
            cell.set(Some(s));
        }
    }

    pub(crate) fn is_stream(&self) -> bool {
        matches!(self, Payload::Stream(_))
    }
}

/// A multipart body (aiohttp's `FormData` with files, and its `MultipartWriter`): parts with
/// their headers, between boundaries (RFC 7578 for `multipart/form-data`, RFC 2046 for the
/// others). Send it with [`RequestBuilder::multipart`](super::RequestBuilder::multipart).
///
/// ```
/// use conductor_http::client::Multipart;
/// let form = Multipart::form_data()
///     .text("title", "holiday")
///     .file("photo", "beach.jpg", "image/jpeg", vec![0xff, 0xd8, 0xff]);
/// assert!(form.content_type().starts_with("multipart/form-data; boundary="));
/// ```
#[derive(Clone)]
pub struct Multipart {
    subtype: &'static str,
    boundary: String,
    body: BytesMut,
}

impl Multipart {
    /// `multipart/form-data`, what an HTML form with files sends (aiohttp's `FormData()`
    /// with a file, or `MultipartWriter("form-data")`).
    pub fn form_data() -> Self {
        Self::new("form-data")
    }

    /// `multipart/mixed` (aiohttp's `MultipartWriter()`, whose default subtype it is).
    pub fn mixed() -> Self {
        Self::new("mixed")
    }

    /// `multipart/SUBTYPE`: `related`, `alternative`... (aiohttp's
    /// `MultipartWriter(subtype)`).
    pub fn new(subtype: &'static str) -> Self {
        // A boundary no body is likely to hold: 128 random bits (std's per-process
        // RandomState keys, mixed with a counter) in hex.
        thread_local!(static N: Cell<u64> = const { Cell::new(0) });
        let n = N.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        let random = |salt: u64| {
            let mut h = std::hash::RandomState::new().build_hasher();
            h.write_u64(n ^ salt);
            h.finish()
        };
        Multipart {
            subtype,
            boundary: format!("{:016x}{:016x}", random(0), random(u64::MAX)),
            body: BytesMut::new(),
        }
    }

    /// The boundary between the parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// The request's `content-type`: `multipart/SUBTYPE; boundary=...`.
    pub fn content_type(&self) -> String {
        format!("multipart/{}; boundary={}", self.subtype, self.boundary)
    }

    /// A text field (aiohttp's `form.add_field(name, value)`).
    pub fn text(self, name: &str, value: impl AsRef<str>) -> Self {
        let disposition = format!("form-data; name=\"{}\"", escape(name));
        self.part_with(
            &[("content-disposition", &disposition)],
            value.as_ref().as_bytes(),
        )
    }

    /// A file field (aiohttp's `form.add_field(name, data, filename=, content_type=)`).
    pub fn file(
        self,
        name: &str,
        filename: &str,
        content_type: &str,
        data: impl AsRef<[u8]>,
    ) -> Self {
        let disposition = format!(
            "form-data; name=\"{}\"; filename=\"{}\"",
            escape(name),
            escape(filename)
        );
        self.part_with(
            &[
                ("content-disposition", &disposition),
                ("content-type", content_type),
            ],
            data.as_ref(),
        )
    }

    /// A part with its `content-type` (aiohttp's `writer.append(data, {"Content-Type": ..})`).
    pub fn part(self, content_type: &str, data: impl AsRef<[u8]>) -> Self {
        self.part_with(&[("content-type", content_type)], data.as_ref())
    }

    /// A part with these headers (names and values as given; values must not hold CR or LF,
    /// which are dropped).
    pub fn part_with(mut self, headers: &[(&str, &str)], data: &[u8]) -> Self {
        let b = &mut self.body;
        b.put_slice(b"--");
        b.put_slice(self.boundary.as_bytes());
        b.put_slice(b"\r\n");
        for (name, value) in headers {
            b.put_slice(name.replace(['\r', '\n', ':'], "").as_bytes());
            b.put_slice(b": ");
            b.put_slice(value.replace(['\r', '\n'], "").as_bytes());
            b.put_slice(b"\r\n");
        }
        b.put_slice(b"\r\n");
        b.put_slice(data);
        b.put_slice(b"\r\n");
        self
    }

    /// The encoded body, closing boundary included.
    pub(crate) fn finish(mut self) -> (String, Bytes) {
        self.body.put_slice(b"--");
        self.body.put_slice(self.boundary.as_bytes());
        self.body.put_slice(b"--\r\n");
        (self.content_type(), self.body.freeze())
    }
}

/// A name or file name inside `"..."`: quotes and line breaks percent-encoded, as browsers
/// do (the WHATWG's rule for `multipart/form-data`).
fn escape(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

impl fmt::Debug for Multipart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart")
            .field("subtype", &self.subtype)
            .field("boundary", &self.boundary)
            .field("len", &self.body.len())
            .finish()
    }
}
