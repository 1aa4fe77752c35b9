//! The blocking pool (asyncio's `to_thread` / `run_in_executor`): jobs run off the loop, on a
//! bounded set of threads that start when needed and exit when idle.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use conductor::Runtime;
use support::{HANG, Rendezvous};

#[test]
fn to_thread_runs_off_the_loop_and_returns_the_value() {
    let rt = Runtime::new().unwrap();
    let loop_thread = std::thread::current().id();
    let (v, worker) = rt.block_on(async {
        conductor::to_thread(|| (21 * 2, std::thread::current().id()))
            .await
            .unwrap()
    });
    assert_eq!(v, 42);
    assert_ne!(worker, loop_thread);
}

#[test]
fn a_panic_on_the_pool_comes_back_as_an_error() {
    let rt = Runtime::new().unwrap();
    let err = rt.block_on(async {
        conductor::to_thread(|| panic!("in the pool"))
            .await
            .map(|_: ()| ())
    });
    let err = err.unwrap_err();
    assert!(err.is_panic());
    assert!(err.to_string().contains("in the pool"));
}

#[test]
fn the_pool_is_bounded() {
    // Eight jobs that each hold their thread until the controller lets one go, and the
    // controller lets one go only after one more has started: a pool of two always has exactly
    // two running when one starts (the first excepted); a pool that started more threads would
    // start the waiting jobs with none let go, and count three or more.
    let rt = Runtime::builder().max_blocking_threads(2).build().unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let (started, starts) = mpsc::channel();
    let (let_go, gate) = mpsc::channel::<()>();
    let gate = Arc::new(Mutex::new(gate));
    let controller = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..8 {
            seen.push(starts.recv_timeout(HANG).expect("a job never started"));
            if seen.len() >= 2 {
                let_go.send(()).unwrap();
            }
        }
        let_go.send(()).unwrap(); // the last one
        seen
    });
    rt.block_on(async move {
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let (running, started, gate) = (running.clone(), started.clone(), gate.clone());
                conductor::to_thread(move || {
                    started
                        .send(running.fetch_add(1, Ordering::SeqCst) + 1)
                        .unwrap();
                    let go = gate.lock().unwrap().recv_timeout(HANG);
                    running.fetch_sub(1, Ordering::SeqCst);
                    go.expect("never let go")
                })
            })
            .collect();
        for j in jobs {
            j.await.unwrap();
        }
    });
    let mut seen = controller.join().unwrap();
    seen.sort();
    assert_eq!(
        seen,
        [1, 2, 2, 2, 2, 2, 2, 2],
        "running jobs as each started"
    );
}

#[test]
fn the_loop_keeps_running_while_the_pool_works() {
    // The job waits for a message that only a task on the loop sends, after the loop has run a
    // few iterations: were the job blocking the loop, it would wait for nothing and time out.
    let rt = Runtime::new().unwrap();
    let loop_thread = std::thread::current().id();
    let (heard, job_thread) = rt.block_on(async {
        let (tell, told) = mpsc::channel();
        let job =
            conductor::to_thread(move || (told.recv_timeout(HANG), std::thread::current().id()));
        let teller = conductor::spawn(async move {
            for _ in 0..5 {
                conductor::yield_now().await;
            }
            tell.send("the loop ran").unwrap();
        });
        let out = job.await.unwrap();
        teller.await.unwrap();
        out
    });
    assert_eq!(heard, Ok("the loop ran"));
    assert_ne!(job_thread, loop_thread);
}

#[test]
fn idle_pool_threads_exit() {
    let rt = Runtime::builder()
        .blocking_keep_alive(Duration::from_millis(10))
        .build()
        .unwrap();
    let (name, tid) = rt.block_on(async {
        conductor::to_thread(|| {
            // SAFETY: gettid has no preconditions.
            let tid = unsafe { libc::gettid() };
            (std::thread::current().name().map(str::to_owned), tid)
        })
        .await
        .unwrap()
    });
    assert!(name.unwrap().starts_with("conductor-blocking-"));
    let task = format!("/proc/self/task/{tid}");
    let deadline = std::time::Instant::now() + HANG;
    while std::path::Path::new(&task).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        !std::path::Path::new(&task).exists(),
        "the idle thread exited after its keep-alive, while the loop lives on"
    );
    drop(rt);
}

/// One job first, so that the pool has one idle thread when the test's jobs arrive.
async fn leave_one_idle_thread() {
    conductor::to_thread(|| ()).await.unwrap();
    // Give the thread time to go back to waiting (the bug needs it idle, the fix does not).
    conductor::to_thread(|| ()).await.unwrap();
    std::thread::sleep(Duration::from_millis(50));
}

#[test]
fn two_jobs_submitted_together_each_get_a_thread() {
    let rt = Runtime::builder().max_blocking_threads(8).build().unwrap();
    rt.block_on(async {
        leave_one_idle_thread().await;
        let meeting = Arc::new(Rendezvous::new(2));
        let (a, b) = (meeting.clone(), meeting.clone());
        let a = conductor::to_thread(move || a.meet());
        let b = conductor::to_thread(move || b.meet());
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(a && b, "the two jobs never ran at the same time");
    });
}

#[test]
fn six_jobs_submitted_together_all_run_at_once() {
    // One idle thread and six jobs: the pool starts five more threads rather than queue five
    // jobs behind the idle one (the rendezvous of six proves they ran side by side).
    let rt = Runtime::builder().max_blocking_threads(8).build().unwrap();
    rt.block_on(async {
        leave_one_idle_thread().await;
        let meeting = Arc::new(Rendezvous::new(6));
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let meeting = meeting.clone();
                conductor::to_thread(move || meeting.meet())
            })
            .collect();
        for job in jobs {
            assert!(job.await.unwrap(), "the six jobs never all ran at once");
        }
    });
}

#[test]
fn a_paused_clock_jumps_once_the_pool_job_is_counted_done() {
    // The job wakes its task before the pool counts it finished; a loop that parked in that
    // window (a pool job still counted, so no jump) used to sleep forever with a timer due.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        support::paused().block_on(async {
            for _ in 0..200 {
                conductor::to_thread(|| ()).await.unwrap();
                conductor::sleep(Duration::from_secs(1)).await;
            }
        });
        let _ = done.send(());
    });
    finished
        .recv_timeout(HANG)
        .expect("the paused clock never jumped to the sleep's deadline");
}
