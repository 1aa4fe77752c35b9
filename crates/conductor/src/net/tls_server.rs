//! `start_server(ssl=)`: the TLS handshake of an accepted connection, in its own task, before
//! the handler gets asyncio's streams over the session (feature `tls`).

use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::ServerOptions;
use super::io_traits::shutdown_write;
use super::split::{AbortHandle, SplitStream};
use crate::streams::{Address, StreamReader, StreamWriter};

/// A stream socket shared with the server's abort handle: the TLS session owns one `Rc`, the
/// server keeps a `Weak` to shut the socket down (`abort_clients`) without keeping it open.
struct Shared<S>(Rc<S>);

impl<S: SplitStream> futures_io::AsyncRead for Shared<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_priv(cx, buf)
    }
}

impl<S: SplitStream> futures_io::AsyncWrite for Shared<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(shutdown_write(&*self.0))
    }
}

/// The abort handle of `stream`'s connection, and the future that runs the server handshake
/// (within the options' handshake timeout) and returns the streams over the session. A
/// connection that fails the handshake is shut down when the future's output is dropped.
pub(crate) fn upgrade<S: SplitStream + 'static>(
    stream: S,
    options: &ServerOptions,
) -> (
    AbortHandle,
    impl Future<Output = io::Result<(StreamReader, StreamWriter)>> + use<S>,
) {
    let acceptor = options
        .ssl
        .clone()
        .expect("upgrade is only called for a server with ssl");
    let timeout = options.ssl_handshake_timeout;
    let limit = options.limit;
    let info = stream.extra_info_priv();
    let shared = Rc::new(stream);
    let abort: AbortHandle = Rc::downgrade(&shared) as AbortHandle;
    let peer = info.peername.clone();
    let work = async move {
        let peer_name = peer
            .as_ref()
            .map_or_else(|| "a client".to_owned(), Address::to_string);
        let sock = shared.clone();
        let handshake = acceptor.accept_from(&peer_name, Shared(shared));
        match crate::timeout(timeout, handshake).await {
            Ok(Ok(tls)) => Ok(tls.into_streams_with(limit, info)),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                let _ = sock.shutdown_priv(Shutdown::Both);
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "TLS handshake with {peer_name} timed out after {timeout:?} \
                         (ServerOptions::ssl_handshake_timeout)"
                    ),
                ))
            }
        }
    };
    (abort, work)
}
