//! The io_uring backend: one ring per process, and one thread that reaps its completions.
//!
//! Why a completion thread (asleep on an eventfd that every completion signals) rather than an
//! eventfd on each loop's selector: a ring's completions are then independent of any loop's
//! lifetime (loops come and go on threads; a `File` outlives the loop that opened it), and the
//! wake path is the one the thread pool already uses (a `Send` waker through the loop's remote
//! queue), so nothing in the engine changes. The cost is one thread per process, asleep on the
//! eventfd while nothing completes. Operations the kernel completes inside the submitting call
//! (most page-cache reads, cached opens) are collected by the submitter right away, so their
//! futures are ready at the first poll.
//!
//! Why every completion signals the eventfd (`IORING_REGISTER_EVENTFD`), not only those of the
//! kernel's worker threads (`..._EVENTFD_ASYNC`): many completions come from neither the
//! submitting call nor a worker. A read of a cold file finishes through task work once the
//! disk has read the page, a read of an empty FIFO once the pipe turns readable, both run in
//! the submitting thread's context at some later system call; with the asynchronous-only
//! eventfd nobody was told of them, and the read hung until some other submission drained the
//! queue. The price is a wake-up of this thread for completions the submitter collects itself
//! (it then finds the queue drained), off the loop's thread.
//!
//! Invariants that make the raw pointers in submission entries sound:
//! - every operation's memory (buffers, the path, the descriptor) lives in an `Inner` behind an
//!   `Arc`, and one reference to it travels with the submission (`user_data`) until the reaper
//!   takes the completion: dropping the future early never frees what the kernel uses;
//! - pointers go to heap memory (a `Vec`'s or a `CString`'s), which does not move when the
//!   owning value moves into the `Inner`;
//! - the submission queue is touched only under `sq`, the completion queue only under `cq`.

// The `unsafe` of this module: io_uring submissions, whose buffers the kernel writes.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::File as StdFile;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use io_uring::{IoUring, Probe, opcode, squeue, types};

use super::error::with_path;
use crate::sync::oneshot;

/// Largest length of one read or write entry (the entry's length field is 32 bits).
const MAX_OP: usize = 1 << 30;

pub(crate) struct Ring {
    ring: IoUring,
    sq: Mutex<()>,
    cq: Mutex<()>,
}

static RING: OnceLock<Option<&'static Ring>> = OnceLock::new();

