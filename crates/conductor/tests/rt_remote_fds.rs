//! Remote tasks whose loop goes away end, and release the loop: no descriptor outlives them.
//! (Alone in its binary: it counts the process's open descriptors, which tests running in
//! parallel threads would change.)

mod support;

use std::time::Duration;

use conductor::{Runtime, TaskError};
use support::wait_bounded;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
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
