//! `AsyncFd`: a descriptor of the user's on the loop's selector, through the same adapter as
//! conductor's own sockets and pipes (so with the same budget and the same waiter lists).

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::Direction;
use super::evented::{BOTH, Evented, READ, WRITE};

/// A file descriptor waited on by the running loop: asyncio's `add_reader`/`add_writer`, as
/// futures (tokio's `AsyncFd`, async-io's `Async`). For what conductor does not wrap: a pipe, a
/// device, a descriptor from a C library, an `eventfd`.
///
/// `T` owns (or borrows) the descriptor, which must be in non-blocking mode; `AsyncFd` neither
/// reads nor writes it, it only waits. Run each operation through
/// [`read_with`](Self::read_with)/[`write_with`](Self::write_with) (or their `poll_` forms),
/// which wait while it returns `WouldBlock`; after waiting with
/// [`readable`](Self::readable) and finding nothing, [`clear_ready`](Self::clear_ready) (or
/// use [`try_io`](Self::try_io), which does it): readiness is edge-triggered, and is kept until
/// an operation proves it stale.
///
/// Any number of tasks may wait on one `AsyncFd` (share it in an `Rc`): each is woken. The
/// waits spend the task's cooperative budget, as every IO of the loop does. It belongs to the
/// loop it was created on (`!Send`); dropping it removes the descriptor from the selector
/// (before `T` is dropped), so the same descriptor can be registered again.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use conductor::io::AsyncFd;
/// # conductor::run(async {
/// let (mut a, b) = UnixStream::pair().unwrap();
/// b.set_nonblocking(true).unwrap();
/// let b = AsyncFd::new(b).unwrap();
/// a.write_all(b"ping").unwrap();
/// let mut buf = [0; 8];
/// let n = b.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
/// assert_eq!(&buf[..n], b"ping");
/// # });
/// ```
pub struct AsyncFd<T: AsRawFd> {
    /// `None` only after `into_inner` or `drop` took it.
    io: Option<Evented<Fd<T>>>,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s descriptor with the running loop, for both directions.
    ///
    /// # Errors
    /// Outside a running loop, or when the OS refuses the descriptor (already registered with
    /// this loop: `AlreadyExists`; a regular file, which epoll cannot wait on: `PermissionDenied`).
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        Ok(AsyncFd {
            io: Some(Evented::new(Fd(inner), BOTH)?),
        })
    }

    fn io(&self) -> &Evented<Fd<T>> {
        self.io
            .as_ref()
            .expect("an AsyncFd keeps its registration until it is consumed")
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.io().get_ref().0
    }

    /// The wrapped value, mutably. It must keep the same descriptor.
    pub fn get_mut(&mut self) -> &mut T {
        let io = self
            .io
            .as_mut()
            .expect("an AsyncFd keeps its registration until consumed");
        &mut io.get_mut().0
    }

    /// Removes the descriptor from the selector and returns the wrapped value. (Under another
    /// loop than its own, the descriptor stays in its loop's selector until it is closed; its
    /// events are then ignored.)
    pub fn into_inner(mut self) -> T {
        let io = self
            .io
            .take()
            .expect("an AsyncFd keeps its registration until consumed");
        io.leave().0.0
    }

    /// Waits until the descriptor is readable (or closed, or in error).
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// # conductor::run(async {
    /// let (mut a, b) = UnixStream::pair().unwrap();
    /// b.set_nonblocking(true).unwrap();
    /// let b = conductor::io::AsyncFd::new(b).unwrap();
    /// a.write_all(b"x").unwrap();
    /// b.readable().await.unwrap();
    /// # });
    /// ```
    ///
    /// # Errors
    /// When used under another loop than its own.
    pub async fn readable(&self) -> io::Result<()> {
        self.io().ready(READ).await
    }

    /// Waits until the descriptor is writable (or closed, or in error).
    ///
    /// # Errors
    /// When used under another loop than its own.
    pub async fn writable(&self) -> io::Result<()> {
        self.io().ready(WRITE).await
    }

    /// Runs `op` once the descriptor is readable, again after each `WouldBlock` (readiness is
    /// cleared first and the next edge awaited); returns its first other result.
    ///
    /// # Errors
    /// `op`'s error, or an error when used under another loop than its own.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.io().io(READ, |fd| op(&fd.0)).await
    }

    /// [`read_with`](Self::read_with) for an operation that writes.
    ///
    /// # Errors
    /// `op`'s error, or an error when used under another loop than its own.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.io().io(WRITE, |fd| op(&fd.0)).await
    }

    /// Polls for readability. The `poll_` methods keep one waker per direction, the latest
    /// caller's; tasks sharing the descriptor wait with [`readable`](Self::readable).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io().poll_ready(cx, READ)
    }

    /// Polls for writability (see [`poll_read_ready`](Self::poll_read_ready)).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io().poll_ready(cx, WRITE)
    }

    /// [`read_with`](Self::read_with) as a poll, for `AsyncRead` implementations.
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io().poll_io(cx, READ, |fd| op(&fd.0))
    }

    /// [`write_with`](Self::write_with) as a poll, for `AsyncWrite` implementations.
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io().poll_io(cx, WRITE, |fd| op(&fd.0))
    }

    /// Runs `op` once, without waiting; a `WouldBlock` clears the readiness in `dir`, so the
    /// next wait waits for the next edge.
    ///
    /// # Errors
    /// `op`'s error.
    pub fn try_io<R>(&self, dir: Direction, op: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        self.io().try_io(dir, |fd| op(&fd.0))
    }

    /// Forgets the readiness in `dir`, after an operation run outside this type returned
    /// `WouldBlock`: the next wait waits for the next edge.
    pub fn clear_ready(&self, dir: Direction) {
        self.io().clear_ready(dir);
    }

    /// Forgets only the data readiness in `dir`, after an operation run outside this type
    /// drained the descriptor (a short read) or filled it (a short write): a peer's close or
    /// an error seen with that readiness is kept, since it gives no second edge.
    pub fn clear_data_ready(&self, dir: Direction) {
        self.io().clear_data_ready(dir);
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Leave the selector while the descriptor is still open: it may outlive this value
            // (a borrowed or duplicated descriptor), and a registration left behind would make
            // registering it again fail. Under another loop it stays; its events are ignored.
            drop(io.leave());
        }
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AsyncFd").field(self.get_ref()).finish()
    }
}

/// Any descriptor as a mio source.
struct Fd<T>(T);

impl<T: AsRawFd> mio::event::Source for Fd<T> {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

impl<T: fmt::Debug> fmt::Debug for Fd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
