//! `File`: aiofiles' file object, with the futures-io traits.
//!
//! Reads and writes are buffered in large chunks so that the thread pool (or io_uring) is
//! reached once per chunk, not once per `poll_read`:
//! - reads fetch at least 64 KiB, doubling on each consecutive read up to [`MAX_CHUNK`], and
//!   serve later `poll_read`s from the buffer;
//! - writes are copied into a buffer that goes to the backend when it reaches [`MAX_CHUNK`], on
//!   `flush`/`close`, or before a read or seek.
//!
//! One operation is in flight at a time; it owns the buffer it works on (so dropping the `File`
//! or a future mid-operation never frees memory the backend is writing to). The OS file position
//! runs ahead of the logical one by the unread bytes of the read buffer: a seek accounts for
//! them, and a write first moves the OS position back (`lseek(SEEK_CUR)`, which never waits on
//! a device and so runs inline).

use std::fmt;
use std::fs::File as StdFile;
use std::future::poll_fn;
use std::io::{self, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::backend::{Driver, Job, pool};
use super::error::with_path;

/// The largest chunk one backend operation reads or writes: 1 MiB.
pub const MAX_CHUNK: usize = 1 << 20;
/// The first read of a file fetches at least this much (64 KiB).
const MIN_CHUNK: usize = 64 << 10;

/// What a finished backend operation hands back.
enum Done {
    Read(Vec<u8>, io::Result<usize>),
    Write(Vec<u8>, io::Result<()>),
    Seek(io::Result<u64>),
}

/// An open file on the event loop (aiofiles' `async with aiofiles.open(...) as f`).
///
/// It implements futures-io's [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`]. Writes are
/// buffered: call [`flush`](futures_io::AsyncWrite::poll_flush) (or `close`, or
/// [`sync_all`](File::sync_all)) to learn whether they succeeded. A `File` dropped with
/// buffered bytes still writes them, on the thread pool as work that the loop's shutdown waits
/// for (so they are not lost when `run` ends, nor when the task holding the file is
/// cancelled), and reports a failure to the loop's exception handler, since a drop cannot
/// return it.
///
/// ```
/// use futures_io::{AsyncRead, AsyncWrite};
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// # conductor::run(async {
/// let path = std::env::temp_dir().join(format!("conductor-doc-file-{}", std::process::id()));
/// let mut f = conductor::fs::File::create(&path).await.unwrap();
/// poll_fn(|cx| Pin::new(&mut f).poll_write(cx, b"hello")).await.unwrap();
/// f.sync_all().await.unwrap();
///
/// let mut f = conductor::fs::File::open(&path).await.unwrap();
/// let mut buf = [0; 16];
/// let n = poll_fn(|cx| Pin::new(&mut f).poll_read(cx, &mut buf)).await.unwrap();
/// assert_eq!(&buf[..n], b"hello");
/// conductor::fs::remove_file(&path).await.unwrap();
/// # });
/// ```
pub struct File {
    std: Arc<StdFile>,
    path: Arc<Path>,
    driver: Driver,
    /// Read-ahead: `rbuf[rpos..rend]` is unread.
    rbuf: Vec<u8>,
    rpos: usize,
    rend: usize,
    /// The size of the next read; doubles on consecutive reads.
    next_read: usize,
    /// The last read returned end of file (reported once).
    eof: bool,
    /// Bytes accepted by `poll_write` and not yet handed to the backend.
    wbuf: Vec<u8>,
    /// The buffer of the last finished write, reused for the next chunk (so a long stream of
    /// writes allocates two buffers, not one per chunk).
    spare: Vec<u8>,
    busy: Option<Job<Done>>,
    /// `busy` is a write (which a drop must finish before writing the buffer).
    writing: bool,
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .field("fd", &self.std.as_raw_fd())
            .field("busy", &self.busy.is_some())
            .finish()
    }
}

