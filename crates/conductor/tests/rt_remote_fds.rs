//! Remote tasks whose loop goes away end, and release the loop: no descriptor outlives them.
//! (Alone in its binary: it counts the process's open descriptors, which tests running in
//! parallel threads would change.)

use std::sync::mpsc;
use std::time::Duration;

use conductor::{RemoteTask, Runtime, TaskError};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// `wait()` on another thread, bounded so that a hang fails the test instead of blocking it.
fn wait_bounded<T: Send + 'static>(task: RemoteTask<T>) -> Result<T, TaskError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(task.wait());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("a remote task's wait() hangs")
}

async fn forever() {
    conductor::sleep(Duration::from_secs(3600)).await;
}

#[test]
fn remote_tasks_of_vanished_loops_end_and_leak_no_descriptor() {
    // The first `run` of a process opens the signal dispatcher's self-pipe (for its Ctrl-C
    // handling), once for the process: open it before counting.
    Runtime::new().unwrap().run(async {});
    let before = open_fds();
    for _ in 0..20 {
        // Queued, never run.
        let rt = Runtime::new().unwrap();
        let queued = rt.handle().spawn(forever());
        drop(rt);
        assert!(wait_bounded(queued).unwrap_err().is_cancelled());

        // Spawned and pending when the loop is dropped.
        let rt = Runtime::new().unwrap();
        let pending = rt.handle().spawn(forever());
        rt.run_once();
        drop(rt);
        assert!(wait_bounded(pending).unwrap_err().is_cancelled());

        // Cancelled by shutdown.
        let rt = Runtime::new().unwrap();
        let cancelled = rt.handle().spawn(forever());
        rt.run(conductor::yield_now());
        assert!(wait_bounded(cancelled).unwrap_err().is_cancelled());

        // A builder that panics.
        let rt = Runtime::new().unwrap();
        let panicked = rt
            .handle()
            .spawn_with(|| -> std::future::Ready<()> { panic!("builder failed") });
        rt.run_once();
        drop(rt);
        assert!(matches!(
            wait_bounded(panicked),
            Err(TaskError::Panicked(_))
        ));
    }
    assert_eq!(open_fds(), before, "descriptors leaked");
}
