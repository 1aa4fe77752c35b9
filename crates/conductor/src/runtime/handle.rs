//! `Handle`: reach a loop from any thread (asyncio's `call_soon_threadsafe` and
//! `run_coroutine_threadsafe`), and `RemoteTask`, the result of work sent that way.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use super::core::with_core;
use super::exception::{ExceptionContext, default_exception_handler};
use super::remote::Remote;
use super::shared::Shared;
use crate::sync::oneshot;
use crate::task::{Task, TaskError, TaskPtr};

/// A loop's address, usable from any thread. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

/// The loop behind a [`Handle`] has shut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopClosed;

impl fmt::Display for LoopClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the event loop has shut down")
    }
}

impl std::error::Error for LoopClosed {}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("loop", &self.shared.id)
            .finish()
    }
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Handle { shared }
    }

    /// The handle of the loop running on this thread.
    ///
    /// # Panics
    /// Outside a running conductor loop; see [`try_current`](Self::try_current).
    pub fn current() -> Handle {
        Self::try_current().expect("Handle::current called outside a running conductor loop")
    }

    /// The handle of the loop running on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        with_core(|c| c.map(|c| Handle::new(c.shared.clone())))
    }

    /// Runs `f` on the loop's thread at its next iteration (asyncio's `call_soon_threadsafe`),
    /// waking the loop if it sleeps.
    ///
    /// # Errors
    /// [`LoopClosed`] when the loop has shut down; `f` is dropped.
    #[track_caller]
    pub fn call_soon_threadsafe(
        &self,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), LoopClosed> {
        self.shared
            .remote
            .push(Remote::Call(Box::new(f), Location::caller()))
            .map_err(|_| LoopClosed)
    }

    /// Reports `context` to the loop's exception handler from any thread: the handler runs on
    /// the loop's thread at its next iteration (or while it closes). When the loop is gone, the
    /// [`default_exception_handler`] reports it here.
    ///
    /// ```
    /// use conductor::runtime::ExceptionContext;
    /// use std::sync::{Arc, Mutex};
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let rt = conductor::Runtime::builder()
    ///     .exception_handler(move |ctx| log.lock().unwrap().push(ctx.message().to_owned()))
    ///     .build()
    ///     .unwrap();
    /// let handle = rt.handle();
    /// std::thread::spawn(move || {
    ///     handle.call_exception_handler(ExceptionContext::new("a worker thread failed"))
    /// })
    /// .join()
    /// .unwrap();
    /// drop(rt); // the report is delivered while the loop closes, at the latest
    /// assert_eq!(*seen.lock().unwrap(), ["a worker thread failed"]);
    /// ```
    pub fn call_exception_handler(&self, context: ExceptionContext) {
        if let Err(Remote::Report(context)) =
            self.shared.remote.push(Remote::Report(Box::new(context)))
        {
            default_exception_handler(&context);
        }
    }

    /// Spawns a `Send` future on the loop from any thread (asyncio's
    /// `run_coroutine_threadsafe`).
    ///
    /// ```
    /// let rt = conductor::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let remote = std::thread::spawn(move || handle.spawn(async { 40 + 2 }))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(remote).unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> RemoteTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(move || future)
    }

    /// Spawns the future that `make` builds on the loop's thread, so that the future itself need
    /// not be `Send` (it may hold `Rc`), only the closure that builds it. A panic in `make`
    /// ends the remote task with that panic (as asyncio's future gets the exception of a task
    /// factory that raises); the loop goes on.
    ///
    /// ```
    /// let rt = conductor::Runtime::new().unwrap();
    /// let remote = rt.handle().spawn_with(|| {
    ///     let shared = std::rc::Rc::new(20); // the future need not be `Send`
    ///     async move { *shared + 1 }
    /// });
    /// assert_eq!(rt.block_on(remote).unwrap(), 21);
    /// ```
    #[track_caller]
    pub fn spawn_with<M, F>(&self, make: M) -> RemoteTask<F::Output>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let task = Arc::new(Mutex::new(None));
        let finish = Finish(Some((tx, task.clone())));
        // A closure the loop refuses (it has shut down), or drops unrun when it closes, drops
        // `finish` with it: the remote task ends cancelled.
        let _refused = self.call_soon_threadsafe(move || {
            let future = match std::panic::catch_unwind(AssertUnwindSafe(make)) {
                Ok(f) => f,
                Err(panic) => return finish.finish(Err(TaskError::Panicked(panic))),
            };
            let task = crate::spawn(future);
            finish.set_task(task.local().ptr());
            let task_ref = task.task_ref();
            let watch = DoneWatch {
                task,
                finish: Some(finish),
            };
            // Run at completion, or dropped unrun when the loop closes: either way `watch`
            // finishes the remote task.
            task_ref.add_done_callback(move |_| drop(watch));
        });
        RemoteTask {
            rx: Some(rx),
            task,
            handle: self.clone(),
        }
    }
}

