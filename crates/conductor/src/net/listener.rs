//! The listening sockets' accept, once for TCP and Unix: `Socket<T>` for a `T` of
//! [`ListenerKind`]. `tcp` and `unix` add how each binds, its address and options; the accept
//! loop of a server, with its back-off when the process runs out of descriptors, is
//! `server`'s.

use std::io;
use std::task::{Context, Poll, ready};

use super::Socket;
use super::socket::Kind;
use super::stream::StreamKind;
use crate::io::evented::READ;

/// What a listening socket type adds to [`Kind`]: what `accept(2)` gives.
pub trait ListenerKind: Kind {
    /// The stream socket of an accepted connection.
    type Stream: StreamKind;
    /// The address of an accepted connection's peer.
    type Addr;
    /// One `accept(2)`, mio's: the new socket is already non-blocking and close-on-exec.
    fn accept(io: &Self::Mio) -> io::Result<(<Self::Stream as Kind>::Mio, Self::Addr)>;
}

/// What `accept` gives: the connected stream socket and its peer's address (rustdoc shows the
/// tuple itself, as the alias is private).
type Accepted<T> = (
    Socket<<T as ListenerKind>::Stream>,
    <T as ListenerKind>::Addr,
);

/// The listening sockets: [`TcpListener`](super::TcpListener) and
/// [`UnixListener`](super::UnixListener).
impl<T: ListenerKind> Socket<T> {
    /// Waits for a connection: the connected stream (a [`TcpStream`](super::TcpStream) from a
    /// `TcpListener`, a [`UnixStream`](super::UnixStream) from a `UnixListener`) and its
    /// peer's address. Any number of tasks may wait on one listener; each is woken.
    ///
    /// # Errors
    /// What `accept(2)` reports: out of file descriptors (`EMFILE`, `ENFILE`: retry later;
    /// [`start_server`](super::start_server) backs off), a connection reset before it was
    /// accepted, or a registration failure. None of them closes the listener.
    pub async fn accept(&self) -> io::Result<Accepted<T>> {
        let (stream, peer) = self.io.io(READ, T::accept).await?;
        Ok((Socket::from_mio(stream)?, peer))
    }

    /// Polls for a connection (see [`accept`](Self::accept)).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<Accepted<T>>> {
        let (stream, peer) = ready!(self.io.poll_io(cx, READ, T::accept))?;
        Poll::Ready(Socket::from_mio(stream).map(|s| (s, peer)))
    }
}
