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
//! In the handler (async-signal context) only async-signal-safe things happen: an atomic store
//! of the signal's pending flag, a `write(2)` of one byte to the non-blocking pipe, and, when
//! no listener is alive, the signal's original disposition (below). Everything else (locks,
//! wakers) runs on the dispatcher thread.
//!
//! Listeners come and go, the process-wide handler stays (signal-hook-registry cannot remove
//! it). So that a signal nobody listens for any more does what it did before the first
//! listener (asyncio's `remove_signal_handler` restores `SIG_DFL`), each slot counts its live
//! listeners, and the handler, finding none, carries out the original disposition itself:
//! nothing if it was `SIG_IGN` (or a handler of another library, which signal-hook-registry
//! calls anyway), else the default action (terminate, by `SIG_DFL` and a re-raise; stop; or
//! nothing for the signals ignored by default).
//!
//! A listener is either a waker listener (`signal()`, `ctrl_c()`) or a fallback: a callback
//! run on the dispatcher thread only when no waker listener of the signal is alive (`run`'s
//! Ctrl-C handling, which a program's own `ctrl_c()` overrides, as an asyncio program's
//! `add_signal_handler(SIGINT)` replaces the Runner's handler).

// The `unsafe` of this module: the signal handler's registration, sigaction(2) and kill(2) of any signal number.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::OwnedFd;

use rustix::fs::OFlags;
use rustix::pipe::PipeFlags;
use rustix::process::Signal;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::Waker;

/// One more than the largest signal number Linux has (SIGRTMAX is 64).
const NSIG: usize = 65;

/// A fallback listener's action, run on the dispatcher thread.
pub(crate) type Fallback = Box<dyn Fn() + Send + Sync>;

/// A listener's shared state: whether a delivery is waiting for it, and who to wake.
pub(crate) struct Listener {
    pub(crate) pending: AtomicBool,
    pub(crate) waker: Mutex<Option<Waker>>,
    /// Set for a fallback listener (see the module doc).
    fallback: Option<Fallback>,
    /// Counted in this slot's `live`.
    slot: &'static Slot,
}

impl Listener {
    fn notify(&self) {
        if let Some(f) = &self.fallback {
            return f();
        }
        self.pending.store(true, Ordering::Release);
        let w = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.slot.live.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a signal did before its handler was installed.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Original {
    /// `SIG_DFL`.
    Default = 0,
    /// `SIG_IGN`.
    Ignore = 1,
    /// A handler of some other code (signal-hook-registry chains to it).
    Handler = 2,
}

struct Slot {
    /// Set by the handler, cleared by the dispatcher.
    pending: AtomicBool,
    /// Listeners alive (waker or fallback).
    live: AtomicUsize,
    /// An `Original`, recorded when the handler is installed.
    original: AtomicU8,
    /// `None` until the handler is installed.
    listeners: Mutex<Option<Vec<Weak<Listener>>>>,
}

struct Globals {
    write_fd: OwnedFd,
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
    let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
    // The dispatcher blocks on its end; only the handler's end must never block.
    set_blocking(&read)?;
    std::thread::Builder::new()
        .name("conductor-signal".into())
        .spawn(move || dispatch(read))?;
    Ok(Globals {
        // Lives as long as the process: the handler may write to it at any moment.
        write_fd: write,
        slots: std::array::from_fn(|_| Slot {
            pending: AtomicBool::new(false),
            live: AtomicUsize::new(0),
            original: AtomicU8::new(Original::Default as u8),
            listeners: Mutex::new(None),
        }),
    })
}

fn set_blocking(fd: &OwnedFd) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    Ok(rustix::fs::fcntl_setfl(fd, flags - OFlags::NONBLOCK)?)
}

/// The dispatcher thread: each byte on the pipe means "some signal is pending".
fn dispatch(read: OwnedFd) {
    let mut buf = [0u8; 128];
    loop {
        if let Err(e) = rustix::io::read(&read, &mut buf)
            && e != rustix::io::Errno::INTR
        {
            return;
        }
        let Some(Ok(g)) = GLOBALS.get() else { continue };
        for slot in &g.slots {
            if !slot.pending.swap(false, Ordering::AcqRel) {
                continue;
            }
            let mut live: Vec<Arc<Listener>> = {
                let mut l = slot.listeners.lock().unwrap_or_else(|e| e.into_inner());
                let list = l.get_or_insert_with(Vec::new);
                list.retain(|w| w.strong_count() > 0);
                list.iter().filter_map(Weak::upgrade).collect()
            };
            // Fallbacks act only when nobody else listens.
            if live.iter().any(|l| l.fallback.is_none()) {
                live.retain(|l| l.fallback.is_none());
            }
            for listener in live {
                listener.notify();
            }
        }
    }
}

/// Registers a listener for `signo`, installing the process-wide handler on first use.
pub(crate) fn listen(signo: i32) -> io::Result<Arc<Listener>> {
    listen_with(signo, None)
}

/// Registers a fallback listener: `action` runs on the dispatcher thread for a delivery of
/// `signo` while no waker listener of it is alive.
pub(crate) fn listen_fallback(signo: i32, action: Fallback) -> io::Result<Arc<Listener>> {
    listen_with(signo, Some(action))
}

/// What `signo` did before conductor's handler, as far as it knows now: read from the OS if the
/// handler is not installed yet.
pub(crate) fn original_disposition(signo: i32) -> io::Result<Original> {
    let g = globals()?;
    let slot = g
        .slots
        .get(signo as usize)
        .ok_or_else(|| not_a_signal(signo))?;
    let installed = slot
        .listeners
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_some();
    if installed {
        return Ok(original_of(slot));
    }
    current_disposition(signo)
}

fn original_of(slot: &Slot) -> Original {
    match slot.original.load(Ordering::Acquire) {
        1 => Original::Ignore,
        2 => Original::Handler,
        _ => Original::Default,
    }
}

fn current_disposition(signo: i32) -> io::Result<Original> {
    // SAFETY: a zeroed sigaction is a valid out-parameter; a null `act` only queries.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `old` is a valid, writable sigaction; nothing is installed.
    if unsafe { libc::sigaction(signo, std::ptr::null(), &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(match old.sa_sigaction {
        libc::SIG_DFL => Original::Default,
        libc::SIG_IGN => Original::Ignore,
        _ => Original::Handler,
    })
}

/// kill(2): sends `signo` to process `pid` (a child, or this process). The one kill of the
/// crate, through libc because rustix names only the standard signals and a `SignalKind` may be
/// a real-time one.
pub(crate) fn kill(pid: u32, signo: i32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "not a process id"))?;
    // SAFETY: kill(2) takes a pid and a signal number, both plain integers; no memory is passed.
    if unsafe { libc::kill(pid, signo) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn not_a_signal(signo: i32) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{signo} is not a signal number"),
    )
}

/// In the handler, with no listener alive: what the signal did before conductor listened.
/// Only async-signal-safe calls (`kill`, and `die_by`'s).
fn act_as_original(signo: i32, original: Original) {
    if original != Original::Default {
        return; // ignored, or another handler that signal-hook-registry already called
    }
    match signo {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT => {}
        libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => {
            // kill(2) is async-signal-safe; SIGSTOP stops the process, as the default.
            let _ = rustix::process::kill_process(rustix::process::getpid(), Signal::STOP);
        }
        _ => die_by(signo),
    }
}

/// Ends the process the way `signo`'s default action does (so that a parent sees "killed by
/// SIGINT", as Python's exit on an uncaught KeyboardInterrupt shows): `SIG_DFL`, then the
/// signal, unblocked. Async-signal-safe. Falls back to `_exit(128 + signo)` if the signal does
/// not end the process.
pub(crate) fn die_by(signo: i32) -> ! {
    // SAFETY: sigaction, sigprocmask, raise and _exit are async-signal-safe; the structures are
    // zeroed (valid) and filled before use.
    unsafe {
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signo, &dfl, std::ptr::null_mut());
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signo);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signo);
        libc::_exit(128 + signo)
    }
}

