//! conductor's glue for hyper's `rt` traits, so that users never write it: [`HyperIo`] (hyper's
//! `Read`/`Write` over conductor's streams, reading into the buffer's uninitialised tail),
//! [`ConductorTimer`] (hyper's `Timer` on the loop clock) and [`LocalExecutor`] (hyper's
//! `Executor`, spawning on the current loop, so futures need not be `Send`).
//!
//! With them, hyper's own connection builders run on conductor directly:
//!
//! ```
//! use conductor_http::rt::{ConductorTimer, HyperIo, LocalExecutor};
//! use hyper::server::conn::http1;
//! # conductor::run(async {
//! let listener = conductor::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let addr = listener.local_addr().unwrap();
//! conductor::spawn(async move {
//!     let (stream, _) = listener.accept().await.unwrap();
//!     let service = hyper::service::service_fn(|_req| async {
//!         Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
//!             bytes::Bytes::from_static(b"hi"),
//!         )))
//!     });
//!     http1::Builder::new()
//!         .timer(ConductorTimer)
//!         .serve_connection(HyperIo::new(stream), service)
//!         .await
//!         .unwrap();
//! })
//! .detach();
//! let _ = (addr, LocalExecutor); // a client would connect to addr
//! # });
//! ```

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use conductor::net::ReadUninit;
use futures_io::AsyncWrite;

/// hyper's `Read` and `Write` over a conductor stream ([`TcpStream`](conductor::net::TcpStream),
/// [`UnixStream`](conductor::net::UnixStream), [`TlsStream`](conductor::tls::TlsStream), halves):
/// reads go straight into hyper's uninitialised buffer ([`ReadUninit`]), writes through
/// futures-io's `AsyncWrite` (vectored).
#[derive(Debug)]
pub struct HyperIo<S> {
    inner: S,
}

impl<S> HyperIo<S> {
    /// Wraps `stream`.
    pub fn new(stream: S) -> Self {
        HyperIo { inner: stream }
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The stream.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: ReadUninit + Unpin> hyper::rt::Read for HyperIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the stream only writes into the slice (ReadUninit's contract), so nothing
        // initialised is de-initialised.
        let dst: &mut [MaybeUninit<u8>] = unsafe { buf.as_mut() };
        let n = ready!(Pin::new(&mut self.inner).poll_read_uninit(cx, dst))?;
        // SAFETY: `poll_read_uninit` initialised the first `n` bytes of `dst`.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> hyper::rt::Write for HyperIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// hyper's `Timer` on the loop clock (a paused clock included): its sleeps are conductor's
/// [`Sleep`](conductor::time::Sleep), which is `Send + Sync` as hyper requires. Give it to
/// hyper's builders (`.timer(ConductorTimer)`) for `header_read_timeout` and HTTP/2 keep-alive;
/// without a timer hyper panics when those are set.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConductorTimer;

/// A conductor sleep as hyper's `Sleep`.
struct HyperSleep(conductor::time::Sleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl hyper::rt::Timer for ConductorTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(conductor::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(conductor::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(mine) => mine.get_mut().0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }

    fn now(&self) -> Instant {
        conductor::now()
    }
}

/// hyper's `Executor`: spawns on the running loop (HTTP/2 streams, ...). The futures need not
/// be `Send`: they stay on this loop, as every conductor task does.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalExecutor;

impl<F> hyper::rt::Executor<F> for LocalExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        conductor::spawn(future).detach();
    }
}

/// A `!Send` value hyper requires to be `Send` (the IO of an HTTP/1 connection that may be
/// upgraded, for WebSockets). It is only ever touched on the thread that made it: on another
/// thread its IO fails with an error instead of reaching the value, and dropping it there leaks
/// the value rather than running its destructor. conductor's IO never leaves its loop, so in
/// practice neither happens.
pub(crate) struct ThreadBound<T> {
    value: std::mem::ManuallyDrop<T>,
    thread: usize,
}

thread_local! {
    static MARK: u8 = const { 0 };
}

/// An address unique to the calling thread while it lives.
#[inline]
fn thread_mark() -> usize {
    MARK.with(|m| std::ptr::from_ref(m) as usize)
}

impl<T> ThreadBound<T> {
    pub(crate) fn new(value: T) -> Self {
        ThreadBound {
            value: std::mem::ManuallyDrop::new(value),
            thread: thread_mark(),
        }
    }

    #[inline]
    fn get(self: Pin<&mut Self>) -> io::Result<Pin<&mut T>>
    where
        T: Unpin,
    {
        let this = self.get_mut();
        if this.thread != thread_mark() {
            return Err(io::Error::other(
                "a conductor connection was used on another thread than its loop's",
            ));
        }
        Ok(Pin::new(&mut this.value))
    }
}

// SAFETY: the value is reached only through `get`, which checks that the caller runs
// on the thread that made it, and `Drop` runs the value's destructor only there (elsewhere it
// leaks). So the `!Send` value is never touched from another thread, whatever moves the
// wrapper.
unsafe impl<T> Send for ThreadBound<T> {}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if self.thread == thread_mark() {
            // SAFETY: dropped once, here, and never used again.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.value) };
        }
    }
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for ThreadBound<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        self.get()?.poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for ThreadBound<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get()?.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get()?.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get()?.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get()?.poll_shutdown(cx)
    }
}
