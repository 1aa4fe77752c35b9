//! Waits across threads that a regression turns into a failure, never into a hung suite.

use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use conductor::{RemoteTask, TaskError};

/// How long a wait for another thread may take before the test calls it a hang: far longer
/// than any of these waits takes on a loaded machine, so only a bug reaches it.
pub const HANG: Duration = Duration::from_secs(60);

/// A meeting point for `parties` threads (`std::sync::Barrier` with a bound): proof that they
/// ran at the same time.
pub struct Rendezvous {
    parties: usize,
    arrived: Mutex<usize>,
    all_here: Condvar,
}

impl Rendezvous {
    pub fn new(parties: usize) -> Self {
        Rendezvous {
            parties,
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
        }
    }

    /// Arrives and waits for the others (at most [`HANG`]); true when all of them arrived.
    pub fn meet(&self) -> bool {
        let mut n = self.arrived.lock().unwrap();
        *n += 1;
        self.all_here.notify_all();
        let (_n, waited) = self
            .all_here
            .wait_timeout_while(n, HANG, |n| *n < self.parties)
            .unwrap();
        !waited.timed_out()
    }
}

/// `task.wait()` on another thread; panics if it has not returned within [`HANG`].
pub fn wait_bounded<T: Send + 'static>(task: RemoteTask<T>) -> Result<T, TaskError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(task.wait());
    });
    rx.recv_timeout(HANG).expect("a remote task's wait() hangs")
}