impl Ring {
    /// The process's ring, set up at the first call; `None` when the kernel refuses io_uring
    /// (ENOSYS, EPERM under a seccomp filter or `io_uring_disabled`) or lacks what this backend
    /// needs.
    pub(crate) fn get() -> Option<&'static Ring> {
        *RING.get_or_init(|| match Ring::probe() {
            Ok(ring) => Some(ring),
            Err(e) => {
                if std::env::var_os("CONDUCTOR_DEBUG").is_some_and(|v| v == "1") {
                    eprintln!("conductor: io_uring unavailable, files use the thread pool: {e}");
                }
                None
            }
        })
    }

    fn probe() -> io::Result<&'static Ring> {
        let ring = IoUring::new(256)?;
        // Reads and writes at the file position (5.6), and no completion ever dropped (5.5).
        if !ring.params().is_feature_rw_cur_pos() || !ring.params().is_feature_nodrop() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "kernel too old (needs 5.6)",
            ));
        }
        let mut probe = Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        for code in [
            opcode::Read::CODE,
            opcode::Write::CODE,
            opcode::OpenAt::CODE,
            opcode::Close::CODE,
        ] {
            if !probe.is_supported(code) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("io_uring opcode {code} unsupported"),
                ));
            }
        }
        let efd = rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC)?;
        // Signalled for every completion, whatever context posts it (see the module doc).
        ring.submitter().register_eventfd(efd.as_raw_fd())?;
        let ring: &'static Ring = Box::leak(Box::new(Ring {
            ring,
            sq: Mutex::new(()),
            cq: Mutex::new(()),
        }));
        std::thread::Builder::new()
            .name("conductor-uring".into())
            .spawn(move || ring.reap(efd))?;
        Ok(ring)
    }

    /// The completion thread: sleeps on the eventfd, and collects what completed (whatever the
    /// submitters have not collected already).
    fn reap(&self, efd: OwnedFd) {
        let mut count = [0u8; 8];
        loop {
            if let Err(e) = rustix::io::read(&efd, &mut count)
                && e != rustix::io::Errno::INTR
            {
                crate::runtime::call_exception_handler(
                    crate::runtime::ExceptionContext::new("The io_uring completion thread stops")
                        .with_error(io::Error::from(e)),
                );
                return;
            }
            self.drain();
            // Completions that found the queue full wait in the kernel (NODROP); an enter
            // moves them in (the crate asks for GETEVENTS when the overflow flag is up).
            let _ = self.ring.submit();
            self.drain();
        }
    }

    /// Hands every completion in the queue to its operation. Submitters call it right after
    /// their submission: an operation the kernel finished inside the submitting call (a
    /// page-cache read, a cached open) is then ready at the future's first poll. Every caller
    /// waits for the lock, so no completion is left behind by a caller that gave up.
    fn drain(&self) {
        let _guard = self.cq.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the lock gives this thread the only access to the completion queue.
        let cq = unsafe { self.ring.completion_shared() };
        for cqe in cq {
            // SAFETY: `user_data` is a pointer from `Box::into_raw` in `submit`, and each
            // submission completes exactly once, so it is reclaimed exactly once.
            let done = unsafe { Box::from_raw(cqe.user_data() as *mut Arc<dyn Complete>) };
            done.complete(cqe.result());
        }
    }

    /// Submits the entry that `make` builds from `data` (whose heap memory the entry points
    /// into), and returns the operation's future.
    ///
    /// # Safety
    /// The entry may point only into heap memory owned by `data` or to memory that lives for
    /// the whole program, and `data` must not free or reallocate it before it is dropped.
    unsafe fn submit<T: Send + 'static>(
        &self,
        mut data: T,
        make: impl FnOnce(&mut T) -> squeue::Entry,
    ) -> Op<T> {
        let entry = make(&mut data);
        let (tx, rx) = oneshot::channel();
        let inner = Arc::new(Inner {
            pending: Mutex::new(Some((data, tx))),
        });
        let token: Box<Arc<dyn Complete>> = Box::new(inner);
        let entry = entry.user_data(Box::into_raw(token) as u64);
        let guard = self.sq.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            // SAFETY: the lock gives this thread the only access to the submission queue.
            let mut sq = unsafe { self.ring.submission_shared() };
            // SAFETY: the entry's memory is owned by `inner` (caller's contract), which the
            // token keeps alive until the completion is reaped.
            if unsafe { sq.push(&entry) }.is_ok() {
                sq.sync();
                break;
            }
            drop(sq);
            // Full: hand the queued entries to the kernel, then retry.
            if let Err(e) = self.ring.submit() {
                if e.raw_os_error() != Some(libc::EBUSY) {
                    crate::runtime::call_exception_handler(
                        crate::runtime::ExceptionContext::new(
                            "An io_uring submit failed; retrying",
                        )
                        .with_error(e),
                    );
                }
                std::thread::yield_now();
            }
        }
        let submitted = self.ring.submit();
        drop(guard);
        self.drain();
        if let Err(e) = submitted {
            self.resubmit(e);
        }
        Op { rx }
    }

    /// After a failed enter the entry is still queued: retry, making room in the completion
    /// queue between tries (EBUSY: completions wait for it), so that it is not left behind.
    fn resubmit(&self, mut err: io::Error) {
        for _ in 0..1000 {
            match err.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EBUSY | libc::EAGAIN) => std::thread::yield_now(),
                _ => break,
            }
            let r = {
                let _guard = self.sq.lock().unwrap_or_else(|e| e.into_inner());
                self.ring.submit()
            };
            self.drain();
            match r {
                Ok(_) => return,
                Err(e) => err = e,
            }
        }
        crate::runtime::call_exception_handler(
            crate::runtime::ExceptionContext::new("An io_uring submission failed").with_error(err),
        );
    }

    /// One read at the file position into `buf[..len]`.
    pub(crate) async fn read(
        &'static self,
        file: Arc<StdFile>,
        buf: Vec<u8>,
        len: usize,
    ) -> (Vec<u8>, io::Result<usize>) {
        let fd = file.as_raw_fd();
        let len = len.min(buf.len()).min(MAX_OP) as u32;
        // SAFETY: the entry points into `buf`'s heap memory, owned by the operation.
        let op = unsafe {
            self.submit((file, buf), |(_, buf)| {
                opcode::Read::new(types::Fd(fd), buf.as_mut_ptr(), len)
                    .offset(u64::MAX) // -1: the file position, as read(2)
                    .build()
            })
        };
        let (res, (_, buf)) = op.await;
        (buf, result(res).map(|n| n as usize))
    }

    /// Writes all of `buf`, at the file position (`offset` None) or from `offset` on.
    async fn write_at(
        &'static self,
        file: Arc<dyn AsRawFd + Send + Sync>,
        mut buf: Vec<u8>,
        offset: Option<u64>,
    ) -> (Vec<u8>, io::Result<()>) {
        let fd = file.as_raw_fd();
        let mut done = 0;
        while done < buf.len() {
            let len = (buf.len() - done).min(MAX_OP) as u32;
            let at = offset.map_or(u64::MAX, |o| o + done as u64);
            // SAFETY: the entry points into `buf`'s heap memory, owned by the operation.
            let op = unsafe {
                self.submit((file.clone(), buf), |(_, buf)| {
                    opcode::Write::new(types::Fd(fd), buf.as_ptr().add(done), len)
                        .offset(at)
                        .build()
                })
            };
            let (res, (_, b)) = op.await;
            buf = b;
            match result(res) {
                Ok(0) => return (buf, Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => done += n as usize,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (buf, Err(e)),
            }
        }
        (buf, Ok(()))
    }

    pub(crate) async fn write_all(
        &'static self,
        file: Arc<StdFile>,
        buf: Vec<u8>,
    ) -> (Vec<u8>, io::Result<()>) {
        self.write_at(file, buf, None).await
    }

    async fn open(&'static self, path: &Path, flags: i32) -> io::Result<Arc<OwnedFd>> {
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: the entry points into the CString's heap memory, owned by the operation.
        let op = unsafe {
            self.submit(c, |c| {
                opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), c.as_ptr())
                    .flags(flags | libc::O_CLOEXEC)
                    .mode(0o666)
                    .build()
            })
        };
        let fd = result(op.await.0)?;
        // SAFETY: a successful openat returned a new descriptor that nothing else owns.
        Ok(Arc::new(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }))
    }

    /// Closes through the ring and reports the result (where NFS reports delayed write
    /// errors).
    async fn close(&'static self, fd: Arc<OwnedFd>) -> io::Result<()> {
        let fd = match Arc::try_unwrap(fd) {
            Ok(fd) => std::os::fd::IntoRawFd::into_raw_fd(fd),
            Err(_) => return Ok(()), // still shared: the last owner closes it
        };
        // SAFETY: the entry holds no pointer; the descriptor is ours and closed once, here.
        let op = unsafe { self.submit((), |_| opcode::Close::new(types::Fd(fd)).build()) };
        result(op.await.0).map(drop)
    }

    pub(crate) async fn read_path(&'static self, path: PathBuf) -> io::Result<Vec<u8>> {
        let fd = self
            .open(&path, libc::O_RDONLY)
            .await
            .map_err(|e| with_path("open", &path, e))?;
        let raw = fd.as_raw_fd();
        // No size query first (IORING_OP_STATX always runs on a kernel worker thread). When
        // the buffer is full, a 32-byte probe read looks for the end, as std's `read_to_end`
        // does, so that a file that fits is never copied into a bigger buffer (freshly mapped
        // memory costs a page fault per 4 KiB).
        const PROBE: usize = 32;
        let mut data: Vec<u8> = Vec::with_capacity(64 << 10);
        let mut probe: Vec<u8> = Vec::new();
        loop {
            let filled = data.len();
            let full = filled == data.capacity();
            if full && probe.capacity() < PROBE {
                probe.reserve(PROBE);
            }
            let len = if full {
                PROBE
            } else {
                (data.capacity() - filled).min(MAX_OP)
            } as u32;
            // SAFETY: the entry points into the spare capacity of `data` or of `probe` (heap,
            // owned by the operation, at least `len` bytes); the kernel writes at most `len`.
            let op = unsafe {
                self.submit((fd.clone(), data, probe), |(_, d, p)| {
                    let at = if full {
                        p.as_mut_ptr()
                    } else {
                        d.as_mut_ptr().add(filled)
                    };
                    opcode::Read::new(types::Fd(raw), at, len)
                        .offset(filled as u64)
                        .build()
                })
            };
            let (res, (_, d, p)) = op.await;
            (data, probe) = (d, p);
            match result(res) {
                Ok(0) => break,
                Ok(n) if full => {
                    // SAFETY: the kernel initialized the first `n` bytes of the probe (n <=
                    // PROBE, its capacity, and it was empty).
                    unsafe { probe.set_len(n as usize) };
                    data.extend_from_slice(&probe); // grows the buffer (doubling)
                    probe.clear();
                }
                Ok(n) => {
                    // SAFETY: the kernel initialized `n` bytes past `filled` (n <= len, which
                    // fits the spare capacity).
                    unsafe { data.set_len(filled + n as usize) };
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(with_path("read", &path, e)),
            }
        }
        // A read-only descriptor has nothing to flush: closing it cannot fail in a way that
        // matters, and `OwnedFd`'s drop does it without a trip through the ring.
        drop(fd);
        Ok(data)
    }

    pub(crate) async fn write_path(&'static self, path: PathBuf, data: Vec<u8>) -> io::Result<()> {
        let fd = self
            .open(&path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC)
            .await
            .map_err(|e| with_path("create", &path, e))?;
        let (_, r) = self.write_at(fd.clone(), data, Some(0)).await;
        r.map_err(|e| with_path("write", &path, e))?;
        self.close(fd)
            .await
            .map_err(|e| with_path("close", &path, e))
    }
}

