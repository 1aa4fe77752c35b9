//! Owned read and write halves of a stream socket (TCP or Unix), so that one task reads while
//! another writes. The halves share the socket through an `Rc`: they stay on the socket's loop.

use std::fmt;
use std::net::Shutdown;
use std::rc::{Rc, Weak};

use super::TcpStream;
use crate::streams::{BoxReader, BoxWriter, StreamReader, StreamWriter};

pub(crate) mod sealed {
    use std::io;
    use std::task::{Context, Poll};

    /// What the halves need of a stream socket.
    pub trait Sealed {
        fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
        /// A read into memory that may be uninitialised (see `ReadUninit`).
        fn poll_read_uninit_priv(
            &self,
            cx: &mut Context<'_>,
            buf: &mut [std::mem::MaybeUninit<u8>],
        ) -> Poll<io::Result<usize>>;
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

async_read!(OwnedReadHalf<S: SplitStream>, |half| half.stream);
async_write!(OwnedWriteHalf<S: SplitStream>, |half| half.stream);
