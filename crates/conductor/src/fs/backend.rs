//! Where file work runs: the loop's thread pool, or io_uring. One small enum, [`Driver`], gives
//! both the same operations, so `File` and the whole-file helpers do not care which runs.
//!
//! The choice is made once per process (io_uring is probed: a kernel that refuses it with
//! ENOSYS or EPERM, or a build without the `io-uring` feature, means the pool), and a thread may
//! override it for the loops it runs with [`set_backend`].

use std::cell::Cell;
use std::fs::File as StdFile;
use std::future::Future;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use super::error::{job_failed, with_path};

/// A future that owns everything it works on (buffers, descriptors), so dropping it early is
/// safe whichever backend runs it.
pub(crate) type Job<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Which mechanism performs file IO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Blocking system calls on the loop's thread pool ([`to_thread`](crate::to_thread)), in
    /// large chunks.
    ThreadPool,
    /// io_uring submissions (Linux, `io-uring` feature), completions reaped by one thread per
    /// process.
    IoUring,
}

thread_local! {
    static CHOSEN: Cell<Option<Backend>> = const { Cell::new(None) };
}

/// The backend that file operations started on this thread use.
///
/// ```
/// let b = conductor::fs::backend();
/// assert!(b == conductor::fs::Backend::ThreadPool || b == conductor::fs::Backend::IoUring);
/// ```
pub fn backend() -> Backend {
    CHOSEN.with(Cell::get).unwrap_or_else(default_backend)
}

/// Chooses the backend for file operations started on this thread from now on (files already
/// open keep theirs). For benchmarks and tests; programs normally keep the default.
///
/// # Errors
/// `Unsupported` when asking for io_uring in a build without the `io-uring` feature or on a
/// kernel that refuses it.
///
/// ```
/// use conductor::fs::{set_backend, Backend};
/// set_backend(Backend::ThreadPool).unwrap();
/// assert_eq!(conductor::fs::backend(), Backend::ThreadPool);
/// ```
pub fn set_backend(backend: Backend) -> io::Result<()> {
    if backend == Backend::IoUring && !uring_available() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "io_uring is not available (built without the io-uring feature, or refused by the \
             kernel)",
        ));
    }
    CHOSEN.with(|c| c.set(Some(backend)));
    Ok(())
}

#[cfg(all(feature = "io-uring", target_os = "linux"))]
fn uring_available() -> bool {
    super::uring::Ring::get().is_some()
}

#[cfg(not(all(feature = "io-uring", target_os = "linux")))]
fn uring_available() -> bool {
    false
}

/// io_uring when it is available and `CONDUCTOR_IO_URING` is not `0`, else the pool.
fn default_backend() -> Backend {
    let off = std::env::var_os("CONDUCTOR_IO_URING").is_some_and(|v| v == "0");
    if !off && uring_available() {
        Backend::IoUring
    } else {
        Backend::ThreadPool
    }
}

/// The operations a backend performs. A closed enum rather than a trait object: two variants,
/// and every call site stays a plain `match`.
#[derive(Clone, Copy)]
pub(crate) enum Driver {
    Pool,
    #[cfg(all(feature = "io-uring", target_os = "linux"))]
    Uring(&'static super::uring::Ring),
}

impl Driver {
    pub(crate) fn current() -> Driver {
        match backend() {
            #[cfg(all(feature = "io-uring", target_os = "linux"))]
            Backend::IoUring => match super::uring::Ring::get() {
                Some(ring) => Driver::Uring(ring),
                None => Driver::Pool,
            },
            _ => Driver::Pool,
        }
    }

    /// One read of at most `len` bytes at the file's position into `buf[..len]` (grown to
    /// `len` if shorter); the result is the number of bytes read, at the start of `buf`.
    pub(crate) fn read(
        self,
        file: Arc<StdFile>,
        mut buf: Vec<u8>,
        len: usize,
    ) -> Job<(Vec<u8>, io::Result<usize>)> {
        if buf.len() < len {
            // Zeroed once per buffer; later reads reuse it.
            buf.resize(len, 0);
        }
        match self {
            Driver::Pool => Box::pin(async move {
                let job = crate::to_thread(move || {
                    // One system call, as `read(2)`: a pipe or terminal is not waited on to fill.
                    let r = loop {
                        match (&*file).read(&mut buf[..len]) {
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            r => break r,
                        }
                    };
                    (buf, r)
                });
                match job.await {
                    Ok(done) => done,
                    Err(e) => (Vec::new(), Err(job_failed(e))),
                }
            }),
            #[cfg(all(feature = "io-uring", target_os = "linux"))]
            Driver::Uring(ring) => Box::pin(ring.read(file, buf, len)),
        }
    }

    /// Writes all of `buf` at the file's position; a write that makes no progress is an error
    /// (`WriteZero`), never a silent truncation.
    pub(crate) fn write_all(
        self,
        file: Arc<StdFile>,
        buf: Vec<u8>,
    ) -> Job<(Vec<u8>, io::Result<()>)> {
        match self {
            Driver::Pool => Box::pin(async move {
                let job = crate::to_thread(move || {
                    let r = (&*file).write_all(&buf);
                    (buf, r)
                });
                match job.await {
                    Ok(done) => done,
                    Err(e) => (Vec::new(), Err(job_failed(e))),
                }
            }),
            #[cfg(all(feature = "io-uring", target_os = "linux"))]
            Driver::Uring(ring) => Box::pin(ring.write_all(file, buf)),
        }
    }

    /// The whole file at `path`.
    pub(crate) fn read_path(self, path: PathBuf) -> Job<io::Result<Vec<u8>>> {
        match self {
            Driver::Pool => Box::pin(pool(move || {
                let mut f = StdFile::open(&path).map_err(|e| with_path("open", &path, e))?;
                // The size is a hint: a file that grows or shrinks meanwhile is read to its end.
                let hint = f.metadata().map_or(0, |m| m.len() as usize);
                let mut data = Vec::with_capacity(hint.saturating_add(1));
                f.read_to_end(&mut data)
                    .map_err(|e| with_path("read", &path, e))?;
                Ok(data)
            })),
            #[cfg(all(feature = "io-uring", target_os = "linux"))]
            Driver::Uring(ring) => Box::pin(ring.read_path(path)),
        }
    }

    /// Creates or truncates `path` and writes `data` to it.
    pub(crate) fn write_path(self, path: PathBuf, data: Vec<u8>) -> Job<io::Result<()>> {
        match self {
            Driver::Pool => Box::pin(pool(move || {
                let mut f = StdFile::create(&path).map_err(|e| with_path("create", &path, e))?;
                f.write_all(&data).map_err(|e| with_path("write", &path, e))
            })),
            #[cfg(all(feature = "io-uring", target_os = "linux"))]
            Driver::Uring(ring) => Box::pin(ring.write_path(path, data)),
        }
    }
}

/// Runs `f` on the thread pool; a panic resumes here, a pool that shut down is an error.
pub(crate) async fn pool<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    crate::to_thread(f).await.map_err(job_failed)?
}
