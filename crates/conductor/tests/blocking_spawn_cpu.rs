//! The CPU pool (`spawn_cpu`, asyncio's `run_in_executor` with a process pool's role): one job
//! per core, apart from the blocking pool.

mod support;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use conductor::Runtime;
use support::{HANG, Rendezvous};

#[test]
fn cpu_work_does_not_queue_behind_blocking_work() {
    let rt = Runtime::builder().max_blocking_threads(1).build().unwrap();
    rt.block_on(async {
        let (release, released) = mpsc::channel::<()>();
        // The only blocking thread is busy until released (at most HANG).
        let busy = conductor::to_thread(move || released.recv_timeout(HANG));
        let answer = conductor::spawn_cpu(|| 6 * 7).await.unwrap();
        assert_eq!(answer, 42);
        release.send(()).unwrap();
        assert!(
            busy.await.unwrap().is_ok(),
            "the CPU job waited for the blocking one"
        );
    });
}

#[test]
fn the_cpu_pool_runs_one_job_per_core_at_once() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    conductor::run(async move {
        let meeting = Arc::new(Rendezvous::new(cores));
        let jobs: Vec<_> = (0..cores)
            .map(|_| {
                let meeting = meeting.clone();
                conductor::spawn_cpu(move || meeting.meet())
            })
            .collect();
        for job in jobs {
            assert!(job.await.unwrap(), "{cores} CPU jobs never ran at once");
        }
    });
}

#[test]
fn a_panic_on_the_cpu_pool_comes_back_as_an_error() {
    conductor::run(async {
        let err = conductor::spawn_cpu(|| -> u32 { panic!("overflow") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        // The pool survives its jobs' panics.
        assert_eq!(conductor::spawn_cpu(|| 1).await.unwrap(), 1);
    });
}

#[test]
fn a_paused_clock_waits_for_cpu_work() {
    support::paused().block_on(async {
        // The loop has nothing to do but wait for the job for 50 ms: time to jump, if it would.
        let work = conductor::spawn_cpu(|| {
            std::thread::sleep(Duration::from_millis(50));
            "done"
        });
        // If the clock jumped while the job runs, this hour would pass at once.
        let out = conductor::timeout(Duration::from_secs(3600), work).await;
        assert_eq!(
            out.expect("the paused clock jumped past running CPU work")
                .unwrap(),
            "done"
        );
    });
}
