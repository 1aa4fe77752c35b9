//! `Socket<T>`: a std socket of type `T` on the loop's selector (async-io's `Async<T>`). Every
//! socket type of `net` is one: `TcpStream` is `Socket<std::net::TcpStream>`, `UnixDatagram` is
//! `Socket<std::os::unix::net::UnixDatagram>`, and so on.
//!
//! What every socket does is written here once, for any `T`: registration with the loop, the
//! way back to std, the descriptor, the pending error, `Debug`. The stream sockets' IO lives in
//! `stream`, the listeners' accept in `listener`. What differs between TCP and Unix sockets
//! (how they connect and bind, their addresses and options) lives in `tcp`, `udp` and `unix`,
//! as inherent methods of the one instance, and in the few items of `T`'s [`Kind`]
//! impl: the mio type the selector holds, and the name `Debug` prints.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use mio::Interest;
use mio::event::Source;
use socket2::SockRef;

use crate::io::evented::{BOTH, Evented};

/// A socket of std type `T` (`std::net::TcpStream`, `std::os::unix::net::UnixListener`...)
/// registered with the running loop's selector: async-io's `Async<T>`. Every socket type of
/// this module is one, under its usual name ([`TcpStream`](super::TcpStream),
/// [`TcpListener`](super::TcpListener), [`UdpSocket`](super::UdpSocket),
/// [`UnixStream`](super::UnixStream), [`UnixListener`](super::UnixListener),
/// [`UnixDatagram`](super::UnixDatagram)); use those names, the methods of each are listed
/// here by the kind of socket they serve.
///
/// A socket belongs to the loop it was created on and is `!Send`; to hand it to another loop,
/// [`into_std`](Self::into_std) it and [`from_std`](Self::from_std) it there. Used on another
/// loop of the same thread, its IO fails with an error.
///
/// ```
/// use conductor::net::{Socket, TcpStream};
/// # conductor::run(async {
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let client: Socket<std::net::TcpStream> =
///     TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// let (accepted, _) = listener.accept().unwrap();
/// let server = TcpStream::from_std(accepted).unwrap();
/// assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
/// # });
/// ```
pub struct Socket<T: Kind> {
    /// The socket and its registration, for the kind-specific methods of `tcp`, `udp`, `unix`.
    pub(super) io: Evented<T::Mio>,
    /// The stream as tokio-console shows it (a resource with its reads and writes).
    #[cfg(feature = "tracing")]
    pub(super) console: Option<Box<crate::console::Io>>,
}

/// What [`Socket<T>`] needs of a std socket type `T`; implemented by the six socket types of
/// std, next to the methods that are theirs alone. (Public in a private module: it bounds
/// `Socket`'s parameter, and no other crate can implement it.)
pub trait Kind: AsFd + Into<OwnedFd> + From<Self::Mio> + 'static {
    /// The same socket as the selector holds it.
    type Mio: Source + AsFd + AsRawFd + From<OwnedFd> + fmt::Debug;
    /// The type's name, which `Debug` prints.
    const NAME: &'static str;
    /// The readiness it is registered for: both directions, but for a listener.
    const INTEREST: Interest = BOTH;
    /// Whether tokio-console shows it as a resource (the stream sockets, whose reads and
    /// writes it follows).
    #[cfg(feature = "tracing")]
    const CONSOLE: bool = false;
}

impl<T: Kind> Socket<T> {
    /// Registers a std socket with the running loop (and makes it non-blocking).
    ///
    /// # Errors
    /// Outside a running loop, or when the selector refuses it.
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn from_std(socket: T) -> io::Result<Self> {
        SockRef::from(&socket).set_nonblocking(true)?;
        Self::from_mio(T::Mio::from(socket.into()))
    }

    /// Registers a non-blocking mio socket with the running loop.
    #[cfg_attr(feature = "tracing", track_caller)]
    pub(crate) fn from_mio(socket: T::Mio) -> io::Result<Self> {
        Ok(Socket {
            io: Evented::new(socket, T::INTEREST)?,
            #[cfg(feature = "tracing")]
            console: if T::CONSOLE {
                crate::console::Io::new(T::NAME, std::panic::Location::caller())
            } else {
                None
            },
        })
    }

    /// Registers both sockets of a pair (`socketpair(2)`).
    pub(crate) fn from_mio_pair((a, b): (T::Mio, T::Mio)) -> io::Result<(Self, Self)> {
        Ok((Self::from_mio(a)?, Self::from_mio(b)?))
    }

    /// Leaves the loop's selector and returns the std socket (still non-blocking), to move it
    /// to another loop or thread.
    ///
    /// # Errors
    /// When called on another loop than the socket's (the socket is then closed).
    pub fn into_std(self) -> io::Result<T> {
        Ok(self.io.into_inner()?.into())
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it: for example why a
    /// connection failed, or an ICMP port unreachable after a datagram sent to a closed port.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        SockRef::from(self).take_error()
    }
}

impl<T: Kind> AsRawFd for Socket<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl<T: Kind> AsFd for Socket<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl<T: Kind> fmt::Debug for Socket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(T::NAME).field(self.io.get_ref()).finish()
    }
}
