//! `StreamWriter`: asyncio's buffered writes with `drain` backpressure, over any
//! `futures_io::AsyncWrite`.
//!
//! As asyncio's transport does, `write` sends at once what the stream takes and buffers the
//! rest, and the rest is sent in the background: a small task of the loop (started only when
//! something is left over, and ending when the buffer is empty) owns the sending from then on.
//! So a program that writes and then waits for a reply, without `drain`, does not deadlock, and
//! `drain` is only the flow-control wait. Exactly one party drives the stream at a time: the
//! background task while it runs, else the caller of `drain`/`wait_closed` (this is what happens
//! outside a conductor loop, where no task can be started).

use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker, ready};

use futures_io::AsyncWrite;

use super::ExtraInfo;
use crate::runtime::budget::poll_proceed;

/// asyncio's default high-water mark of a transport's write buffer (64 KiB).
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// The writer type of `open_connection`, `start_server` and friends: any byte sink.
pub type BoxWriter = Box<dyn AsyncWrite + Unpin>;

/// asyncio's `StreamWriter`: buffered writes, `drain` for flow control, `close`/`wait_closed`.
///
/// `write` never waits: it sends what the stream accepts at once and buffers the rest, which a
/// background task sends as the stream allows. `drain` waits while the buffer is above its
/// high-water mark (64 KiB by default), until it is at or below the low-water mark (16 KiB),
/// so a producer that awaits `drain` after its writes never holds more than about the
/// high-water mark plus one write. Errors of the stream are reported by the next `drain` or
/// `wait_closed` (as asyncio raises them from `drain`); writes after an error are dropped.
///
/// ```
/// use conductor::streams::StreamWriter;
/// # conductor::run(async {
/// let mut writer = StreamWriter::new(Vec::<u8>::new());
/// writer.write(b"hello ");
/// writer.writelines([&b"wor"[..], b"ld"]);
/// writer.drain().await.unwrap();
/// writer.close();
/// writer.wait_closed().await.unwrap();
/// # });
/// ```
pub struct StreamWriter<W = BoxWriter> {
    state: Rc<RefCell<State<W>>>,
    /// Starts the background sender (monomorphised in `new`, where `W: 'static` is known).
    start: fn(&Rc<RefCell<State<W>>>) -> bool,
    info: ExtraInfo,
}

struct State<W> {
    io: W,
    /// Bytes `pos..` are waiting to be sent.
    buf: Vec<u8>,
    pos: usize,
    high: usize,
    low: usize,
    /// Above the high-water mark and not yet back at the low one (asyncio's `pause_writing`).
    paused: bool,
    /// Written to `io` since its last successful `poll_flush`.
    unflushed: bool,
    /// The background sender runs (and is the only one to poll `io`).
    background: bool,
    closing: bool,
    closed: bool,
    error: Option<io::Error>,
    /// The task in `drain`, `wait_closed` or a flush, waiting for the background sender.
    waiter: Option<Waker>,
}

impl<W: AsyncWrite + Unpin + 'static> StreamWriter<W> {
    /// A writer over `inner`, with asyncio's default buffer limits (high 64 KiB, low 16 KiB).
    pub fn new(inner: W) -> Self {
        StreamWriter {
            state: Rc::new(RefCell::new(State {
                io: inner,
                buf: Vec::new(),
                pos: 0,
                high: DEFAULT_HIGH_WATER,
                low: DEFAULT_HIGH_WATER / 4,
                paused: false,
                unflushed: false,
                background: false,
                closing: false,
                closed: false,
                error: None,
                waiter: None,
            })),
            start: start_background::<W>,
            info: ExtraInfo::default(),
        }
    }

    /// This writer over a boxed sink (the type `StreamWriter` without parameters).
    ///
    /// # Panics
    /// While a background send is running (call it before the first `write`, or after
    /// `drain` returned with an empty buffer).
    pub fn boxed(self) -> StreamWriter {
        let state = Rc::try_unwrap(self.state)
            .ok()
            .expect("StreamWriter::boxed while a background send runs")
            .into_inner();
        let boxed = State {
            io: Box::new(state.io) as BoxWriter,
            buf: state.buf,
            pos: state.pos,
            high: state.high,
            low: state.low,
            paused: state.paused,
            unflushed: state.unflushed,
            background: false,
            closing: state.closing,
            closed: state.closed,
            error: state.error,
            waiter: None,
        };
        StreamWriter {
            state: Rc::new(RefCell::new(boxed)),
            start: start_background::<BoxWriter>,
            info: self.info,
        }
    }
}

