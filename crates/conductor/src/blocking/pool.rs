//! The thread pool behind `to_thread`.
//!
//! Hand-over accounting, as tokio's `num_idle`/`num_notify` and Python's idle semaphore: a job
//! handed to an idle thread takes that thread out of `idle` at once (and counts one in
//! `notified`), so the next job sees no idle thread and starts another one instead of queueing
//! behind the first. A woken thread proceeds only by consuming a `notified` (a spurious
//! condvar wake-up goes back to waiting).
//!
//! Mandatory jobs (tokio's `spawn_mandatory_blocking`: a dropped `File`'s last write) are
//! accepted even after `shutdown`, and the loop's close waits for them (`wait_mandatory`), so
//! their work is not lost when the program ends.
//!
//! A driver: it uses only std threads; its owner says how to report what goes wrong.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// Told when the last job in flight finished (see [`Pool::new`]).
pub(crate) type OnIdle = Box<dyn Fn() + Send + Sync>;

pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    work: Condvar,
    /// Signalled when the last mandatory job finishes.
    mandatory_done: Condvar,
    /// Thread names: `<name>-<n>`.
    name: &'static str,
    max_threads: usize,
    keep_alive: Duration,
    /// Jobs accepted and not finished: while any runs, a paused clock must not jump.
    in_flight: AtomicUsize,
    on_idle: Option<OnIdle>,
    /// Told when a thread could not be started (the owner reports it to the loop).
    on_spawn_error: fn(std::io::Error),
}

struct State {
    queue: VecDeque<Job>,
    threads: usize,
    /// Threads waiting for work and not yet handed any.
    idle: usize,
    /// Hand-overs to idle threads not yet picked up.
    notified: usize,
    shutdown: bool,
    next_name: usize,
    /// Mandatory jobs accepted and not finished.
    mandatory: usize,
}

impl Pool {
    /// A pool of at most `max_threads`, idle ones exiting after `keep_alive`. `on_idle` runs on
    /// the finishing thread each time the count of work in flight drops to zero: a job wakes its
    /// task before it is counted finished, so a paused-clock loop that parked in between (still
    /// seeing work in flight, so not jumping) needs this second wake-up to jump.
    /// `on_spawn_error` hears of a thread that could not be started.
    pub(crate) fn new(
        name: &'static str,
        max_threads: usize,
        keep_alive: Duration,
        on_idle: Option<OnIdle>,
        on_spawn_error: fn(std::io::Error),
    ) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    shutdown: false,
                    next_name: 0,
                    mandatory: 0,
                }),
                work: Condvar::new(),
                mandatory_done: Condvar::new(),
                name,
                max_threads,
                keep_alive,
                in_flight: AtomicUsize::new(0),
                on_idle,
                on_spawn_error,
            }),
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// Counts work done elsewhere (the CPU pool) as in flight here until the guard drops.
    pub(crate) fn hold_in_flight(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.inner.clone())
    }

    /// Queues a job; false when the pool has shut down.
    pub(crate) fn execute(&self, job: Job) -> bool {
        let s = self.inner.lock();
        if s.shutdown {
            return false;
        }
        self.submit(s, job);
        true
    }

    /// Queues a job that the loop's close waits for, even after `shutdown`.
    pub(crate) fn execute_mandatory(&self, job: Job) {
        let mut s = self.inner.lock();
        s.mandatory += 1;
        let inner = self.inner.clone();
        let job = Box::new(move || {
            // Counted down even if the job panics.
            struct Done(Arc<Inner>);
            impl Drop for Done {
                fn drop(&mut self) {
                    let mut s = self.0.lock();
                    s.mandatory -= 1;
                    if s.mandatory == 0 {
                        self.0.mandatory_done.notify_all();
                    }
                }
            }
            let _done = Done(inner);
            job();
        });
        self.submit(s, job);
    }

    /// Waits until every mandatory job has run, or until `deadline`. Jobs that no thread could
    /// be started for run here.
    pub(crate) fn wait_mandatory(&self, deadline: Option<Instant>) {
        let mut s = self.inner.lock();
        while s.mandatory > 0 {
            if s.threads == 0
                && let Some(job) = s.queue.pop_front()
            {
                drop(s);
                self.inner.run(job);
                s = self.inner.lock();
                continue;
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return;
            }
            // Wakes at least every 100 ms to see whether threads are left to run the queue.
            let step = deadline.map_or(Duration::from_millis(100), |d| {
                (d - now).min(Duration::from_millis(100))
            });
            s = self
                .inner
                .mandatory_done
                .wait_timeout(s, step)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn submit(&self, mut s: std::sync::MutexGuard<'_, State>, job: Job) {
        self.inner.in_flight.fetch_add(1, Ordering::AcqRel);
        s.queue.push_back(job);
        if s.idle > 0 {
            s.idle -= 1;
            s.notified += 1;
            drop(s);
            self.inner.work.notify_one();
        } else if s.threads < self.inner.max_threads {
            s.threads += 1;
            s.next_name += 1;
            let name = format!("{}-{}", self.inner.name, s.next_name);
            drop(s);
            let inner = self.inner.clone();
            let spawned = std::thread::Builder::new()
                .name(name)
                .spawn(move || inner.worker());
            if let Err(e) = spawned {
                // The job stays queued for the threads that exist; with none, it waits until
                // a later `execute` manages to start one.
                (self.inner.on_spawn_error)(e);
                self.inner.lock().threads -= 1;
            }
        }
    }

    /// Threads running a job (or handed one), threads waiting for work, and jobs queued.
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let s = self.inner.lock();
        (s.threads - s.idle, s.idle, s.queue.len())
    }

    /// Refuses new jobs; idle threads exit, busy ones after their job.
    pub(crate) fn shutdown(&self) {
        self.inner.lock().shutdown = true;
        self.inner.work.notify_all();
    }
}

