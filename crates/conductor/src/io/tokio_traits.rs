//! tokio's io traits (feature `tokio-io`) over a type's futures-io ones: one place for the
//! forwarding that the stream reader and writer, the TLS stream and the sockets' writes need.
//! The sockets' reads do not come through here: they fill tokio's `ReadBuf` without zeroing it
//! (`net::read_uninit::poll_read_buf`).

use std::io;
use std::task::Poll;

/// tokio's `ReadBuf` over a slice-based read: reads into the unfilled part of `buf` with `read`,
/// then marks what was read as filled.
pub(crate) fn poll_read_buf(
    buf: &mut tokio::io::ReadBuf<'_>,
    read: impl FnOnce(&mut [u8]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    let n = std::task::ready!(read(buf.initialize_unfilled()))?;
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// `tokio::io::AsyncRead` for `$ty` (with the generics in brackets) through its
/// `futures_io::AsyncRead`.
macro_rules! tokio_read_via_futures_io {
    ([$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::io::tokio_traits::poll_read_buf(buf, |b| {
                    futures_io::AsyncRead::poll_read(self, cx, b)
                })
            }
        }
    };
}

/// `tokio::io::AsyncWrite` for `$ty` (with the generics in brackets) through its
/// `futures_io::AsyncWrite` (tokio's `poll_shutdown` is futures-io's `poll_close`); with
/// `vectored`, vectored writes too (for a type whose futures-io `poll_write_vectored` really
/// writes them together).
macro_rules! tokio_write_via_futures_io {
    ([$($generics:tt)*] $ty:ty) => {
        $crate::io::tokio_traits::tokio_write_via_futures_io!([$($generics)*] $ty, {});
    };
    ([$($generics:tt)*] $ty:ty, vectored) => {
        $crate::io::tokio_traits::tokio_write_via_futures_io!([$($generics)*] $ty, {
            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }
        });
    };
    ([$($generics:tt)*] $ty:ty, {$($vectored:tt)*}) => {
        impl<$($generics)*> tokio::io::AsyncWrite for $ty {
            $($vectored)*

            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                futures_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                futures_io::AsyncWrite::poll_close(self, cx)
            }
        }
    };
}

pub(crate) use {tokio_read_via_futures_io, tokio_write_via_futures_io};