fn result(res: i32) -> io::Result<u32> {
    if res < 0 {
        Err(io::Error::from_raw_os_error(-res))
    } else {
        Ok(res as u32)
    }
}

/// What the reaper calls when an operation completes.
trait Complete: Send + Sync {
    fn complete(&self, res: i32);
}

/// An operation's data (which the kernel reads or writes until the completion) and the channel
/// its result goes back on: both stay here until the completion, also when the future was
/// dropped, so the kernel never touches freed memory.
struct Inner<T> {
    pending: Mutex<Option<Pending<T>>>,
}

/// The data and where the completion goes, until it comes.
type Pending<T> = (T, oneshot::Sender<(i32, T)>);

impl<T: Send + 'static> Complete for Inner<T> {
    fn complete(&self, res: i32) {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((data, tx)) = pending {
            // A future dropped meanwhile drops the data here, the kernel being done with it.
            let _ = tx.send((res, data));
        }
    }
}

/// An operation in flight: resolves to the kernel's result and the data handed back.
struct Op<T> {
    rx: oneshot::Receiver<(i32, T)>,
}

impl<T: Send + 'static> Future for Op<T> {
    type Output = (i32, T);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(i32, T)> {
        Pin::new(&mut self.rx).poll(cx).map(|r| {
            // The sender goes only with `complete`, which every accepted submission reaches.
            r.expect("io_uring completes every operation it accepted")
        })
    }
}