impl<W: AsyncWrite + Unpin> StreamWriter<W> {
    /// Sets what [`get_extra_info`](Self::get_extra_info) reports (for the code that builds
    /// writers over sockets and pipes).
    pub fn with_extra_info(mut self, info: ExtraInfo) -> Self {
        self.info = info;
        self
    }

    /// The transport's details: peer and socket addresses, file descriptor (asyncio's
    /// `get_extra_info('peername')`, `'sockname'`, `'socket'`).
    pub fn get_extra_info(&self) -> &ExtraInfo {
        &self.info
    }

    /// Queues `data`: sends at once what the stream accepts, buffers the rest for the background
    /// sender (asyncio's `write`). Never waits; follow it with [`drain`](Self::drain) to respect
    /// the peer's pace. After [`close`](Self::close) or an error of the stream, the data is
    /// dropped and the next `drain` reports why.
    pub fn write(&mut self, data: &[u8]) {
        let mut s = self.state.borrow_mut();
        if s.error.is_some() {
            return;
        }
        if s.closing {
            s.error = Some(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after close() or write_eof(): the data was dropped; write before closing",
            ));
            return;
        }
        let mut rest = data;
        if s.pending() == 0 && !s.background {
            // asyncio's transport tries the socket first and buffers only what it refused.
            let mut cx = Context::from_waker(noop_waker());
            let n = s.write_now(&mut cx, rest);
            rest = &rest[n..];
        }
        if !rest.is_empty() {
            s.compact();
            s.buf.extend_from_slice(rest);
            if s.pending() > s.high {
                s.paused = true;
            }
        }
        self.start_if_needed(s);
    }

    /// Queues each buffer in turn (asyncio's `writelines`).
    pub fn writelines<I, B>(&mut self, data: I)
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        for chunk in data {
            self.write(chunk.as_ref());
        }
    }

    /// Waits while the write buffer is above its high-water mark, until it is back at the
    /// low-water mark (asyncio's `drain`); reports an error of the stream.
    ///
    /// Cancel-safe: the buffered data stays queued.
    pub async fn drain(&mut self) -> io::Result<()> {
        poll_fn(|cx| {
            ready!(poll_proceed(cx));
            self.poll_until(cx, |s| !s.paused)
        })
        .await
    }

    /// Starts closing: the buffered data is sent, then the stream is closed (for a socket, its
    /// write side is shut down and the peer reads the end of the stream). Never waits; see
    /// [`wait_closed`](Self::wait_closed) (asyncio's `close`).
    pub fn close(&mut self) {
        let mut s = self.state.borrow_mut();
        if s.closing {
            return;
        }
        s.closing = true;
        if !s.background {
            let mut cx = Context::from_waker(noop_waker());
            let _ = s.poll_progress(&mut cx);
        }
        self.start_if_needed(s);
    }

    /// Sends what is buffered, flushes, and returns the stream, so that another layer can take
    /// it over (what asyncio's `start_tls` does to a writer's transport).
    ///
    /// # Errors
    /// A write error of the buffered data, or a writer already closing (its stream is being
    /// closed: there is nothing left to take over).
    pub async fn into_inner(mut self) -> io::Result<W> {
        if self.is_closing() {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "into_inner after close(): the stream is closed; take it over before closing",
            ));
        }
        poll_fn(|cx| self.poll_until(cx, |s| s.pending() == 0 && !s.unflushed && !s.background))
            .await?;
        loop {
            match Rc::try_unwrap(self.state) {
                Ok(state) => return Ok(state.into_inner().io),
                // The background sender said it finished and is being dropped: once it is gone,
                // the state is ours.
                Err(state) => {
                    self.state = state;
                    crate::yield_now().await;
                }
            }
        }
    }

    /// Whether [`close`](Self::close) or [`write_eof`](Self::write_eof) was called (asyncio's
    /// `is_closing`).
    pub fn is_closing(&self) -> bool {
        self.state.borrow().closing
    }

    /// Waits until the buffered data is sent and the stream closed, and reports an error of
    /// the stream (asyncio's `wait_closed`). Starts closing if `close` was not called (asyncio
    /// would wait forever).
    pub async fn wait_closed(&mut self) -> io::Result<()> {
        self.close();
        poll_fn(|cx| self.poll_until(cx, |s| s.closed)).await
    }

    /// Sends the buffered data, then closes the write side (asyncio's `write_eof`). A socket
    /// can still be read from its [`StreamReader`](super::StreamReader); the same as `close`
    /// here, since the reader is a separate object.
    pub fn write_eof(&mut self) {
        self.close();
    }

    /// Whether [`write_eof`](Self::write_eof) is supported (asyncio's `can_write_eof`): always.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Bytes buffered and not sent yet (asyncio's `transport.get_write_buffer_size()`).
    pub fn write_buffer_size(&self) -> usize {
        self.state.borrow().pending()
    }

    /// The `(low, high)` water marks (asyncio's `transport.get_write_buffer_limits()`).
    pub fn write_buffer_limits(&self) -> (usize, usize) {
        let s = self.state.borrow();
        (s.low, s.high)
    }

    /// Sets the water marks (asyncio's `transport.set_write_buffer_limits(high, low)`); `low`
    /// defaults to a quarter of `high`.
    ///
    /// # Panics
    /// When `low` is above `high` (asyncio raises `ValueError`).
    pub fn set_write_buffer_limits(&mut self, high: usize, low: Option<usize>) {
        let low = low.unwrap_or(high / 4);
        assert!(
            low <= high,
            "set_write_buffer_limits: low ({low}) must not exceed high ({high})"
        );
        let mut s = self.state.borrow_mut();
        s.high = high;
        s.low = low;
        if s.pending() > high {
            s.paused = true;
        } else {
            s.resume_if_low();
        }
    }

    fn start_if_needed(&self, mut s: std::cell::RefMut<'_, State<W>>) {
        if !s.background && s.has_work() && s.error.is_none() {
            // The new task is only queued here: it cannot borrow the state before we return.
            s.background = (self.start)(&self.state);
        }
    }

    /// Waits for `done(state)`: drives the stream itself when no background sender runs.
    fn poll_until(
        &mut self,
        cx: &mut Context<'_>,
        done: fn(&State<W>) -> bool,
    ) -> Poll<io::Result<()>> {
        let mut s = self.state.borrow_mut();
        if !s.background {
            let _ = s.poll_progress(cx);
        }
        if let Some(e) = &s.error {
            return Poll::Ready(Err(copy_error(e)));
        }
        if done(&s) {
            return Poll::Ready(Ok(()));
        }
        match &s.waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waiter = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<W: AsyncWrite + Unpin> State<W> {
    fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn has_work(&self) -> bool {
        self.pending() > 0 || self.unflushed || (self.closing && !self.closed)
    }

    /// Drops the sent prefix of the buffer once it is at least half of it.
    fn compact(&mut self) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// Writes as much of `data` as the stream takes now; how much it took.
    fn write_now(&mut self, cx: &mut Context<'_>, data: &[u8]) -> usize {
        let mut done = 0;
        while done < data.len() {
            match Pin::new(&mut self.io).poll_write(cx, &data[done..]) {
                Poll::Ready(Ok(0)) => {
                    self.fail(io::ErrorKind::WriteZero.into());
                    return data.len();
                }
                Poll::Ready(Ok(n)) => {
                    done += n;
                    self.unflushed = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    self.fail(e);
                    return data.len();
                }
                Poll::Pending => return done,
            }
        }
        if let Poll::Ready(r) = Pin::new(&mut self.io).poll_flush(cx) {
            self.unflushed = false;
            if let Err(e) = r {
                self.fail(e);
            }
        }
        done
    }

    /// Sends the buffer, flushes, closes if asked: `Ready` when nothing is left to do (or the
    /// stream failed).
    fn poll_progress(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.error.is_some() {
                return Poll::Ready(());
            }
            if self.pending() > 0 {
                let r = Pin::new(&mut self.io).poll_write(cx, &self.buf[self.pos..]);
                match ready!(r) {
                    Ok(0) => self.fail(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        self.pos += n;
                        self.unflushed = true;
                        if self.pos == self.buf.len() {
                            self.buf.clear();
                            self.pos = 0;
                        }
                        self.resume_if_low();
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => self.fail(e),
                }
            } else if self.unflushed {
                let r = ready!(Pin::new(&mut self.io).poll_flush(cx));
                self.unflushed = false;
                if let Err(e) = r {
                    self.fail(e);
                }
            } else if self.closing && !self.closed {
                match ready!(Pin::new(&mut self.io).poll_close(cx)) {
                    Ok(()) => {
                        self.closed = true;
                        self.wake_waiter();
                    }
                    Err(e) => self.fail(e),
                }
            } else {
                return Poll::Ready(());
            }
        }
    }

    fn resume_if_low(&mut self) {
        if self.paused && self.pending() <= self.low {
            self.paused = false;
            self.wake_waiter();
        }
    }

    fn fail(&mut self, e: io::Error) {
        self.error = Some(e);
        self.buf = Vec::new();
        self.pos = 0;
        self.paused = false;
        self.unflushed = false;
        self.wake_waiter();
    }

    fn wake_waiter(&mut self) {
        if let Some(w) = self.waiter.take() {
            w.wake();
        }
    }
}

/// Starts the background sender on the running loop; false outside one.
fn start_background<W: AsyncWrite + Unpin + 'static>(state: &Rc<RefCell<State<W>>>) -> bool {
    if !crate::context::in_loop() {
        return false;
    }
    let state = state.clone();
    let task = crate::spawn_named("StreamWriter send", async move {
        // Clears `background` however the task ends (a loop shutting down drops it).
        let _done = Done(&state);
        poll_fn(|cx| state.borrow_mut().poll_progress(cx)).await;
    });
    task.detach();
    true
}

