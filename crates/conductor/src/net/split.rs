//! Owned read and write halves of a stream socket (TCP or Unix), so that one task reads while
//! another writes. The halves share the socket through an `Rc`: they stay on the socket's loop.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use super::TcpStream;
use crate::streams::{BoxReader, BoxWriter, StreamReader, StreamWriter};

pub(crate) mod sealed {
    use std::io;
    use std::task::{Context, Poll};

    /// What the halves need of a stream socket.
    pub trait Sealed {
        fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
        fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
        fn poll_write_vectored_priv(
            &self,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>>;
        fn shutdown_priv(&self, how: std::net::Shutdown) -> io::Result<()>;
        /// What a `StreamWriter` reports as `get_extra_info` (peer, socket name, fd).
        fn extra_info_priv(&self) -> crate::streams::ExtraInfo;
    }
}

/// A stream socket that splits into [`OwnedReadHalf`] and [`OwnedWriteHalf`]: [`TcpStream`]
/// and [`UnixStream`](super::UnixStream).
pub trait SplitStream: sealed::Sealed {}

/// The read half of a stream socket, from `into_split` (a [`TcpStream`] by default).
///
/// Reads with `futures_io::AsyncRead`; [`AsRef`] reaches the socket for its addresses and
/// options.
pub struct OwnedReadHalf<S: SplitStream = TcpStream> {
    stream: Rc<S>,
}

/// The write half of a stream socket, from `into_split` (a [`TcpStream`] by default).
///
/// Writes with `futures_io::AsyncWrite`; `poll_close`, and dropping the half, shut the write
/// side down (the peer reads the end of the stream) while the read half can still read.
pub struct OwnedWriteHalf<S: SplitStream = TcpStream> {
    stream: Rc<S>,
    shutdown_on_drop: bool,
}

/// A handle on a split socket that does not keep it open: a server's way to abort a connection
/// whose halves its handler owns (`Server::abort_clients`).
pub(crate) type AbortHandle = Weak<dyn Abort>;

pub(crate) trait Abort {
    /// Shuts both directions down: reads see the end, writes fail, buffered data is dropped.
    fn abort(&self);
}

impl<S: SplitStream> Abort for S {
    fn abort(&self) {
        let _ = self.shutdown_priv(Shutdown::Both);
    }
}

/// asyncio's streams over the halves of `stream` (reads up to `limit`), and a handle that can
/// abort the connection without keeping it open.
pub(crate) fn into_streams<S: SplitStream + 'static>(
    stream: S,
    limit: usize,
) -> (StreamReader, StreamWriter, AbortHandle) {
    let info = stream.extra_info_priv();
    let (r, w) = split(stream);
    let abort = Rc::downgrade(&r.stream);
    (
        StreamReader::with_limit(Box::new(r) as BoxReader, limit),
        StreamWriter::new(Box::new(w) as BoxWriter).with_extra_info(info),
        abort,
    )
}

pub(crate) fn split<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Rc::new(stream);
    (
        OwnedReadHalf {
            stream: stream.clone(),
        },
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

/// The halves given to [`OwnedReadHalf::reunite`] came from different streams; they are
/// handed back.
pub struct ReuniteError<S: SplitStream = TcpStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the two halves come from different streams; reunite the halves of one split")
    }
}

impl<S: SplitStream> std::error::Error for ReuniteError<S> {}

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Puts the stream back together with its write half.
    ///
    /// # Errors
    /// When `write` is the half of another stream.
    pub fn reunite(self, mut write: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Rc::ptr_eq(&self.stream, &write.stream) {
            return Err(ReuniteError(self, write));
        }
        write.shutdown_on_drop = false;
        drop(write);
        Ok(Rc::try_unwrap(self.stream)
            .ok()
            .expect("both halves were given back, so nothing else holds the stream"))
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Puts the stream back together with its read half.
    ///
    /// # Errors
    /// When `read` is the half of another stream.
    pub fn reunite(self, read: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        read.reunite(self)
    }
}

impl<S: SplitStream> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already (ENOTCONN): nothing to tell it then.
            let _ = self.stream.shutdown_priv(Shutdown::Write);
        }
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&self.stream).finish()
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.stream).finish()
    }
}

impl<S: SplitStream> futures_io::AsyncRead for OwnedReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_priv(cx, buf)
    }
}

impl<S: SplitStream> futures_io::AsyncWrite for OwnedWriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(shutdown_write(&*self.stream))
    }
}

/// Shuts the write side down; a peer that already went away is not an error.
pub(crate) fn shutdown_write<S: sealed::Sealed + ?Sized>(s: &S) -> io::Result<()> {
    match s.shutdown_priv(Shutdown::Write) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        other => other,
    }
}

#[cfg(feature = "tokio-io")]
impl<S: SplitStream> tokio::io::AsyncRead for OwnedReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        super::tokio_io::poll_read_buf(buf, |b| self.stream.poll_read_priv(cx, b))
    }
}

#[cfg(feature = "tokio-io")]
impl<S: SplitStream> tokio::io::AsyncWrite for OwnedWriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_priv(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(shutdown_write(&*self.stream))
    }
}

/// futures-io's (and, with the `tokio-io` feature, tokio's) `AsyncRead` and `AsyncWrite` for a
/// whole stream socket, through its `sealed::Sealed` methods. `poll_close` shuts the write
/// side down.
macro_rules! stream_io_traits {
    ($ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::sealed::Sealed::poll_read_priv(&*self, cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::sealed::Sealed::poll_write_priv(&*self, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::sealed::Sealed::poll_write_vectored_priv(&*self, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($crate::net::split::shutdown_write(&*self))
            }
        }

        #[cfg(feature = "tokio-io")]
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::net::tokio_io::poll_read_buf(buf, |b| {
                    $crate::net::split::sealed::Sealed::poll_read_priv(&*self, cx, b)
                })
            }
        }

        #[cfg(feature = "tokio-io")]
        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::sealed::Sealed::poll_write_priv(&*self, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::sealed::Sealed::poll_write_vectored_priv(&*self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($crate::net::split::shutdown_write(&*self))
            }
        }
    };
}
