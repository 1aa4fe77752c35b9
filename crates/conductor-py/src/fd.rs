//! Readiness (`add_reader`/`add_writer`): one `conductor::io::AsyncFd` per descriptor and a
//! conductor task that queues the descriptor on the ready queue when it is ready. asyncio's
//! selectors are level-triggered, conductor's edge-triggered: after the callbacks ran, a
//! zero-timeout `poll(2)` says whether the descriptor is still ready, and the task looks again
//! at the next iteration (a still-ready descriptor is queued once per iteration, as asyncio's).
//! A reader that knows it drained the socket (the Rust transport's: a short read)
//! says so with `note_drained`, and the read side then needs no `poll(2)`.
//!
//! A descriptor whose callbacks are all removed stays registered until the end of the loop
//! iteration (`LoopCore::_run_once` sweeps it then), so that the remove-then-add of each
//! `sock_recv`/`sock_sendall` wait reuses its registration and task rather than making new
//! ones; a descriptor closed and its number reused in between is told apart by its file
//! (`FileId`, `fstat(2)`'s device and inode).

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::task::{Poll, Waker};

use conductor::io::{AsyncFd, Direction};
use pyo3::prelude::*;

use crate::ready::{Ready, State, run_handle};

thread_local! {
    /// The descriptor whose reader last said it drained it (`note_drained`), or -1.
    static DRAINED: Cell<RawFd> = const { Cell::new(-1) };
}

/// Called by a reader whose read of `fd` was short (it took all there was): its data readiness
/// is cleared without asking `poll(2)` (a peer's close seen with it stays).
pub(crate) fn note_drained(fd: RawFd) {
    DRAINED.with(|d| d.set(fd));
}

/// A descriptor as `AsyncFd` wants it; Python owns it (closing it is Python's business).
pub(crate) struct Fd(pub(crate) RawFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Which open file a descriptor is (`fstat(2)`'s device and inode), to tell a reused number.
pub(crate) type FileId = Option<(u64, u64)>;

/// The file `fd` is now (`None` if `fstat` fails, e.g. closed).
pub(crate) fn file_id(fd: RawFd) -> FileId {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is writable memory of a `stat`'s size; fstat(2) fills it on success, and it
    // is read only then.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat succeeded, so `st` is initialized.
    let st = unsafe { st.assume_init() };
    Some((st.st_dev, st.st_ino))
}

/// One descriptor with a reader or a writer (asyncio's selector key), or idle (neither) until
/// the end of the iteration.
pub(crate) struct FdEntry {
    pub(crate) fd: RawFd,
    /// The file the registration is for.
    pub(crate) file: FileId,
    /// `None` once both callbacks are gone: the registration is dropped at once, so the same
    /// descriptor can be registered again right away.
    pub(crate) afd: RefCell<Option<AsyncFd<Fd>>>,
    pub(crate) reader: RefCell<Option<Py<PyAny>>>,
    pub(crate) writer: RefCell<Option<Py<PyAny>>>,
    /// The waker of the task serving this descriptor, to tell it of a new callback.
    pub(crate) waker: RefCell<Option<Waker>>,
    /// An event of this descriptor waits in the ready queue: the task does not queue another.
    pub(crate) queued: Cell<bool>,
}

impl FdEntry {
    /// Neither a reader nor a writer: swept at the end of the iteration unless one comes back.
    pub(crate) fn is_idle(&self) -> bool {
        self.reader.borrow().is_none() && self.writer.borrow().is_none()
    }

    /// Whether `fd` is still the file this entry registered (not closed and its number reused).
    pub(crate) fn same_file(&self) -> bool {
        self.file.is_some() && file_id(self.fd) == self.file
    }

    /// Drops the registration (the descriptor leaves the selector) and ends the task.
    pub(crate) fn release(&self) {
        let afd = self.afd.borrow_mut().take();
        drop(afd);
        self.wake();
    }

    pub(crate) fn wake(&self) {
        if let Some(w) = self.waker.borrow().as_ref() {
            w.wake_by_ref();
        }
    }

    /// Whether the descriptor is still readable / writable now (zero-timeout poll(2)); `read`
    /// and `write` say which sides to ask about (none: no system call).
    fn still_ready(&self, read: bool, write: bool) -> (bool, bool) {
        if !read && !write {
            return (false, false);
        }
        let mut p = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN | libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: `p` is one valid, initialized pollfd, and the count says one; a zero timeout
        // never blocks.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        if n <= 0 {
            return (false, false);
        }
        let bad = p.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0;
        (
            bad || p.revents & libc::POLLIN != 0,
            bad || p.revents & libc::POLLOUT != 0,
        )
    }
}

/// The task serving one descriptor: queues it on the ready queue while it is readable (with a
/// reader) or writable (with a writer), until both callbacks are removed.
pub(crate) async fn serve_fd(entry: Rc<FdEntry>, st: Rc<State>) {
    poll_fn(|cx| {
        *entry.waker.borrow_mut() = Some(cx.waker().clone());
        let afd = entry.afd.borrow();
        let Some(afd) = afd.as_ref() else {
            return Poll::Ready(());
        };
        if entry.queued.get() {
            return Poll::Pending; // `run_fd` wakes the task once the callbacks ran
        }
        let read = entry.reader.borrow().is_some() && afd.poll_read_ready(cx).is_ready();
        let write = entry.writer.borrow().is_some() && afd.poll_write_ready(cx).is_ready();
        if read || write {
            entry.queued.set(true);
            st.push(Ready::Fd(entry.clone(), read, write));
        }
        Poll::Pending
    })
    .await;
}

/// Runs the reader and/or writer of a ready descriptor, then re-arms it: a descriptor no longer
/// ready is cleared (the next poll registers with the selector), and its task looks again.
pub(crate) fn run_fd(
    py: Python<'_>,
    st: &State,
    e: &FdEntry,
    read: bool,
    write: bool,
) -> PyResult<()> {
    let run = || -> PyResult<()> {
        // The borrows end before the callbacks run: they may remove themselves.
        let reader = e.reader.borrow().as_ref().map(|h| h.clone_ref(py));
        if read && let Some(h) = reader {
            run_handle(py, st, h.bind(py))?;
        }
        let writer = e.writer.borrow().as_ref().map(|h| h.clone_ref(py));
        if write && let Some(h) = writer {
            run_handle(py, st, h.bind(py))?;
        }
        Ok(())
    };
    DRAINED.with(|d| d.set(-1));
    let r = run();
    let drained = DRAINED.with(|d| d.replace(-1)) == e.fd;
    let (still_r, still_w) = e.still_ready(read && !drained, write);
    if let Some(afd) = e.afd.borrow().as_ref() {
        if read && drained {
            afd.clear_data_ready(Direction::Read); // a peer's FIN seen with it stays
        } else if read && !still_r {
            afd.clear_ready(Direction::Read);
        }
        if write && !still_w {
            afd.clear_ready(Direction::Write);
        }
    }
    e.queued.set(false);
    e.wake();
    st.turn_needed.set(true);
    r
}
