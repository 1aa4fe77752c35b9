//! Thread-per-core: one loop per thread, each running its own copy of the program.
//!
//! conductor scales across cores by running N independent loops (no work stealing). A
//! `LoopGroup` starts N threads, builds a loop on each, runs `factory(index)` as that loop's main
//! task, and can cancel every main task at once (a server's clean shutdown).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::{Builder, Handle};
use crate::task::{TaskError, TaskRef};

/// N event loops on N threads, each running `factory(index)`.
///
/// ```
/// let group = conductor::runtime::LoopGroup::start(2, conductor::Builder::new(), |i| async move {
///     conductor::sleep(std::time::Duration::from_millis(1)).await;
///     i * 10
/// })
/// .unwrap();
/// assert_eq!(group.join().into_iter().map(Result::unwrap).collect::<Vec<_>>(), [0, 10]);
/// ```
pub struct LoopGroup<T> {
    threads: Vec<JoinHandle<Result<T, TaskError>>>,
    handles: Vec<Handle>,
}

impl<T: Send + 'static> LoopGroup<T> {
    /// Starts `n` threads (named `conductor-loop-<i>`), each with a loop built from `builder`,
    /// running `factory(i)` until it completes; the loops then shut down as `conductor::run`
    /// does.
    ///
    /// # Errors
    /// When a thread or a loop cannot be created; the loops already started are cancelled.
    pub fn start<F, Fut>(n: usize, builder: Builder, factory: F) -> io::Result<LoopGroup<T>>
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let factory = Arc::new(factory);
        let mut threads = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for index in 0..n {
            let (tx, rx) = std::sync::mpsc::channel::<io::Result<Handle>>();
            let builder = builder.clone();
            let factory = factory.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("conductor-loop-{index}"))
                .spawn(move || run_one(builder, index, factory, tx));
            let started = spawned.and_then(|t| {
                let handle = rx
                    .recv()
                    .unwrap_or_else(|_| Err(io::Error::other("a loop thread died at start")))?;
                Ok((t, handle))
            });
            match started {
                Ok((t, handle)) => {
                    threads.push(t);
                    handles.push(handle);
                }
                Err(e) => {
                    let group = LoopGroup { threads, handles };
                    group.cancel();
                    drop(group.join());
                    return Err(e);
                }
            }
        }
        Ok(LoopGroup { threads, handles })
    }

    /// The loops' handles, in index order.
    pub fn handles(&self) -> &[Handle] {
        &self.handles
    }

    /// Cancels every loop's main task (each loop then shuts down as `conductor::run` does).
    /// A loop that already finished is skipped.
    pub fn cancel(&self) {
        for handle in &self.handles {
            // Runs on the loop's thread, inside its run, after `MAIN` was set.
            let _ = handle.call_soon_threadsafe(|| {
                if let Some(main) = MAIN.with(|m| m.borrow().clone()) {
                    main.cancel();
                }
            });
        }
    }

    /// Waits for every loop to finish and returns their main tasks' results, in index order.
    pub fn join(self) -> Vec<Result<T, TaskError>> {
        self.threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|p| Err(TaskError::Panicked(p))))
            .collect()
    }
}

thread_local! {
    /// The main task of the group's loop on this thread.
    static MAIN: RefCell<Option<TaskRef>> = const { RefCell::new(None) };
}

fn run_one<F, Fut, T>(
    builder: Builder,
    index: usize,
    factory: Arc<F>,
    started: std::sync::mpsc::Sender<io::Result<Handle>>,
) -> Result<T, TaskError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + 'static,
    T: 'static,
{
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = started.send(Err(io::Error::new(e.kind(), e.to_string())));
            return Err(TaskError::cancelled(Some(
                "the loop could not start".into(),
            )));
        }
    };
    let _ = started.send(Ok(rt.handle()));
    let main = rt.spawn(factory(index));
    MAIN.with(|m| *m.borrow_mut() = Some(main.task_ref()));
    let out = rt.run_until_complete(main);
    MAIN.with(|m| *m.borrow_mut() = None);
    rt.shutdown();
    out.and_then(|r| r)
}
