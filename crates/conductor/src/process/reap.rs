//! Learning that a child exited, and reaping it so that no zombie remains.
//!
//! Two mechanisms, chosen once per process (and overridable per thread, for tests):
//! - **pidfd** (Linux 5.3+): `pidfd_open(pid)` gives a descriptor that becomes readable when
//!   the child exits; it is registered with the loop's selector like a socket.
//! - **SIGCHLD**: a listener of SIGCHLD (through `signal`); each delivery makes every waiting
//!   child try `waitpid(pid, WNOHANG)` on its own pid (never `waitpid(-1)`, which would steal
//!   the statuses of children spawned by other code).
//!
//! Either way the status is collected with `waitpid` on the child's own pid, only by its owner.
//! A `Child` dropped before its status was collected is adopted by the orphan reaper: one thread
//! per process that waits (pidfds and an eventfd in `poll(2)`, or SIGCHLD) and collects
//! statuses as the orphans exit. No `Child` is ever forgotten without a reaper, so none stays a
//! zombie.

use std::cell::Cell;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use rustix::event::{EventfdFlags, PollFd, PollFlags};
use rustix::process::{Pid, PidfdFlags};

use crate::io::{AsyncFd, Direction};
use crate::signal::{Signal, SignalKind, signal};

/// How a child's exit is noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaper {
    /// A pidfd per child, registered with the loop (Linux 5.3+).
    Pidfd,
    /// SIGCHLD deliveries, then `waitpid(pid, WNOHANG)` per waiting child.
    Sigchld,
}

thread_local! {
    static CHOSEN: Cell<Option<Reaper>> = const { Cell::new(None) };
}

/// The mechanism children spawned on this thread use: pidfd where the kernel has it, SIGCHLD
/// otherwise.
///
/// ```
/// let r = conductor::process::reaper();
/// assert!(r == conductor::process::Reaper::Pidfd || r == conductor::process::Reaper::Sigchld);
/// ```
pub fn reaper() -> Reaper {
    CHOSEN.with(Cell::get).unwrap_or_else(|| {
        if pidfd_available() {
            Reaper::Pidfd
        } else {
            Reaper::Sigchld
        }
    })
}

/// Chooses the mechanism for children spawned on this thread from now on. For tests and
/// benchmarks; programs keep the default.
///
/// # Errors
/// `Unsupported` when asking for pidfd on a kernel without `pidfd_open`.
///
/// ```
/// use conductor::process::{set_reaper, Reaper};
/// set_reaper(Reaper::Sigchld).unwrap();
/// assert_eq!(conductor::process::reaper(), Reaper::Sigchld);
/// ```
pub fn set_reaper(r: Reaper) -> io::Result<()> {
    if r == Reaper::Pidfd && !pidfd_available() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "pidfd_open is not available on this kernel (Linux 5.3+)",
        ));
    }
    CHOSEN.with(|c| c.set(Some(r)));
    Ok(())
}

fn pidfd_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| pidfd_open(std::process::id()).is_ok())
}

fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a process id"))?;
    Ok(rustix::process::pidfd_open(pid, PidfdFlags::empty())?)
}

/// What a `Child` waits on between its `waitpid` attempts.
pub(crate) enum ExitWatch {
    Pidfd(AsyncFd<OwnedFd>),
    Sigchld(Signal),
}

impl ExitWatch {
    /// Starts watching `pid`, which must be a child of this process that nobody reaped yet.
    /// Call before the first `try_wait`, so that an exit in between is not missed.
    pub(crate) fn new(pid: u32, how: Reaper) -> io::Result<ExitWatch> {
        match how {
            Reaper::Pidfd => Ok(ExitWatch::Pidfd(AsyncFd::new(pidfd_open(pid)?)?)),
            Reaper::Sigchld => Ok(ExitWatch::Sigchld(signal(SignalKind::child())?)),
        }
    }

    /// Ready when the child may have changed state: try `waitpid` again.
    pub(crate) fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            ExitWatch::Pidfd(fd) => match fd.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => {
                    // Readable means exited; should `waitpid` still say "running", wait for the
                    // next event rather than spin.
                    fd.clear_ready(Direction::Read);
                    Poll::Ready(Ok(()))
                }
                other => other,
            },
            ExitWatch::Sigchld(s) => s.poll_recv(cx).map(|_| Ok(())),
        }
    }

    /// The pidfd, taken out of the loop's selector, for the orphan reaper.
    fn into_pidfd(self) -> Option<Arc<OwnedFd>> {
        match self {
            // Off its loop, the descriptor stays in that selector until the orphan reaper
            // closes it; its events are then ignored.
            ExitWatch::Pidfd(fd) => Some(Arc::new(fd.into_inner())),
            ExitWatch::Sigchld(_) => None,
        }
    }
}

