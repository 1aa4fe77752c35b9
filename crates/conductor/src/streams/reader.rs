//! `StreamReader`: asyncio's buffered reads over any `futures_io::AsyncRead`.
//!
//! Every read is cancel-safe: bytes move out of the buffer only when a read completes, so a read
//! dropped at its `.await` (a timeout, a cancelled task) loses nothing; the next read sees the
//! same data.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use futures_io::{AsyncBufRead, AsyncRead};

use super::ReadError;
use super::buffer::{Buffer, FIRST_READ, MAX_READ, READ_CHUNK};

/// asyncio's default buffer limit (`limit=2**16`).
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// The reader type of `open_connection`, `start_server` and friends: any byte stream.
pub type BoxReader = Box<dyn AsyncRead + Unpin>;

/// asyncio's `StreamReader`: reads from a byte stream through a buffer.
///
/// Without a type parameter, `StreamReader` reads from a boxed stream, which is what
/// [`open_connection`](crate::net::open_connection) and
/// [`start_server`](crate::net::start_server) hand out for TCP and Unix sockets alike;
/// `StreamReader::new(stream)` keeps the concrete type.
///
/// The buffer grows only as far as a read needs: `readuntil` and `readline` stop at the limit
/// (64 KiB by default), so an endless line cannot eat memory.
///
/// ```
/// use conductor::streams::StreamReader;
/// # conductor::run(async {
/// let mut reader = StreamReader::new(&b"HELLO\nworld\n..."[..]);
/// assert_eq!(reader.readline().await.unwrap(), b"HELLO\n");
/// assert_eq!(reader.readuntil(b"ld").await.unwrap(), b"world");
/// assert_eq!(reader.readexactly(2).await.unwrap(), b"\n.");
/// assert_eq!(reader.read(100).await.unwrap(), b"..");
/// assert!(reader.at_eof() || reader.read(1).await.unwrap().is_empty());
/// # });
/// ```
pub struct StreamReader<R = BoxReader> {
    inner: R,
    buf: Buffer,
    /// How much the next read of the stream asks for (grows while reads fill it).
    read_size: usize,
    limit: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin> StreamReader<R> {
    /// A reader over `inner` with asyncio's default limit (64 KiB).
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, DEFAULT_LIMIT)
    }

    /// A reader over `inner` whose `readuntil`/`readline` give up past `limit` bytes
    /// (asyncio's `limit=` argument).
    ///
    /// # Panics
    /// When `limit` is 0 (asyncio raises `ValueError`).
    pub fn with_limit(inner: R, limit: usize) -> Self {
        assert!(limit > 0, "StreamReader limit must be positive");
        StreamReader {
            inner,
            buf: Buffer::default(),
            read_size: FIRST_READ,
            limit,
            eof: false,
        }
    }

    /// The buffer limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the stream has ended and the buffer is empty (asyncio's `at_eof()`).
    ///
    /// The end is noticed by a read that meets it: asyncio's transport reads ahead in the
    /// background and can know earlier. A read that returns an empty result also says it.
    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.is_empty()
    }

    /// The bytes read from the stream and not consumed yet.
    pub fn buffer(&self) -> &[u8] {
        self.buf.as_slice()
    }

    /// The stream read from.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The stream read from. Reading it directly skips what is buffered.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The stream, and the bytes buffered but not read yet.
    pub fn into_parts(self) -> (R, Vec<u8>) {
        let StreamReader { inner, mut buf, .. } = self;
        (inner, buf.take_all())
    }

    /// This reader over a boxed stream (the type `StreamReader` without parameters), with
    /// its buffer.
    pub fn boxed(self) -> StreamReader
    where
        R: 'static,
    {
        StreamReader {
            inner: Box::new(self.inner),
            buf: self.buf,
            read_size: self.read_size,
            limit: self.limit,
            eof: self.eof,
        }
    }

    /// Up to `n` bytes: what is buffered, or else what one read of the stream gives (asyncio's
    /// `read(n)`). Empty at the end of the stream, or when `n` is 0.
    pub async fn read(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        poll_fn(|cx| self.poll_read_some(cx, n)).await
    }

    /// Everything until the end of the stream (asyncio's `read()` / `read(-1)`). The buffer
    /// grows as needed: use it on streams known to be bounded.
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>, ReadError> {
        poll_fn(|cx| {
            while !self.eof {
                ready!(self.poll_fill(cx))?;
            }
            Poll::Ready(Ok(self.buf.take_all()))
        })
        .await
    }

    /// Exactly `n` bytes (asyncio's `readexactly(n)`). When the stream ends first, fails with
    /// [`ReadError::IncompleteRead`] carrying the bytes that arrived.
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        poll_fn(|cx| {
            while self.buf.len() < n {
                if self.eof {
                    return Poll::Ready(Err(ReadError::IncompleteRead {
                        partial: self.buf.take_all(),
                        expected: Some(n),
                    }));
                }
                ready!(self.poll_fill(cx))?;
            }
            Poll::Ready(Ok(self.buf.take(n)))
        })
        .await
    }

    /// The bytes up to and including `separator` (asyncio's `readuntil(separator)`).
    ///
    /// - the stream ends first: [`ReadError::IncompleteRead`] with everything buffered (which is
    ///   consumed) and `expected: None`;
    /// - no separator within the limit: [`ReadError::LimitOverrun`]; the data stays buffered.
    ///
    /// # Panics
    /// When `separator` is empty (asyncio raises `ValueError`).
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, ReadError> {
        self.readuntil_any(&[separator]).await
    }

    /// The shortest run of bytes that ends with any of `separators` (asyncio 3.13's
    /// `readuntil((sep1, sep2, ...))`). When two separators end at the same byte, the shorter
    /// one counts as the match, also for the limit. Errors as for [`readuntil`](Self::readuntil).
    ///
    /// ```
    /// use conductor::streams::StreamReader;
    /// # conductor::run(async {
    /// let mut reader = StreamReader::new(&b"hello!worldEND"[..]);
    /// assert_eq!(reader.readuntil_any(&[b"END", b"!"]).await.unwrap(), b"hello!");
    /// assert_eq!(reader.readuntil_any(&[b"END", b"!"]).await.unwrap(), b"worldEND");
    /// # });
    /// ```
    ///
    /// # Panics
    /// When `separators` is empty or holds an empty separator (asyncio raises `ValueError`).
    pub async fn readuntil_any(&mut self, separators: &[&[u8]]) -> Result<Vec<u8>, ReadError> {
        let mut scanned = 0;
        poll_fn(|cx| self.poll_readuntil(cx, separators, &mut scanned)).await
    }

    /// One line, with its `\n` (asyncio's `readline()`). At the end of the stream, the partial
    /// last line (empty once everything was read). A line longer than the limit is discarded
    /// and reported as [`ReadError::LineTooLong`], as asyncio's `ValueError`.
    pub async fn readline(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut scanned = 0;
        poll_fn(|cx| self.poll_readline(cx, &mut scanned)).await
    }

    /// The lines of the stream, as a `Stream` (asyncio's `async for line in reader`). It ends
    /// at the end of the stream; an error is yielded as an item.
    ///
    /// ```
    /// use conductor::streams::StreamReader;
    /// # conductor::run(async {
    /// let mut reader = StreamReader::new(&b"one\ntwo\nthree"[..]);
    /// let mut lines = reader.lines();
    /// let mut seen = Vec::new();
    /// while let Some(line) = lines.next_line().await {
    ///     seen.push(line.unwrap());
    /// }
    /// assert_eq!(seen, [&b"one\n"[..], b"two\n", b"three"]);
    /// # });
    /// ```
    pub fn lines(&mut self) -> Lines<'_, R> {
        Lines {
            reader: self,
            scanned: 0,
        }
    }

    /// Reads once more from the stream into the buffer; `Ok(0)` at the end.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        // Read no further past the limit than one chunk: the bound on what a reader holds.
        let max = READ_CHUNK.max(self.limit.saturating_sub(self.buf.len()));
        loop {
            let (r, len) = if self.buf.is_unallocated() {
                // Nothing arrived yet: read on the stack, so that a connection that stays idle
                // holds no buffer (the others wait for readability; a reader cannot).
                let mut first = [0; FIRST_READ];
                let r = ready!(Pin::new(&mut self.inner).poll_read(cx, &mut first));
                if let Ok(n @ 1..) = r {
                    self.buf.spare(self.read_size)[..n].copy_from_slice(&first[..n]);
                }
                (r, FIRST_READ)
            } else {
                let room = self.buf.spare(self.read_size);
                let len = room.len().min(max);
                let r = ready!(Pin::new(&mut self.inner).poll_read(cx, &mut room[..len]));
                (r, len)
            };
            match r {
                Ok(0) => {
                    self.eof = true;
                    return Poll::Ready(Ok(0));
                }
                Ok(n) => {
                    if n == len && self.read_size < MAX_READ {
                        self.read_size *= 2;
                    }
                    self.buf.commit(n);
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_read_some(
        &mut self,
        cx: &mut Context<'_>,
        n: usize,
    ) -> Poll<Result<Vec<u8>, ReadError>> {
        if n == 0 {
            return Poll::Ready(Ok(Vec::new()));
        }
        if self.buf.is_empty() {
            // Through the buffer even for a large `n`: copying what arrived is cheaper than
            // zeroing an `n`-byte result that a short read would mostly leave unused.
            ready!(self.poll_fill(cx))?;
        }
        let take = n.min(self.buf.len());
        Poll::Ready(Ok(self.buf.take(take)))
    }

    fn poll_read_direct(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match ready!(Pin::new(&mut self.inner).poll_read(cx, out)) {
                Ok(0) => {
                    self.eof = true;
                    return Poll::Ready(Ok(0));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return Poll::Ready(other),
            }
        }
    }

    /// asyncio's `readuntil` loop. `scanned` remembers how far the buffer was searched, so that
    /// a separator arriving in many small reads is found in linear time.
    fn poll_readuntil(
        &mut self,
        cx: &mut Context<'_>,
        seps: &[&[u8]],
        scanned: &mut usize,
    ) -> Poll<Result<Vec<u8>, ReadError>> {
        let shortest = seps.iter().map(|s| s.len()).min().unwrap_or(0);
        let longest = seps.iter().map(|s| s.len()).max().unwrap_or(0);
        assert!(
            shortest > 0,
            "readuntil: separators must be given and not be empty"
        );
        let (start, end) = loop {
            let data = self.buf.as_slice();
            if data.len() >= *scanned + shortest {
                if let Some(m) = earliest_end(data, *scanned, seps) {
                    break m;
                }
                // A separator may start in the last `longest - 1` bytes.
                *scanned = (data.len() + 1).saturating_sub(longest).max(*scanned);
                if *scanned > self.limit {
                    return Poll::Ready(Err(ReadError::LimitOverrun { consumed: *scanned }));
                }
            }
            if self.eof {
                return Poll::Ready(Err(ReadError::IncompleteRead {
                    partial: self.buf.take_all(),
                    expected: None,
                }));
            }
            ready!(self.poll_fill(cx))?;
        };
        if start > self.limit {
            return Poll::Ready(Err(ReadError::LimitOverrun { consumed: start }));
        }
        Poll::Ready(Ok(self.buf.take(end)))
    }

    fn poll_readline(
        &mut self,
        cx: &mut Context<'_>,
        scanned: &mut usize,
    ) -> Poll<Result<Vec<u8>, ReadError>> {
        match ready!(self.poll_readuntil(cx, &[b"\n"], scanned)) {
            Err(ReadError::IncompleteRead { partial, .. }) => Poll::Ready(Ok(partial)),
            Err(ReadError::LimitOverrun { consumed }) => {
                // asyncio drops the line: through its newline when it arrived, else everything.
                let data = self.buf.as_slice();
                let discarded = if data.get(consumed) == Some(&b'\n') {
                    consumed + 1
                } else {
                    data.len()
                };
                self.buf.consume(discarded);
                *scanned = 0;
                Poll::Ready(Err(ReadError::LineTooLong { discarded }))
            }
            other => Poll::Ready(other),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if let [byte] = needle {
        return haystack.iter().position(|b| b == byte);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The match of `seps` in `data[from..]` that ends first, as `(start, end)`; on a tie, the
/// shorter separator's (asyncio sorts its separators by length and keeps the first match).
fn earliest_end(data: &[u8], from: usize, seps: &[&[u8]]) -> Option<(usize, usize)> {
    seps.iter()
        .filter_map(|sep| find(&data[from..], sep).map(|i| (from + i, from + i + sep.len())))
        .min_by_key(|&(start, end)| (end, end - start))
}

impl<R> std::fmt::Debug for StreamReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.buf.len())
            .field("limit", &self.limit)
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

/// Reads through the buffer: buffered bytes first, then the stream.
impl<R: AsyncRead + Unpin> AsyncRead for StreamReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.is_empty() {
            if out.len() >= READ_CHUNK {
                return this.poll_read_direct(cx, out);
            }
            ready!(this.poll_fill(cx))?;
        }
        Poll::Ready(Ok(this.buf.copy_to(out)))
    }
}

impl<R: AsyncRead + Unpin> AsyncBufRead for StreamReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.buf.is_empty() {
            ready!(this.poll_fill(cx))?;
        }
        Poll::Ready(Ok(this.buf.as_slice()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().buf.consume(amt);
    }
}

/// The lines of a [`StreamReader`], from [`StreamReader::lines`].
#[must_use = "streams do nothing unless polled"]
pub struct Lines<'a, R> {
    reader: &'a mut StreamReader<R>,
    scanned: usize,
}

impl<R: AsyncRead + Unpin> Lines<'_, R> {
    /// The next line; `None` at the end of the stream (the `Stream` method, for code without
    /// a `StreamExt` at hand).
    pub async fn next_line(&mut self) -> Option<Result<Vec<u8>, ReadError>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<R: AsyncRead + Unpin> Stream for Lines<'_, R> {
    type Item = Result<Vec<u8>, ReadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let line = ready!(this.reader.poll_readline(cx, &mut this.scanned));
        this.scanned = 0;
        match line {
            Ok(line) if line.is_empty() => Poll::Ready(None),
            other => Poll::Ready(Some(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Waker;

    use super::*;

    /// A stream with nothing to read until `data` is filled.
    struct Idle(Rc<Cell<Option<&'static [u8]>>>);

    impl AsyncRead for Idle {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            match self.0.take() {
                Some(data) => {
                    buf[..data.len()].copy_from_slice(data);
                    Poll::Ready(Ok(data.len()))
                }
                None => Poll::Pending,
            }
        }
    }

    #[test]
    fn an_idle_reader_holds_no_buffer_until_bytes_arrive() {
        let data = Rc::new(Cell::new(None));
        let mut reader = StreamReader::new(Idle(data.clone()));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(reader.poll_read_some(&mut cx, 100).is_pending());
        assert!(
            reader.buf.is_unallocated(),
            "a pending first read allocated"
        );
        data.set(Some(b"hello"));
        let Poll::Ready(Ok(got)) = reader.poll_read_some(&mut cx, 3) else {
            panic!("the bytes did not arrive");
        };
        assert_eq!(got, b"hel");
        assert_eq!(reader.buf.as_slice(), b"lo", "the rest stays buffered");
    }
}
