//! The process-wide half: one handler per signal (through `signal-hook-registry`, so other
//! libraries' handlers keep working), a self-pipe, and one dispatcher thread that turns a
//! delivery into a wake of every listener of that signal, on whatever loop or thread it waits.
//!
//! Why a dispatcher thread rather than the self-pipe watched by each loop's selector: listeners
//! then outlive and span loops freely (several loops, loops created and dropped on one thread,
//! plain threads such as the process reaper), and the wake path is the one the thread pool uses
//! (a `Send` waker through the loop's remote queue). Signals are rare; one sleeping thread per
//! process is their whole cost.
//!
//! In the handler (async-signal context) only two things happen: an atomic store of the
//! signal's pending flag, and a `write(2)` of one byte to the non-blocking pipe. Everything else
//! (locks, wakers) runs on the dispatcher thread.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::Waker;

/// One more than the largest signal number Linux has (SIGRTMAX is 64).
const NSIG: usize = 65;

/// A listener's shared state: whether a delivery is waiting for it, and who to wake.
pub(crate) struct Listener {
    pub(crate) pending: AtomicBool,
    pub(crate) waker: Mutex<Option<Waker>>,
}

impl Listener {
    fn notify(&self) {
        self.pending.store(true, Ordering::Release);
        let w = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

struct Slot {
    /// Set by the handler, cleared by the dispatcher.
    pending: AtomicBool,
    /// `None` until the handler is installed.
    listeners: Mutex<Option<Vec<Weak<Listener>>>>,
}

struct Globals {
    write_fd: RawFd,
    slots: [Slot; NSIG],
}

static GLOBALS: OnceLock<io::Result<Globals>> = OnceLock::new();

fn globals() -> io::Result<&'static Globals> {
    match GLOBALS.get_or_init(start) {
        Ok(g) => Ok(g),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

fn start() -> io::Result<Globals> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded; the read end is ours alone from here on.
    let read = unsafe { OwnedFd::from_raw_fd(fds[0]) };
    // The dispatcher blocks on its end; only the handler's end must never block.
    set_blocking(read.as_raw_fd())?;
    std::thread::Builder::new()
        .name("conductor-signal".into())
        .spawn(move || dispatch(read))?;
    Ok(Globals {
        // Lives as long as the process: the handler may write to it at any moment.
        write_fd: fds[1],
        slots: std::array::from_fn(|_| Slot {
            pending: AtomicBool::new(false),
            listeners: Mutex::new(None),
        }),
    })
}

fn set_blocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The dispatcher thread: each byte on the pipe means "some signal is pending".
fn dispatch(read: OwnedFd) {
    let mut buf = [0u8; 128];
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes; `read` is open for this thread's life.
        let n = unsafe { libc::read(read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
        let Some(Ok(g)) = GLOBALS.get() else { continue };
        for slot in &g.slots {
            if !slot.pending.swap(false, Ordering::AcqRel) {
                continue;
            }
            let live: Vec<Arc<Listener>> = {
                let mut l = slot.listeners.lock().unwrap_or_else(|e| e.into_inner());
                let list = l.get_or_insert_with(Vec::new);
                list.retain(|w| w.strong_count() > 0);
                list.iter().filter_map(Weak::upgrade).collect()
            };
            for listener in live {
                listener.notify();
            }
        }
    }
}

/// Registers a listener for `signo`, installing the process-wide handler on first use.
pub(crate) fn listen(signo: i32) -> io::Result<Arc<Listener>> {
    if signo <= 0 || signo as usize >= NSIG {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signo} is not a signal number"),
        ));
    }
    if signal_hook_registry::FORBIDDEN.contains(&signo) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {signo} cannot be handled (SIGKILL and SIGSTOP cannot be caught; \
                 SIGSEGV, SIGBUS, SIGILL and SIGFPE must not be)"
            ),
        ));
    }
    let g = globals()?;
    let slot = &g.slots[signo as usize];
    let mut listeners = slot.listeners.lock().unwrap_or_else(|e| e.into_inner());
    if listeners.is_none() {
        let write_fd = g.write_fd;
        let slot: &'static Slot = slot;
        let action = move || {
            slot.pending.store(true, Ordering::Release);
            // SAFETY: write(2) is async-signal-safe; the pipe lives for the whole process.
            // A full pipe (EAGAIN) already holds a wake-up, so the result is not needed.
            unsafe { libc::write(write_fd, [signo as u8].as_ptr().cast(), 1) };
        };
        // SAFETY: `action` is async-signal-safe: an atomic store and write(2), no allocation,
        // no lock.
        unsafe { signal_hook_registry::register(signo, action) }?;
        *listeners = Some(Vec::new());
    }
    let listener = Arc::new(Listener {
        pending: AtomicBool::new(false),
        waker: Mutex::new(None),
    });
    listeners
        .as_mut()
        .expect("installed above")
        .push(Arc::downgrade(&listener));
    Ok(listener)
}