impl File {
    /// Opens a file for reading (aiofiles' `open(path, "rb")`).
    ///
    /// # Errors
    /// As [`std::fs::File::open`], with the path in the message.
    ///
    /// ```
    /// # conductor::run(async {
    /// let err = conductor::fs::File::open("/no/such/file").await.unwrap_err();
    /// assert_eq!(err.to_string(), "could not open /no/such/file: No such file or directory (os error 2)");
    /// # });
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Creates or truncates a file for writing (aiofiles' `open(path, "wb")`).
    ///
    /// # Errors
    /// As [`std::fs::File::create`], with the path in the message.
    ///
    /// ```
    /// # conductor::run(async {
    /// let dir = std::env::temp_dir(); // a directory cannot be opened for writing
    /// let err = conductor::fs::File::create(&dir).await.unwrap_err();
    /// assert!(err.to_string().contains(&*dir.to_string_lossy()));
    /// # });
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Options to open a file with (read, write, append, create...).
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open `std` file. Error messages name the path the OS reports for it.
    ///
    /// ```
    /// # conductor::run(async {
    /// let f = conductor::fs::File::from_std(std::fs::File::open("/dev/null").unwrap());
    /// assert_eq!(f.path(), std::path::Path::new("/dev/null"));
    /// # });
    /// ```
    pub fn from_std(file: StdFile) -> File {
        let fd = file.as_raw_fd();
        let path = std::fs::read_link(format!("/proc/self/fd/{fd}"))
            .unwrap_or_else(|_| PathBuf::from(format!("<file descriptor {fd}>")));
        File::new(file, path.into())
    }

    fn new(file: StdFile, path: Arc<Path>) -> File {
        File {
            std: Arc::new(file),
            path,
            driver: Driver::current(),
            rbuf: Vec::new(),
            rpos: 0,
            rend: 0,
            next_read: MIN_CHUNK,
            eof: false,
            wbuf: Vec::new(),
            spare: Vec::new(),
            busy: None,
            writing: false,
        }
    }

    /// The path this file was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the buffered bytes and waits until the data and metadata are on the device
    /// (`fsync`).
    ///
    /// # Errors
    /// From the write or the sync, with the path in the message.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.flush_buffer().await?;
        let f = self.std.clone();
        let path = self.path.clone();
        pool(move || f.sync_all().map_err(|e| with_path("sync", &path, e))).await
    }

