//! The byte stream under a connection: a conductor TCP or Unix socket, seen through tokio's io
//! traits (conductor's `tokio-io` feature) because tokio-postgres speaks them.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use conductor::net::{TcpStream, UnixStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connected socket to the server: what a TLS connector wraps
/// (`tokio_postgres::tls::TlsConnect<Socket>`, see `Config::connect_with_tls`).
#[derive(Debug)]
pub enum Socket {
    /// A TCP connection (with `TCP_NODELAY` set).
    Tcp(TcpStream),
    /// A Unix-domain socket connection.
    Unix(UnixStream),
}

/// Runs `$call` on whichever socket `$this` (a `Pin<&mut Socket>`) holds, pinned as `$s`.
macro_rules! on_socket {
    ($this:expr, |$s:ident| $call:expr) => {
        match $this.get_mut() {
            Socket::Tcp(s) => {
                let $s = Pin::new(s);
                $call
            }
            Socket::Unix(s) => {
                let $s = Pin::new(s);
                $call
            }
        }
    };
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        on_socket!(self, |s| s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        on_socket!(self, |s| s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_socket!(self, |s| s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_socket!(self, |s| s.poll_shutdown(cx))
    }
}

/// futures-io's traits too, which conductor's TLS reads and writes through.
impl futures_io::AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        on_socket!(self, |s| futures_io::AsyncRead::poll_read(s, cx, buf))
    }
}

impl futures_io::AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        on_socket!(self, |s| futures_io::AsyncWrite::poll_write(s, cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_socket!(self, |s| futures_io::AsyncWrite::poll_flush(s, cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_socket!(self, |s| futures_io::AsyncWrite::poll_close(s, cx))
    }
}