/// Work counted in a pool's `in_flight`, from [`Pool::hold_in_flight`].
pub(crate) struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.finished();
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a job taken off the queue.
    fn run(&self, job: Job) {
        // Jobs catch their own panics (see `to_thread`).
        job();
        self.finished();
    }

    /// One piece of work in flight is over; the last one tells `on_idle`.
    fn finished(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1
            && let Some(on_idle) = &self.on_idle
        {
            on_idle();
        }
    }

    fn worker(&self) {
        let mut s = self.lock();
        loop {
            if let Some(job) = s.queue.pop_front() {
                drop(s);
                self.run(job);
                s = self.lock();
                continue;
            }
            if s.shutdown {
                break;
            }
            s.idle += 1;
            let until = crate::time::clock::saturating_add(Instant::now(), self.keep_alive);
            loop {
                if s.notified > 0 {
                    // A job was handed to us (`execute` already took us out of `idle`).
                    s.notified -= 1;
                    break;
                }
                let left = until.saturating_duration_since(Instant::now());
                if s.shutdown || left.is_zero() {
                    s.idle -= 1;
                    s.threads -= 1;
                    return;
                }
                s = self
                    .work
                    .wait_timeout(s, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        s.threads -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Waits (bounded) until the pool has `n` idle threads.
    fn wait_idle(pool: &Pool, n: usize) {
        for _ in 0..5000 {
            if pool.inner.lock().idle == n {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("the pool never had {n} idle threads");
    }

    #[test]
    fn two_jobs_handed_to_one_idle_thread_start_a_second_thread() {
        let pool = Pool::new("test", 4, Duration::from_secs(10), None, |e| panic!("{e}"));
        let (done, finished) = mpsc::channel();
        let d = done.clone();
        assert!(pool.execute(Box::new(move || d.send(()).unwrap())));
        finished.recv_timeout(Duration::from_secs(5)).unwrap();
        wait_idle(&pool, 1);
        // Two jobs that need each other: on one thread, the first waits for the second forever.
        let (a_tx, a_rx) = mpsc::channel::<()>();
        let (b_tx, b_rx) = mpsc::channel::<()>();
        let d = done.clone();
        pool.execute(Box::new(move || {
            a_tx.send(()).unwrap();
            let met = b_rx.recv_timeout(Duration::from_secs(5)).is_ok();
            d.send(()).unwrap();
            assert!(met);
        }));
        let d = done;
        pool.execute(Box::new(move || {
            b_tx.send(()).unwrap();
            let met = a_rx.recv_timeout(Duration::from_secs(5)).is_ok();
            d.send(()).unwrap();
            assert!(met);
        }));
        assert_eq!(
            pool.inner.lock().threads,
            2,
            "the second job started a thread"
        );
        for _ in 0..2 {
            finished.recv_timeout(Duration::from_secs(10)).unwrap();
        }
        pool.shutdown();
    }

    #[test]
    fn a_spurious_wake_up_takes_no_job_that_was_not_handed_over() {
        let pool = Pool::new("test", 1, Duration::from_secs(10), None, |e| panic!("{e}"));
        let (tx, rx) = mpsc::channel();
        let t = tx.clone();
        pool.execute(Box::new(move || t.send(1).unwrap()));
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 1);
        wait_idle(&pool, 1);
        pool.inner.work.notify_all(); // as a spurious wake-up would
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(pool.inner.lock().idle, 1, "still idle, still countable");
        pool.execute(Box::new(move || tx.send(2).unwrap()));
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 2);
        pool.shutdown();
    }
}
