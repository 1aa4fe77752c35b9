//! `TlsStream`: a stream after the handshake, both sides; and its split into asyncio's streams.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use rustls::pki_types::CertificateDer;
use rustls::{CommonState, ProtocolVersion};

use crate::streams::{BoxReader, BoxWriter, ExtraInfo, StreamReader, StreamWriter};

/// A TLS connection over the stream `S` (a [`TcpStream`](crate::net::TcpStream) by default),
/// client or server side, after its handshake. Read and write it through futures-io's
/// `AsyncRead`/`AsyncWrite` (tokio's too, with the `tokio-io` feature), or turn it into
/// asyncio's streams with [`into_streams`](Self::into_streams).
///
/// Closing it (`poll_close`) sends TLS's `close_notify`, then closes the stream under it.
pub struct TlsStream<S = crate::net::TcpStream> {
    inner: Side<S>,
}

enum Side<S> {
    Client(futures_rustls::client::TlsStream<S>),
    Server(futures_rustls::server::TlsStream<S>),
}

impl<S> TlsStream<S> {
    pub(crate) fn client(s: futures_rustls::client::TlsStream<S>) -> Self {
        TlsStream {
            inner: Side::Client(s),
        }
    }

    pub(crate) fn server(s: futures_rustls::server::TlsStream<S>) -> Self {
        TlsStream {
            inner: Side::Server(s),
        }
    }

    fn state(&self) -> &CommonState {
        match &self.inner {
            Side::Client(s) => s.get_ref().1,
            Side::Server(s) => s.get_ref().1,
        }
    }

    /// The ALPN protocol the two sides agreed on (asyncio's `selected_alpn_protocol()`), as
    /// bytes (`b"h2"`).
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.state().alpn_protocol()
    }

    /// On a server, the name the client asked for with SNI (asyncio's `server_hostname` seen
    /// from the `sni_callback`); `None` on a client or when the client sent none.
    pub fn server_name(&self) -> Option<&str> {
        match &self.inner {
            Side::Client(_) => None,
            Side::Server(s) => s.get_ref().1.server_name(),
        }
    }

    /// The peer's certificate chain, leaf first (asyncio's `getpeercert(binary_form=True)`
    /// gives the leaf): the server's on a client; the client's on a server that asked for one.
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.state().peer_certificates()
    }

    /// The TLS version in use (asyncio's `version()`), e.g. `TLSv1_3`.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.state().protocol_version()
    }

    /// Whether this is the server side.
    pub fn is_server(&self) -> bool {
        matches!(self.inner, Side::Server(_))
    }

    /// The stream under TLS.
    pub fn get_ref(&self) -> &S {
        match &self.inner {
            Side::Client(s) => s.get_ref().0,
            Side::Server(s) => s.get_ref().0,
        }
    }

    /// The stream under TLS. Reading or writing it directly breaks the TLS session.
    pub fn get_mut(&mut self) -> &mut S {
        match &mut self.inner {
            Side::Client(s) => s.get_mut().0,
            Side::Server(s) => s.get_mut().0,
        }
    }

    /// The stream under TLS, without a `close_notify` (asyncio's `unwrap()` would send one).
    pub fn into_inner(self) -> S {
        match self.inner {
            Side::Client(s) => s.into_inner().0,
            Side::Server(s) => s.into_inner().0,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + 'static> TlsStream<S> {
    /// asyncio's streams over this connection, reading up to `limit` for `readuntil` (the
    /// default limit is [`DEFAULT_LIMIT`](crate::streams::DEFAULT_LIMIT)). The reader and the
    /// writer share the TLS session (one `Rc`), so they stay on this loop; the writer reports
    /// `info` as its `get_extra_info`.
    pub fn into_streams_with(self, limit: usize, info: ExtraInfo) -> (StreamReader, StreamWriter) {
        let shared = Rc::new(RefCell::new(self));
        let reader = Half(shared.clone());
        let writer = Half(shared);
        (
            StreamReader::with_limit(Box::new(reader) as BoxReader, limit),
            StreamWriter::new(Box::new(writer) as BoxWriter).with_extra_info(info),
        )
    }

    /// [`into_streams_with`](Self::into_streams_with) with the default limit and no extra info.
    pub fn into_streams(self) -> (StreamReader, StreamWriter) {
        self.into_streams_with(crate::streams::DEFAULT_LIMIT, ExtraInfo::default())
    }
}

/// One side of a split `TlsStream`: both share the session. A poll borrows it only for its own
/// duration and the two halves are polled by tasks of one loop, never at once; a reentrant
/// borrow (a waker that polls inline) reports an error instead of panicking.
struct Half<S>(Rc<RefCell<TlsStream<S>>>);

impl<S> Half<S> {
    fn with<T>(
        &self,
        f: impl FnOnce(Pin<&mut TlsStream<S>>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>>
    where
        S: Unpin,
    {
        match self.0.try_borrow_mut() {
            Ok(mut s) => f(Pin::new(&mut *s)),
            Err(_) => Poll::Ready(Err(io::Error::other(
                "the TLS stream is in use by its other half in the same poll",
            ))),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Half<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.with(|s| s.poll_read(cx, buf))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Half<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.with(|s| s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|s| s.poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|s| s.poll_close(cx))
    }
}

macro_rules! each_side {
    ($self:ident, $s:ident => $e:expr_2021) => {
        match &mut $self.get_mut().inner {
            Side::Client($s) => $e,
            Side::Server($s) => $e,
        }
    };
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        each_side!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_side!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_side!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_side!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_side!(self, s => Pin::new(s).poll_close(cx))
    }
}

/// rustls copies into an initialised slice, so the buffer is zeroed first: TLS pays one memset
/// per read, the cost its decryption already dwarfs.
impl<S: AsyncRead + AsyncWrite + Unpin> crate::net::ReadUninit for TlsStream<S> {
    // The module's one `unsafe`: viewing the zeroed buffer as bytes (std has no stable safe
    // form of it yet).
    #[allow(unsafe_code)]
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        buf.fill(std::mem::MaybeUninit::new(0));
        // SAFETY: every element was just initialised, and `MaybeUninit<u8>` has the layout of
        // `u8`; the slice borrows `buf` uniquely for the call.
        let init =
            unsafe { &mut *(std::ptr::from_mut::<[std::mem::MaybeUninit<u8>]>(buf) as *mut [u8]) };
        AsyncRead::poll_read(self, cx, init)
    }
}

#[cfg(feature = "tokio-io")]
crate::io::tokio_traits::tokio_read_via_futures_io!([S: AsyncRead + AsyncWrite + Unpin] TlsStream<S>);
#[cfg(feature = "tokio-io")]
crate::io::tokio_traits::tokio_write_via_futures_io!([S: AsyncRead + AsyncWrite + Unpin] TlsStream<S>);

impl<S: fmt::Debug> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("server", &self.is_server())
            .field("alpn", &self.alpn_protocol().map(String::from_utf8_lossy))
            .field("version", &self.protocol_version())
            .field("stream", self.get_ref())
            .finish()
    }
}
