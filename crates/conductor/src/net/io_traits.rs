//! The IO traits of the stream sockets and their halves: futures-io's `AsyncRead` and
//! `AsyncWrite` and, with the `tokio-io` feature, tokio's (only the traits, never its runtime),
//! all through the `split::sealed::Sealed` methods. One macro per direction writes both
//! families, for [`Socket`](super::Socket) (`stream`) and for the halves (`split`), so the four
//! trait impls are written once.

/// `AsyncRead` (futures-io's, and tokio's with `tokio-io`) for `$ty<$p>`, reading from the
/// stream socket `$stream` reaches from `$this: &$ty<$p>`.
macro_rules! async_read {
    ($ty:ident<$p:ident: $bound:path>, |$this:ident| $stream:expr_2021) => {
        impl<$p: $bound> futures_io::AsyncRead for $ty<$p> {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::net::split::sealed::Sealed::poll_read_priv(&*$stream, cx, buf)
            }
        }

        // tokio's reads go straight into the caller's uninitialised buffer (`ReadUninit`).
        #[cfg(feature = "tokio-io")]
        impl<$p: $bound> tokio::io::AsyncRead for $ty<$p> {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::net::read_uninit::poll_read_buf(self, cx, buf)
            }
        }
    };
}

/// `AsyncWrite` (futures-io's, and tokio's with `tokio-io`) for `$ty<$p>`, writing to the
/// stream socket `$stream` reaches from `$this: &$ty<$p>`. Flushing has nothing to do (the
/// socket buffers nothing here); closing shuts the write side down.
macro_rules! async_write {
    ($ty:ident<$p:ident: $bound:path>, |$this:ident| $stream:expr_2021) => {
        impl<$p: $bound> futures_io::AsyncWrite for $ty<$p> {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::net::split::sealed::Sealed::poll_write_priv(&*$stream, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::net::split::sealed::Sealed::poll_write_vectored_priv(&*$stream, cx, bufs)
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
                let $this = &*self;
                std::task::Poll::Ready($crate::net::io_traits::shutdown_write(&*$stream))
            }
        }

        #[cfg(feature = "tokio-io")]
        $crate::io::tokio_traits::tokio_write_via_futures_io!([$p: $bound] $ty<$p>, vectored);
    };
}

use std::io;
use std::net::Shutdown;

use super::split::sealed::Sealed;

/// Shuts the write side down; a peer that already went away is not an error.
pub(crate) fn shutdown_write<S: Sealed + ?Sized>(s: &S) -> io::Result<()> {
    match s.shutdown_priv(Shutdown::Write) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        other => other,
    }
}
