//! `ReadUninit`: reads into memory that may be uninitialised, so that a buffer's spare
//! capacity is filled by the kernel without being zeroed first (what hyper's `Read` and tokio's
//! `ReadBuf` offer; zeroing 8-16 KiB per read costs more than the read's own work on a small
//! request).

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::split::{OwnedReadHalf, SplitStream};

/// A byte stream that reads into uninitialised memory: after `Ready(Ok(n))`, the first `n`
/// elements of `buf` are initialised (and the stream never reads from `buf`). Implemented by
/// [`TcpStream`](super::TcpStream), [`UnixStream`](super::UnixStream) and their read halves;
/// the IO is the same as `AsyncRead::poll_read`'s (readiness, cooperative budget).
///
/// ```
/// use std::mem::MaybeUninit;
/// use std::pin::Pin;
/// use conductor::net::{ReadUninit, UnixStream};
/// # conductor::run(async {
/// let (mut a, b) = UnixStream::pair().unwrap();
/// b.try_write(b"hi").unwrap();
/// let mut buf = [MaybeUninit::<u8>::uninit(); 16];
/// let n = std::future::poll_fn(|cx| Pin::new(&mut a).poll_read_uninit(cx, &mut buf))
///     .await
///     .unwrap();
/// // SAFETY: `poll_read_uninit` initialised the first `n` bytes.
/// let read = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
/// assert_eq!(read, b"hi");
/// # });
/// ```
pub trait ReadUninit {
    /// Reads into `buf`; `Ready(Ok(0))` at the end of the stream (or for an empty `buf`).
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
}

impl<S: SplitStream> ReadUninit for S {
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        (*self).poll_read_uninit_priv(cx, buf)
    }
}

impl<S: SplitStream> ReadUninit for OwnedReadHalf<S> {
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        (*self).as_ref().poll_read_uninit_priv(cx, buf)
    }
}

/// `recv(2)` into `buf`: how many bytes it initialised.
pub(crate) fn recv(fd: impl AsFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    let ((filled, _), _) = rustix::net::recv(fd, buf, rustix::net::RecvFlags::empty())?;
    Ok(filled.len())
}

/// tokio's `poll_read` for the sockets and their read halves (the `async_read!` macro, its only
/// caller): the kernel fills `buf`'s unfilled part as it is, without
/// `ReadBuf::initialize_unfilled` zeroing it first (tokio-postgres and other tokio-io readers
/// hand over a fresh uninitialised buffer on every read; zeroing it was 30% of a
/// conductor-postgres client's instructions).
#[cfg(feature = "tokio-io")]
#[allow(unsafe_code)] // `ReadBuf`'s uninitialised part and its `assume_init`; proved below.
pub(crate) fn poll_read_buf<R: ReadUninit + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut tokio::io::ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: `unfilled_mut` requires that no initialised byte is de-initialised through the
    // slice. `ReadUninit` is a safe trait, so this does not lean on its contract in general: the
    // only `R`s here are the crate's sockets and read halves (the function is crate-private and
    // `async_read!` its one caller), whose `poll_read_uninit` is `recv(2)` through rustix
    // (`recv` above), which only writes received bytes into the slice.
    let dst = unsafe { buf.unfilled_mut() };
    let n = std::task::ready!(reader.poll_read_uninit(cx, dst))?;
    // SAFETY: for those same `R`s, `Ready(Ok(n))` means rustix's `recv` returned `n` bytes
    // written at the start of `dst`, the unfilled part: what `assume_init(n)` asserts.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}
