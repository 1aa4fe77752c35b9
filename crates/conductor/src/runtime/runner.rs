//! Ctrl-C in `run`, as asyncio's `Runner` handles it: the first SIGINT cancels the main task
//! (its cleanup runs: `Drop`s and `catch_cancel` blocks), and `run` then ends the process the
//! way an uncaught `KeyboardInterrupt` ends Python: killed by SIGINT, exit status 130 in a
//! shell. A second SIGINT, or one that arrives once the main task is done (during the
//! shutdown of the other tasks), ends the process at once.
//!
//! The handling is a fallback listener (see `signal::registry`): while the program listens for SIGINT
//! itself (`ctrl_c()`, `graceful_shutdown`), its listener gets the signal instead, as an
//! asyncio program's own `add_signal_handler(SIGINT, ...)` replaces the Runner's.
//!
//! The loop's one reach into `signal`, and only into its driver (the handler registry):
//! `Runtime::run` is the runner, as asyncio's `runners.py` is the one part of asyncio that
//! installs a SIGINT handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::Handle;
use crate::signal::registry::{self, Listener, Original};

/// What the fallback shares with the loop running the main task.
struct State {
    interrupts: AtomicUsize,
    main_done: AtomicBool,
    /// Wakes the loop, which then cancels the main task.
    wake: Handle,
}

/// The Ctrl-C handling of one `run`; removed when dropped.
pub(crate) struct CtrlC {
    state: Arc<State>,
    _listener: Option<Arc<Listener>>,
}

impl CtrlC {
    /// Starts handling SIGINT for the main task of the loop `wake` reaches. Inert when SIGINT
    /// was ignored before conductor listened (as asyncio, which installs its handler only over
    /// Python's default one: a program started with SIGINT ignored, by `nohup` or a shell's
    /// `&`, keeps ignoring it) or when the handler cannot be installed.
    pub(crate) fn install(wake: Handle) -> CtrlC {
        let state = Arc::new(State {
            interrupts: AtomicUsize::new(0),
            main_done: AtomicBool::new(false),
            wake,
        });
        let listener = match registry::original_disposition(libc::SIGINT) {
            Ok(Original::Ignore) | Err(_) => None,
            Ok(_) => {
                let s = state.clone();
                registry::listen_fallback(libc::SIGINT, Box::new(move || on_sigint(&s))).ok()
            }
        };
        CtrlC {
            state,
            _listener: listener,
        }
    }

    /// Whether a Ctrl-C asked for the main task's cancellation.
    pub(crate) fn interrupted(&self) -> bool {
        self.state.interrupts.load(Ordering::Acquire) > 0
    }

    /// The main task is done: from now on a Ctrl-C ends the process at once.
    pub(crate) fn main_done(&self) {
        self.state.main_done.store(true, Ordering::Release);
    }

    /// Ends the process as an uncaught `KeyboardInterrupt` ends Python's: by SIGINT. Call it
    /// once the loop is closed, so that destructors have run.
    pub(crate) fn exit(self) -> ! {
        drop(self);
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        registry::die_by(libc::SIGINT)
    }
}

/// On the dispatcher thread, for each SIGINT nobody else listens for.
fn on_sigint(state: &State) {
    let n = state.interrupts.fetch_add(1, Ordering::AcqRel) + 1;
    if n == 1 && !state.main_done.load(Ordering::Acquire) {
        // The loop may sleep in its selector: wake it, and it cancels the main task.
        if state.wake.call_soon_threadsafe(|| {}).is_ok() {
            return;
        }
    }
    // asyncio: a second Ctrl-C, or one after the main task ended, raises KeyboardInterrupt
    // wherever the program is; here the process ends now, as the user asked twice.
    registry::die_by(libc::SIGINT)
}
