//! Graceful shutdown on SIGINT/SIGTERM: stop accepting, let the work in flight finish within a
//! grace period, cancel what is left, and report what happened with the conventional exit
//! status.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{SignalKind, signal};
use crate::sync::Event;
use crate::task::{Task, TaskRef};

/// What [`graceful_shutdown`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// The signal that started the shutdown; `None` when the server returned by itself.
    pub signal: Option<SignalKind>,
    /// Whether the grace period ran out with work still in flight.
    pub deadline_hit: bool,
    /// In-flight tasks that finished by themselves (before or during the grace period).
    pub finished: usize,
    /// In-flight tasks cancelled when the grace period ran out.
    pub cancelled: usize,
}

impl ShutdownReport {
    /// The exit status by the shell's convention: 128 + the signal's number (130 after SIGINT,
    /// 143 after SIGTERM), 0 when no signal stopped the server. A supervisor reading it learns
    /// the program stopped because it was asked to.
    pub fn exit_code(&self) -> i32 {
        self.signal.map_or(0, SignalKind::exit_code)
    }

    /// Ends the process with [`exit_code`](Self::exit_code). Call it after the loop has
    /// returned (`conductor::run(...)` gave this report), so that destructors have run.
    pub fn exit(&self) -> ! {
        std::process::exit(self.exit_code())
    }
}

/// The work in flight of a server under [`graceful_shutdown`]: spawn each request's or
/// connection's task through it so the shutdown waits for it.
#[derive(Clone, Default)]
pub struct InFlight {
    inner: Rc<Inner>,
}

#[derive(Default)]
struct Inner {
    tasks: RefCell<Vec<TaskRef>>,
    active: Cell<usize>,
    finished: Cell<usize>,
    cancelled: Cell<usize>,
    idle: Event,
}

impl InFlight {
    /// Spawns `future` as a task that the shutdown waits for (and cancels if the grace period
    /// runs out).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let task = crate::spawn(future);
        let r = task.task_ref();
        self.inner.active.set(self.inner.active.get() + 1);
        self.inner.idle.clear();
        self.inner.tasks.borrow_mut().push(r.clone());
        let inner = self.inner.clone();
        r.add_done_callback(move |done| {
            let counter = if done.is_cancelled() {
                &inner.cancelled
            } else {
                &inner.finished
            };
            counter.set(counter.get() + 1);
            inner.active.set(inner.active.get() - 1);
            inner.tasks.borrow_mut().retain(|t| !t.same_task(&done));
            if inner.active.get() == 0 {
                inner.idle.set();
            }
        });
        task
    }

    /// Tasks spawned through this and not finished.
    pub fn len(&self) -> usize {
        self.inner.active.get()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    async fn idle(&self) {
        if self.inner.active.get() > 0 {
            self.inner.idle.wait().await;
        }
    }
}

/// The future returned by [`graceful_shutdown`].
#[must_use = "the shutdown helper does nothing unless awaited"]
pub struct Shutdown {
    inner: Pin<Box<dyn Future<Output = ShutdownReport>>>,
}

impl Future for Shutdown {
    type Output = ShutdownReport;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ShutdownReport> {
        self.inner.as_mut().poll(cx)
    }
}

/// Runs a server until SIGINT or SIGTERM, then shuts it down gracefully:
/// 1. stop accepting: the task running `serve` is cancelled (it may catch the cancellation
///    with [`catch_cancel`](crate::catch_cancel) to close its listener);
/// 2. the tasks spawned through the [`InFlight`] handed to `serve` get `grace` to finish;
/// 3. those still running are then cancelled, and awaited (so their cleanup runs);
/// 4. the [`ShutdownReport`] says which signal came, whether the deadline hit, and gives the
///    exit status (130 for SIGINT, 143 for SIGTERM: [`ShutdownReport::exit`]).
///
/// The handlers are installed before this returns, so a signal that arrives from then on is
/// never missed (and no longer kills the process: the report's exit does that).
///
/// # Errors
/// When the signal handlers cannot be installed.
///
/// ```standalone_crate
/// use std::time::Duration;
/// use conductor::signal::{graceful_shutdown, SignalKind};
///
/// // The paused clock: the timings below hold however loaded the machine is. (Standalone: a
/// // doctest of its own process, so no other doctest's SIGINT reaches this one.)
/// let rt = conductor::Runtime::builder().paused_clock().build().unwrap();
/// let report = rt.block_on(async {
///     let shutdown = graceful_shutdown(Duration::from_secs(5), |in_flight| async move {
///         // An accept loop: each "request" takes 50 ms.
///         loop {
///             in_flight.spawn(conductor::sleep(Duration::from_millis(50))).detach();
///             conductor::sleep(Duration::from_millis(10)).await;
///         }
///     })
///     .unwrap();
///     // Someone presses Ctrl-C after a while:
///     conductor::call_later(Duration::from_millis(100), || {
///         // graceful_shutdown installed a SIGINT handler.
///         conductor::signal::raise_signal(SignalKind::interrupt()).unwrap();
///     });
///     shutdown.await
/// });
/// assert_eq!(report.signal, Some(SignalKind::interrupt()));
/// assert!(!report.deadline_hit && report.cancelled == 0 && report.finished >= 5);
/// assert_eq!(report.exit_code(), 130);
/// ```
pub fn graceful_shutdown<F, Fut>(grace: Duration, serve: F) -> io::Result<Shutdown>
where
    F: FnOnce(InFlight) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let inner = async move {
        let in_flight = InFlight::default();
        let mut server = crate::spawn(serve(in_flight.clone()));
        let mut server_done = false;
        let signal = poll_fn(|cx| {
            if int.poll_recv(cx).is_ready() {
                return Poll::Ready(Some(SignalKind::interrupt()));
            }
            if term.poll_recv(cx).is_ready() {
                return Poll::Ready(Some(SignalKind::terminate()));
            }
            if let Poll::Ready(r) = Pin::new(&mut server).poll(cx) {
                server_done = true;
                if let Err(e) = r {
                    drop(e.resume_panic());
                }
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        if !server_done {
            server.cancel();
            if let Err(e) = server.await {
                drop(e.resume_panic());
            }
        }
        let deadline_hit = crate::timeout(grace, in_flight.idle()).await.is_err();
        if deadline_hit {
            let left: Vec<TaskRef> = in_flight.inner.tasks.borrow().clone();
            for t in left {
                t.cancel_with("graceful shutdown: the grace period ran out");
            }
            in_flight.idle().await;
        }
        ShutdownReport {
            signal,
            deadline_hit,
            finished: in_flight.inner.finished.get(),
            cancelled: in_flight.inner.cancelled.get(),
        }
    };
    Ok(Shutdown {
        inner: Box::pin(inner),
    })
}