struct Done<'a, W>(&'a Rc<RefCell<State<W>>>);

impl<W> Drop for Done<'_, W> {
    fn drop(&mut self) {
        let mut s = self.0.borrow_mut();
        s.background = false;
        if let Some(w) = s.waiter.take() {
            w.wake();
        }
        let unsent = s.buf.len() - s.pos;
        if unsent > 0 && s.error.is_none() {
            crate::runtime::debug_warning(|| {
                crate::runtime::ExceptionContext::new(
                    "A StreamWriter's data was never sent: its background send was dropped (the \
                     loop closed) with bytes still buffered; await drain() or wait_closed()",
                )
                .with_detail("unsent bytes", unsent)
            });
        }
    }
}

/// io::Error is not `Clone`; a stored error is reported to every later caller.
fn copy_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

fn noop_waker() -> &'static Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    static NOOP: OnceLock<Waker> = OnceLock::new();
    NOOP.get_or_init(|| Waker::from(Arc::new(Noop)))
}

impl<W> fmt::Debug for StreamWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("StreamWriter")
            .field("buffered", &(s.buf.len() - s.pos))
            .field("closing", &s.closing)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Writes through the buffer: `poll_write` accepts everything unless the buffer is above its
/// high-water mark, `poll_flush` waits for the buffer to empty, `poll_close` closes.
impl<W: AsyncWrite + Unpin> AsyncWrite for StreamWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_until(cx, |s| !s.paused))?;
        this.write(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .poll_until(cx, |s| s.pending() == 0 && !s.unflushed)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.close();
        this.poll_until(cx, |s| s.closed)
    }
}
