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

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Socket::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Socket::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_flush(cx),
            Socket::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Socket::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// futures-io's traits too, which conductor's TLS reads and writes through.
impl futures_io::AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(s) => futures_io::AsyncRead::poll_read(Pin::new(s), cx, buf),
            Socket::Unix(s) => futures_io::AsyncRead::poll_read(Pin::new(s), cx, buf),
        }
    }
}

impl futures_io::AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(s) => futures_io::AsyncWrite::poll_write(Pin::new(s), cx, buf),
            Socket::Unix(s) => futures_io::AsyncWrite::poll_write(Pin::new(s), cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => futures_io::AsyncWrite::poll_flush(Pin::new(s), cx),
            Socket::Unix(s) => futures_io::AsyncWrite::poll_flush(Pin::new(s), cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => futures_io::AsyncWrite::poll_close(Pin::new(s), cx),
            Socket::Unix(s) => futures_io::AsyncWrite::poll_close(Pin::new(s), cx),
        }
    }
}
