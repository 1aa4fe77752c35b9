//! A child's standard streams as non-blocking pipes registered with the loop.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::Interest;
use mio::unix::pipe::{Receiver, Sender};

use crate::io::evented::{Evented, READ, WRITE};

/// The read end of a pipe, on the loop (through the readiness adapter, which spends the
/// budget: a child that writes faster than the parent reads cannot keep the reading task from
/// yielding).
struct ReadPipe {
    pipe: Evented<Receiver>,
}

impl ReadPipe {
    fn new(pipe: Receiver) -> io::Result<ReadPipe> {
        pipe.set_nonblocking(true)?;
        Ok(ReadPipe {
            pipe: Evented::new(pipe, Interest::READABLE)?,
        })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.pipe
            .poll_transfer(cx, READ, buf.len(), |p| (&*p).read(buf))
    }

    fn fd(&self) -> RawFd {
        self.pipe.get_ref().as_raw_fd()
    }
}

macro_rules! reader {
    ($name:ident, $std:ty, $what:literal) => {
        #[doc = concat!("The child's ", $what, ", when piped: a futures-io [`AsyncRead`] on the loop.")]
        pub struct $name(ReadPipe);

        impl $name {
            pub(crate) fn new(std: $std) -> io::Result<$name> {
                ReadPipe::new(Receiver::from(std)).map($name)
            }
        }

        impl AsyncRead for $name {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.0.poll_read(cx, buf)
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.0.fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name))
                    .field(&self.0.fd())
                    .finish()
            }
        }
    };
}

reader!(ChildStdout, std::process::ChildStdout, "standard output");
reader!(ChildStderr, std::process::ChildStderr, "standard error");

/// The child's standard input, when piped: a futures-io [`AsyncWrite`] on the loop. Closing it
/// (`close`, or dropping it) is how the child sees the end of its input.
pub struct ChildStdin {
    /// `None` once closed.
    pipe: Option<Evented<Sender>>,
}

impl ChildStdin {
    pub(crate) fn new(std: std::process::ChildStdin) -> io::Result<ChildStdin> {
        let pipe = Sender::from(std);
        pipe.set_nonblocking(true)?;
        Ok(ChildStdin {
            pipe: Some(Evented::new(pipe, Interest::WRITABLE)?),
        })
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Some(pipe) = &self.pipe else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the child's stdin is closed",
            )));
        };
        pipe.poll_transfer(cx, WRITE, buf.len(), |p| (&*p).write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe has no user-space buffer: written is sent.
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Dropping the descriptor closes it; the registration goes with it.
        self.pipe = None;
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ChildStdin")
            .field(&self.pipe.as_ref().map(|p| p.get_ref().as_raw_fd()))
            .finish()
    }
}