    /// As [`sync_all`](Self::sync_all) without the metadata that reading does not need
    /// (`fdatasync`).
    ///
    /// # Errors
    /// From the write or the sync, with the path in the message.
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.flush_buffer().await?;
        let f = self.std.clone();
        let path = self.path.clone();
        pool(move || f.sync_data().map_err(|e| with_path("sync", &path, e))).await
    }

    /// Truncates or extends the file to `size` bytes (after writing the buffered bytes).
    ///
    /// # Errors
    /// As [`std::fs::File::set_len`], with the path in the message.
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.flush_buffer().await?;
        self.discard_read_ahead()?;
        let f = self.std.clone();
        let path = self.path.clone();
        pool(move || f.set_len(size).map_err(|e| with_path("truncate", &path, e))).await
    }

    /// The file's metadata (`fstat`).
    ///
    /// # Errors
    /// As [`std::fs::File::metadata`], with the path in the message.
    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        let f = self.std.clone();
        let path = self.path.clone();
        pool(move || f.metadata().map_err(|e| with_path("stat", &path, e))).await
    }

    async fn flush_buffer(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_buffer(cx)).await
    }

    /// Drives the operation in flight to its end. Its failure is returned here, whoever
    /// started it (a write accepted earlier reports at the next call); a finished seek gives
    /// its new position.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<u64>>> {
        let Some(job) = self.busy.as_mut() else {
            return Poll::Ready(Ok(None));
        };
        let done = ready!(job.as_mut().poll(cx));
        self.busy = None;
        self.writing = false;
        Poll::Ready(match done {
            Done::Read(buf, r) => {
                self.rbuf = buf;
                self.rpos = 0;
                self.rend = 0;
                match r {
                    Ok(n) => {
                        self.rend = n;
                        self.eof = n == 0;
                        Ok(None)
                    }
                    Err(e) => Err(with_path("read", &self.path, e)),
                }
            }
            Done::Write(mut buf, r) => {
                buf.clear();
                self.spare = buf;
                r.map(|()| None)
                    .map_err(|e| with_path("write", &self.path, e))
            }
            Done::Seek(r) => r.map(Some).map_err(|e| with_path("seek", &self.path, e)),
        })
    }

    fn start_write(&mut self) {
        let buf = std::mem::replace(&mut self.wbuf, std::mem::take(&mut self.spare));
        let job = self.driver.write_all(self.std.clone(), buf);
        self.writing = true;
        self.busy = Some(Box::pin(async move {
            let (buf, r) = job.await;
            Done::Write(buf, r)
        }));
    }

    fn poll_flush_buffer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_idle(cx))?;
            if self.wbuf.is_empty() {
                return Poll::Ready(Ok(()));
            }
            self.start_write();
        }
    }

    /// Moves the OS position back over the unread read-ahead, which is dropped.
    fn discard_read_ahead(&mut self) -> io::Result<()> {
        let unread = self.rend - self.rpos;
        self.rpos = 0;
        self.rend = 0;
        self.eof = false;
        self.next_read = MIN_CHUNK;
        if unread > 0 {
            // SEEK_CUR only does arithmetic on the open file's position: it never waits on a
            // device, so it runs on the loop's thread.
            match (&*self.std).seek(SeekFrom::Current(-(unread as i64))) {
                Ok(_) => {}
                // A pipe or terminal has no position to restore: its read and write sides are
                // separate streams, so nothing is lost by going on.
                Err(e) if e.raw_os_error() == Some(libc::ESPIPE) => {}
                Err(e) => return Err(with_path("seek", &self.path, e)),
            }
        }
        Ok(())
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            ready!(this.poll_idle(cx))?;
            if this.rpos < this.rend {
                let n = out.len().min(this.rend - this.rpos);
                out[..n].copy_from_slice(&this.rbuf[this.rpos..this.rpos + n]);
                this.rpos += n;
                return Poll::Ready(Ok(n));
            }
            if this.eof {
                this.eof = false;
                return Poll::Ready(Ok(0));
            }
            if out.is_empty() {
                return Poll::Ready(Ok(0));
            }
            if !this.wbuf.is_empty() {
                // Written bytes go first, so that the read sees them.
                this.start_write();
                continue;
            }
            let len = this.next_read.max(out.len()).min(MAX_CHUNK);
            this.next_read = (this.next_read * 2).min(MAX_CHUNK);
            let job = this
                .driver
                .read(this.std.clone(), std::mem::take(&mut this.rbuf), len);
            this.busy = Some(Box::pin(async move {
                let (buf, r) = job.await;
                Done::Read(buf, r)
            }));
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            ready!(this.poll_idle(cx))?;
            if this.rpos < this.rend || this.eof {
                this.discard_read_ahead()?;
            }
            if this.wbuf.len() < MAX_CHUNK {
                let n = data.len().min(MAX_CHUNK - this.wbuf.len());
                this.wbuf.extend_from_slice(&data[..n]);
                if this.wbuf.len() >= MAX_CHUNK {
                    // Full: start writing now; the next call waits for it.
                    this.start_write();
                }
                return Poll::Ready(Ok(n));
            }
            this.start_write();
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_buffer(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_buffer(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            if let Some(at) = ready!(this.poll_idle(cx))? {
                return Poll::Ready(Ok(at));
            }
            if !this.wbuf.is_empty() {
                this.start_write();
                continue;
            }
            // Relative seeks count from the logical position, behind the read-ahead.
            let unread = (this.rend - this.rpos) as i64;
            let pos = match pos {
                SeekFrom::Current(n) => SeekFrom::Current(n - unread),
                p => p,
            };
            this.rpos = 0;
            this.rend = 0;
            this.eof = false;
            this.next_read = MIN_CHUNK;
            let f = this.std.clone();
            let job = crate::to_thread(move || (&*f).seek(pos));
            this.busy = Some(Box::pin(async move {
                Done::Seek(
                    job.await
                        .unwrap_or_else(|e| Err(super::error::job_failed(e))),
                )
            }));
        }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // A read or seek in flight is abandoned (its operation owns its buffer); a write is
        // finished before the buffer follows it, in that order.
        let in_flight = self.busy.take().filter(|_| self.writing);
        if self.wbuf.is_empty() && in_flight.is_none() {
            return;
        }
        if !self.wbuf.is_empty() {
            let (n, path) = (self.wbuf.len(), self.path.clone());
            crate::runtime::debug_warning(|| {
                crate::runtime::ExceptionContext::new(
                    "A File was dropped with unflushed data: it is written in the background, \
                     where a failure reaches only the exception handler; flush() or close() first",
                )
                .with_detail("path", path.display())
                .with_detail("unflushed bytes", n)
            });
        }
        let flush = DropFlush {
            file: self.std.clone(),
            path: self.path.clone(),
            buf: std::mem::take(&mut self.wbuf),
            in_flight,
            report_to: crate::Handle::try_current(),
        };
        crate::blocking::spawn_mandatory(Box::new(move || flush.run()));
    }
}

