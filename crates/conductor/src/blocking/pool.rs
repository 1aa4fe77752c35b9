//! The thread pool behind `to_thread`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    work: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    /// Jobs accepted and not finished: while any runs, a paused clock must not jump.
    in_flight: AtomicUsize,
}

struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    shutdown: bool,
    next_name: usize,
}

impl Pool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    shutdown: false,
                    next_name: 0,
                }),
                work: Condvar::new(),
                max_threads,
                keep_alive,
                in_flight: AtomicUsize::new(0),
            }),
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// Queues a job; false when the pool has shut down.
    pub(crate) fn execute(&self, job: Job) -> bool {
        let mut s = self.inner.lock();
        if s.shutdown {
            return false;
        }
        self.inner.in_flight.fetch_add(1, Ordering::AcqRel);
        s.queue.push_back(job);
        if s.idle > 0 {
            drop(s);
            self.inner.work.notify_one();
        } else if s.threads < self.inner.max_threads {
            s.threads += 1;
            s.next_name += 1;
            let name = format!("conductor-blocking-{}", s.next_name);
            drop(s);
            let inner = self.inner.clone();
            let spawned = std::thread::Builder::new()
                .name(name)
                .spawn(move || inner.worker());
            if let Err(e) = spawned {
                // The job stays queued for the threads that exist; with none, it waits until
                // a later `execute` manages to start one.
                eprintln!("conductor: could not start a thread-pool thread: {e}");
                self.inner.lock().threads -= 1;
            }
        }
        true
    }

    /// Refuses new jobs; idle threads exit, busy ones after their job.
    pub(crate) fn shutdown(&self) {
        self.inner.lock().shutdown = true;
        self.inner.work.notify_all();
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn worker(&self) {
        let mut s = self.lock();
        loop {
            if let Some(job) = s.queue.pop_front() {
                drop(s);
                // Jobs catch their own panics (see `to_thread`).
                job();
                self.in_flight.fetch_sub(1, Ordering::AcqRel);
                s = self.lock();
                continue;
            }
            if s.shutdown {
                break;
            }
            s.idle += 1;
            let until = crate::time::clock::saturating_add(Instant::now(), self.keep_alive);
            let mut timed_out = false;
            while s.queue.is_empty() && !s.shutdown {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    timed_out = true;
                    break;
                }
                s = self
                    .work
                    .wait_timeout(s, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            s.idle -= 1;
            if timed_out && s.queue.is_empty() {
                break;
            }
        }
        s.threads -= 1;
    }
}