fn listen_with(signo: i32, fallback: Option<Fallback>) -> io::Result<Arc<Listener>> {
    if signo <= 0 || signo as usize >= NSIG {
        return Err(not_a_signal(signo));
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
    let slot: &'static Slot = &g.slots[signo as usize];
    let mut listeners = slot.listeners.lock().unwrap_or_else(|e| e.into_inner());
    // Counted before the handler can run for this listener, and before the lock is released.
    slot.live.fetch_add(1, Ordering::AcqRel);
    let listener = Arc::new(Listener {
        pending: AtomicBool::new(false),
        waker: Mutex::new(None),
        fallback,
        slot,
    });
    if listeners.is_none() {
        slot.original
            .store(current_disposition(signo)? as u8, Ordering::Release);
        let write_fd: &'static OwnedFd = &g.write_fd;
        let action = move || {
            // Decide before publishing: once the byte is written, the dispatcher may wake every
            // listener and they may all be gone before this handler resumes, and a count read
            // then would take a delivered signal for one nobody listened to.
            if slot.live.load(Ordering::Acquire) == 0 {
                return act_as_original(signo, original_of(slot));
            }
            slot.pending.store(true, Ordering::Release);
            // write(2) is async-signal-safe; the pipe lives for the whole process. A full
            // pipe (EAGAIN) already holds a wake-up, so the result is not needed.
            let _ = rustix::io::write(write_fd, &[signo as u8]);
        };
        // SAFETY: `action` is async-signal-safe: atomic loads and stores, write(2), and in
        // `act_as_original` kill(2) or `die_by`'s sigaction(2), sigprocmask and raise(3); no
        // allocation, no lock.
        unsafe { signal_hook_registry::register(signo, action) }?;
        *listeners = Some(Vec::new());
    }
    let list = listeners.as_mut().expect("installed above");
    // Listeners that are gone leave their entries until a delivery or a new listener prunes
    // them, so that a program running many loops (each `run` listens) keeps the list short.
    list.retain(|w| w.strong_count() > 0);
    list.push(Arc::downgrade(&listener));
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_that_are_gone_do_not_accumulate() {
        let signo = libc::SIGUSR2;
        for _ in 0..1000 {
            drop(listen(signo).unwrap());
        }
        let kept = listen(signo).unwrap();
        let g = globals().unwrap();
        let slot = &g.slots[signo as usize];
        let entries = slot.listeners.lock().unwrap().as_ref().unwrap().len();
        assert_eq!(entries, 1, "only the live listener is kept");
        assert!(slot.live.load(Ordering::Acquire) >= 1);
        drop(kept);
    }
}