/// The last write of a dropped `File`, run on the pool (or in place, off the loop).
struct DropFlush {
    file: Arc<StdFile>,
    path: Arc<Path>,
    buf: Vec<u8>,
    in_flight: Option<Job<Done>>,
    /// The loop the file was dropped on, whose exception handler hears of a failure.
    report_to: Option<crate::Handle>,
}

impl DropFlush {
    fn run(self) {
        if let Some(job) = self.in_flight {
            // The operation completes by itself (a pool job, an io_uring completion), waking
            // this thread.
            if let Done::Write(_, Err(e)) = crate::sync::block_on(job) {
                return report_drop_failure(self.report_to, &self.path, e);
            }
        }
        if self.buf.is_empty() {
            return;
        }
        use std::io::Write;
        if let Err(e) = (&*self.file).write_all(&self.buf) {
            report_drop_failure(self.report_to, &self.path, e);
        }
    }
}

fn report_drop_failure(to: Option<crate::Handle>, path: &Path, e: io::Error) {
    let context =
        crate::runtime::ExceptionContext::new("A dropped File could not write its buffered bytes")
            .with_error(with_path("write", path, e));
    match to {
        Some(handle) => handle.call_exception_handler(context),
        None => crate::runtime::call_exception_handler(context),
    }
}

/// How to open a [`File`]: `std::fs::OpenOptions`, opened off the loop.
///
/// ```
/// # conductor::run(async {
/// let path = std::env::temp_dir().join(format!("conductor-doc-opts-{}", std::process::id()));
/// let f = conductor::fs::OpenOptions::new().append(true).create(true).open(&path).await.unwrap();
/// drop(f);
/// conductor::fs::remove_file(&path).await.unwrap();
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions(std::fs::OpenOptions);

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenOptions {
    /// Nothing set: choose at least one of read, write or append.
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, on: bool) -> &mut Self {
        self.0.read(on);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, on: bool) -> &mut Self {
        self.0.write(on);
        self
    }

    /// Every write goes to the end of the file (`O_APPEND`).
    pub fn append(&mut self, on: bool) -> &mut Self {
        self.0.append(on);
        self
    }

    /// Truncate to zero length when opened for writing.
    pub fn truncate(&mut self, on: bool) -> &mut Self {
        self.0.truncate(on);
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, on: bool) -> &mut Self {
        self.0.create(on);
        self
    }

    /// Create the file, failing if it exists (`O_EXCL`).
    pub fn create_new(&mut self, on: bool) -> &mut Self {
        self.0.create_new(on);
        self
    }

    /// The permission bits of a created file (before the umask).
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags.
    pub fn custom_flags(&mut self, flags: i32) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }

    /// Opens `path` with these options, on the thread pool.
    ///
    /// # Errors
    /// As [`std::fs::OpenOptions::open`], with the path in the message.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path: Arc<Path> = path.as_ref().into();
        let opts = self.0.clone();
        let p = path.clone();
        let std = pool(move || opts.open(&p).map_err(|e| with_path("open", &p, e))).await?;
        Ok(File::new(std, path))
    }
}
