//! Unix signals on the loop (asyncio's `loop.add_signal_handler`): [`ctrl_c`], a stream of any
//! signal ([`signal`]), and graceful shutdown on SIGINT/SIGTERM ([`graceful_shutdown`]).
//! `run`'s Ctrl-C handling (asyncio's `Runner`) lives with the loop (`runtime/runner.rs`), on
//! this module's driver, `registry`.
//!
//! A signal's process-wide handler is installed at its first listener and stays (through
//! `signal-hook-registry`, which chains to handlers other libraries install). While no listener
//! is alive, the handler does what the signal did before the first one (asyncio's
//! `remove_signal_handler` restores the default): SIGINT and SIGTERM end the process again once
//! the last `Signal` is dropped. (tokio keeps swallowing them.) Caveat: another library that
//! registers its own action for the same signal through `signal-hook-registry` does not count
//! as a listener here.
//!
//! Every listener of a signal is notified of each delivery, whichever loop (or plain thread)
//! it waits on; deliveries that arrive before a listener looks are coalesced into one, as the
//! OS coalesces standard signals.
//!
//! Internals: `registry` (the handlers, the self-pipe and the dispatcher thread), `shutdown`
//! (the graceful-shutdown helper). Uses `std::task::Waker`, the task API and `sync::Event`;
//! nothing of net, fs or process.

// `unsafe` only in registry.rs, which allow it and say why; `forbid` would reach them too.
#![deny(unsafe_code)]

pub(crate) mod registry;
mod shutdown;

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use futures_core::Stream;

pub use shutdown::{InFlight, Shutdown, ShutdownReport, graceful_shutdown};

/// A Unix signal number, with names for the common ones.
///
/// ```
/// use conductor::signal::SignalKind;
/// assert_eq!(SignalKind::interrupt().as_raw(), libc::SIGINT);
/// assert_eq!(SignalKind::terminate().to_string(), "SIGTERM");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// Any signal by number (`libc::SIGWINCH`, a real-time signal...).
    pub const fn from_raw(signo: i32) -> SignalKind {
        SignalKind(signo)
    }
    /// The signal's number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }
    /// SIGINT: Ctrl-C at a terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }
    /// SIGTERM: the polite request to stop (`kill`, systemd, Kubernetes).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }
    /// SIGHUP: the terminal went away; daemons use it to reload.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }
    /// SIGQUIT: Ctrl-\ at a terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }
    /// SIGUSR1.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }
    /// SIGUSR2.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }
    /// SIGCHLD: a child process changed state.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }
    /// SIGALRM.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }
    /// SIGPIPE: a write to a pipe nobody reads (Rust programs ignore it by default).
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }
    /// SIGWINCH: the terminal was resized.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// The exit status a shell reports for a process killed by this signal: 128 + its number
    /// (130 for SIGINT, 143 for SIGTERM).
    pub const fn exit_code(self) -> i32 {
        128 + self.0
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            libc::SIGHUP => "SIGHUP",
            libc::SIGINT => "SIGINT",
            libc::SIGQUIT => "SIGQUIT",
            libc::SIGKILL => "SIGKILL",
            libc::SIGUSR1 => "SIGUSR1",
            libc::SIGUSR2 => "SIGUSR2",
            libc::SIGPIPE => "SIGPIPE",
            libc::SIGALRM => "SIGALRM",
            libc::SIGTERM => "SIGTERM",
            libc::SIGCHLD => "SIGCHLD",
            libc::SIGWINCH => "SIGWINCH",
            n => return write!(f, "signal {n}"),
        };
        f.write_str(name)
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Starts listening for `kind` (asyncio's `loop.add_signal_handler(sig, callback)`, as a
/// stream: `while sig.recv().await.is_some() { callback() }`).
///
/// Deliveries from the moment this returns are seen; several that arrive before the next
/// [`recv`](Signal::recv) count as one. Every `Signal` of the same kind, on any loop, sees each
/// delivery.
///
/// # Errors
/// `InvalidInput` for SIGKILL and SIGSTOP (which cannot be caught) and for SIGSEGV, SIGBUS,
/// SIGILL and SIGFPE (which must not be); the OS's error if the handler cannot be installed.
///
/// ```
/// use conductor::signal::{signal, SignalKind};
/// # conductor::run(async {
/// let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
/// // Handled by the listener `signal` installed above.
/// conductor::signal::raise_signal(SignalKind::user_defined1()).unwrap();
/// usr1.recv().await;
/// assert!(signal(SignalKind::from_raw(libc::SIGKILL)).is_err());
/// # });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    Ok(Signal {
        kind,
        listener: registry::listen(kind.0)?,
    })
}

/// Waits for one Ctrl-C (SIGINT). Listening starts when this is called, not when the future
/// is first polled, so a Ctrl-C in between is not missed. While the future is alive, Ctrl-C
/// comes here instead of to `run`'s handling ([`Runtime::run`](crate::Runtime::run)); once it
/// is dropped and no other listener is left, Ctrl-C does what it did before.
///
/// The future fails when the handler cannot be installed.
///
/// ```standalone_crate
/// # // Standalone: a process of its own, so its SIGINT reaches no other doctest.
/// # conductor::run(async {
/// let ctrl_c = conductor::signal::ctrl_c(); // listening from here
/// // `ctrl_c` installed a SIGINT handler, so this does not end the process.
/// conductor::signal::raise_signal(conductor::signal::SignalKind::interrupt()).unwrap();
/// ctrl_c.await.unwrap();
/// # });
/// ```
pub fn ctrl_c() -> impl Future<Output = io::Result<()>> {
    let listening = signal(SignalKind::interrupt());
    async move {
        listening?.recv().await;
        Ok(())
    }
}

/// Sends `kind` to this process (Python's `signal.raise_signal`, or `os.kill(os.getpid(),
/// sig)`): every thread may take it, as with a signal from outside. Without a listener (or
/// another handler) the signal's default action applies: SIGINT and SIGTERM end the process.
///
/// # Errors
/// When `kill(2)` refuses the signal number.
///
/// ```
/// use conductor::signal::{raise_signal, signal, SignalKind};
/// # conductor::run(async {
/// let mut hup = signal(SignalKind::hangup()).unwrap();
/// raise_signal(SignalKind::hangup()).unwrap();
/// hup.recv().await;
/// # });
/// ```
pub fn raise_signal(kind: SignalKind) -> io::Result<()> {
    registry::kill(std::process::id(), kind.0)
}

/// A stream of deliveries of one signal, from [`signal`].
pub struct Signal {
    kind: SignalKind,
    listener: Arc<registry::Listener>,
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}

impl Signal {
    /// The signal listened for.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// Waits for the next delivery. Never returns `None` (the `Option` matches tokio's
    /// `Signal::recv`, and the stream's end).
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if self.listener.pending.swap(false, Ordering::AcqRel) {
            return Poll::Ready(Some(()));
        }
        *self
            .listener
            .waker
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        // A delivery between the check and storing the waker found no waker: look again.
        if self.listener.pending.swap(false, Ordering::AcqRel) {
            return Poll::Ready(Some(()));
        }
        Poll::Pending
    }
}

impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}