struct Orphan {
    child: std::process::Child,
    /// Shared with the reaper thread's `poll` while the list's lock is released.
    pidfd: Option<Arc<OwnedFd>>,
}

struct Orphans {
    list: Mutex<Vec<Orphan>>,
    /// An eventfd: new orphans, and SIGCHLD deliveries, wake the reaper thread through it.
    wake: Arc<EventFd>,
}

struct EventFd(OwnedFd);

impl Wake for EventFd {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // A saturated counter (EAGAIN) already means "wake up".
        let _ = rustix::io::write(&self.0, &1u64.to_ne_bytes());
    }
}

/// Hands a child whose status was not collected to the orphan reaper.
pub(crate) fn adopt(mut child: std::process::Child, watch: Option<ExitWatch>) {
    if !matches!(child.try_wait(), Ok(None)) {
        return; // exited and reaped just now (or not ours to reap)
    }
    let pidfd = watch.and_then(ExitWatch::into_pidfd);
    let orphans = match orphans() {
        Ok(o) => o,
        Err(e) => {
            // Without a reaper thread, the only way to not leave a zombie is to wait here.
            crate::runtime::call_exception_handler(
                crate::runtime::ExceptionContext::new(
                    "No orphan reaper could start; waiting for the dropped child in place",
                )
                .with_detail("pid", child.id())
                .with_error(e),
            );
            let _ = child.wait();
            return;
        }
    };
    orphans
        .list
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Orphan { child, pidfd });
    orphans.wake.wake_by_ref();
}

fn orphans() -> io::Result<&'static Orphans> {
    static ORPHANS: OnceLock<Result<Orphans, String>> = OnceLock::new();
    let o = ORPHANS.get_or_init(|| start_reaper().map_err(|e| e.to_string()));
    o.as_ref().map_err(|e| io::Error::other(e.clone()))
}

fn start_reaper() -> io::Result<Orphans> {
    let fd = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
    let wake = Arc::new(EventFd(fd));
    std::thread::Builder::new()
        .name("conductor-reaper".into())
        .spawn(reap_orphans)?;
    Ok(Orphans {
        list: Mutex::new(Vec::new()),
        wake,
    })
}

/// The orphan reaper thread.
fn reap_orphans() {
    // Started from `orphans()`'s initializer: this call waits until that has finished.
    let Ok(orphans) = orphans() else { return };
    let waker = Waker::from(orphans.wake.clone());
    let mut cx = Context::from_waker(&waker);
    let mut sigchld: Option<Signal> = None;
    loop {
        let pidfds: Vec<Arc<OwnedFd>> = {
            let mut list = orphans.list.lock().unwrap_or_else(|e| e.into_inner());
            if sigchld.is_none() && list.iter().any(|o| o.pidfd.is_none()) {
                match signal(SignalKind::child()) {
                    Ok(s) => sigchld = Some(s),
                    Err(e) => crate::runtime::call_exception_handler(
                        crate::runtime::ExceptionContext::new(
                            "The orphan reaper cannot watch SIGCHLD",
                        )
                        .with_error(e),
                    ),
                }
            }
            // Armed before the `waitpid`s below, so that an exit after them wakes us.
            if let Some(s) = sigchld.as_mut() {
                while s.poll_recv(&mut cx).is_ready() {}
            }
            list.retain_mut(|o| matches!(o.child.try_wait(), Ok(None)));
            list.iter().filter_map(|o| o.pidfd.clone()).collect()
        };
        let mut fds = vec![PollFd::new(&orphans.wake.0, PollFlags::IN)];
        fds.extend(pidfds.iter().map(|fd| PollFd::new(fd, PollFlags::IN)));
        // An error (EINTR) only means "look again", as a wake-up does.
        let _ = rustix::event::poll(&mut fds, None);
        let mut counter = [0u8; 8];
        // Non-blocking: nothing to read (EAGAIN) is fine.
        let _ = rustix::io::read(&orphans.wake.0, &mut counter);
    }
}