/// The running task of a remote task, for `RemoteTask::cancel`: set and cleared on the loop's
/// thread, read there too (the `RemoteTask` side only hands it to the loop).
type RunningTask = Arc<Mutex<Option<TaskPtr>>>;

/// The loop side of a remote task's channel. It ends the task when it goes away: with the
/// result given to [`finish`](Self::finish), or cancelled when it is dropped unused (the
/// closure that holds it never ran because the loop closed, or the task was destroyed with its
/// loop), so that every `RemoteTask` ends, whatever happens to its loop.
struct Finish<T>(Option<(oneshot::Sender<Result<T, TaskError>>, RunningTask)>);

impl<T> Finish<T> {
    fn finish(mut self, result: Result<T, TaskError>) {
        if let Some((tx, task)) = self.0.take() {
            *task.lock().unwrap_or_else(|e| e.into_inner()) = None;
            // A `RemoteTask` dropped meanwhile drops the result here.
            let _ = tx.send(result);
        }
    }

    fn set_task(&self, ptr: TaskPtr) {
        if let Some((_, task)) = &self.0 {
            *task.lock().unwrap_or_else(|e| e.into_inner()) = Some(ptr);
        }
    }
}

impl<T> Drop for Finish<T> {
    fn drop(&mut self) {
        if self.0.is_some() {
            Finish(self.0.take()).finish(Err(TaskError::cancelled(Some(
                "the event loop has shut down".into(),
            ))));
        }
    }
}

/// A remote task's `Task` handle, kept by its done-callback: when the callback runs (or is
/// dropped by a closing loop), the task's result goes to the slot; a task destroyed before it
/// completed ends cancelled (through `Finish`'s drop).
struct DoneWatch<T> {
    task: Task<T>,
    finish: Option<Finish<T>>,
}

impl<T> Drop for DoneWatch<T> {
    fn drop(&mut self) {
        if self.task.is_done()
            && let Some(finish) = self.finish.take()
        {
            finish.finish(self.task.result());
        }
    }
}

/// A task sent to a loop through a [`Handle`]: a `Send` future of its result, awaitable from any
/// loop, or waited for from plain threads with [`wait`](Self::wait) (asyncio's
/// `concurrent.futures.Future` from `run_coroutine_threadsafe`).
///
/// It always ends: with the task's result; cancelled when the loop shut down or closed before
/// the task finished (also when the spawn never reached the loop); or with the panic of a
/// [`spawn_with`](Handle::spawn_with) builder.
#[must_use = "the remote task runs detached when this is dropped"]
pub struct RemoteTask<T> {
    /// `None` once the result was taken.
    rx: Option<oneshot::Receiver<Result<T, TaskError>>>,
    task: RunningTask,
    handle: Handle,
}

impl<T: Send + 'static> RemoteTask<T> {
    /// Requests cancellation of the task on its loop. Returns false when it is already done
    /// (or its loop is gone).
    pub fn cancel(&self) -> bool {
        if self.is_done() {
            return false;
        }
        let task = self.task.clone();
        self.handle
            .call_soon_threadsafe(move || {
                let task = *task.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(t) = task {
                    // The task is alive: its done-callback, which clears `task`, has not run.
                    crate::cancel::cancel_task(t, None);
                }
            })
            .is_ok()
    }

    /// Whether the result is in.
    pub fn is_done(&self) -> bool {
        self.rx.as_ref().is_none_or(oneshot::Receiver::is_complete)
    }

    /// asyncio's name for [`is_done`](Self::is_done).
    #[inline]
    pub fn done(&self) -> bool {
        self.is_done()
    }

    /// Blocks this thread until the result is in. Do not call it on the loop's own thread.
    #[track_caller]
    pub fn wait(mut self) -> Result<T, TaskError> {
        let at = Location::caller();
        let blocks = self.rx.as_ref().is_some_and(|rx| !rx.is_complete());
        if blocks {
            super::debug_warning(|| {
                ExceptionContext::new(
                "RemoteTask::wait() blocks an event loop's thread: nothing else runs on this loop \
                 until the task ends (a task of this loop never will); await the RemoteTask instead",
            )
            .with_detail("called at", at)
            });
        }
        crate::sync::block_on(std::future::poll_fn(|cx| Pin::new(&mut self).poll(cx)))
    }
}

impl<T> Future for RemoteTask<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(Err(TaskError::InvalidState(
                crate::InvalidState::ResultTaken,
            )));
        };
        let out = std::task::ready!(Pin::new(rx).poll(cx));
        self.rx = None;
        // The sender always sends (`Finish`'s drop ends the task cancelled); a lost one is the
        // same as a closed loop.
        Poll::Ready(out.unwrap_or_else(|_| {
            Err(TaskError::cancelled(Some(
                "the event loop has shut down".into(),
            )))
        }))
    }
}

impl<T> fmt::Debug for RemoteTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteTask")
            .field(
                "done",
                &self.rx.as_ref().is_none_or(oneshot::Receiver::is_complete),
            )
            .finish()
    }
}
