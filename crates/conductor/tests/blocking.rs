//! The thread pool (asyncio's to_thread / run_in_executor).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use conductor::Runtime;

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
    let rt = Runtime::builder().max_blocking_threads(2).build().unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on({
        let (running, peak) = (running.clone(), peak.clone());
        async move {
            let jobs: Vec<_> = (0..8)
                .map(|_| {
                    let (running, peak) = (running.clone(), peak.clone());
                    conductor::to_thread(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(3));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for j in jobs {
                j.await.unwrap();
            }
        }
    });
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[test]
fn the_loop_keeps_running_while_the_pool_works() {
    let rt = Runtime::new().unwrap();
    let ticks = rt.block_on(async {
        let job = conductor::to_thread(|| std::thread::sleep(Duration::from_millis(30)));
        let ticker = conductor::spawn(async {
            let mut n = 0;
            for _ in 0..5 {
                conductor::sleep(Duration::from_millis(2)).await;
                n += 1;
            }
            n
        });
        job.await.unwrap();
        ticker.await.unwrap()
    });
    assert_eq!(ticks, 5);
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
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&task).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        !std::path::Path::new(&task).exists(),
        "the idle thread exited after its keep-alive, while the loop lives on"
    );
    drop(rt);
}

/// Arrives at a rendezvous of `parties` threads and waits (at most 5 s) for the others; true
/// when all arrived.
fn rendezvous(at: &(std::sync::Mutex<usize>, std::sync::Condvar), parties: usize) -> bool {
    let (count, arrived) = at;
    let mut n = count.lock().unwrap();
    *n += 1;
    arrived.notify_all();
    let (_n, waited) = arrived
        .wait_timeout_while(n, Duration::from_secs(5), |n| *n < parties)
        .unwrap();
    !waited.timed_out()
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
        let meeting = Arc::new((std::sync::Mutex::new(0), std::sync::Condvar::new()));
        let (a, b) = (meeting.clone(), meeting.clone());
        let a = conductor::to_thread(move || rendezvous(&a, 2));
        let b = conductor::to_thread(move || rendezvous(&b, 2));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(a && b, "the two jobs never ran at the same time");
    });
}

#[test]
fn six_jobs_submitted_together_take_about_one_jobs_time() {
    let rt = Runtime::builder().max_blocking_threads(8).build().unwrap();
    rt.block_on(async {
        leave_one_idle_thread().await;
        let meeting = Arc::new((std::sync::Mutex::new(0), std::sync::Condvar::new()));
        let start = std::time::Instant::now();
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let meeting = meeting.clone();
                conductor::to_thread(move || {
                    let met = rendezvous(&meeting, 6);
                    std::thread::sleep(Duration::from_millis(200));
                    met
                })
            })
            .collect();
        for job in jobs {
            assert!(job.await.unwrap(), "the six jobs never all ran at once");
        }
        let took = start.elapsed();
        // Side by side about 0.2 s; one after the other 1.2 s (plus the rendezvous' 5 s).
        assert!(took < Duration::from_millis(1000), "six jobs took {took:?}");
    });
}

#[test]
fn cpu_work_does_not_queue_behind_blocking_work() {
    let rt = Runtime::builder().max_blocking_threads(1).build().unwrap();
    rt.block_on(async {
        let (release, released) = std::sync::mpsc::channel::<()>();
        // The only blocking thread is busy until released (at most 10 s).
        let busy = conductor::to_thread(move || released.recv_timeout(Duration::from_secs(10)));
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
        let meeting = Arc::new((std::sync::Mutex::new(0), std::sync::Condvar::new()));
        let jobs: Vec<_> = (0..cores)
            .map(|_| {
                let meeting = meeting.clone();
                conductor::spawn_cpu(move || rendezvous(&meeting, cores))
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
    let rt = Runtime::builder().paused_clock().build().unwrap();
    rt.block_on(async {
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

#[test]
fn a_paused_clock_jumps_once_the_pool_job_is_counted_done() {
    // The job wakes its task before the pool counts it finished; a loop that parked in that
    // window (a pool job still counted, so no jump) used to sleep forever with a timer due.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = conductor::Runtime::builder()
            .paused_clock()
            .build()
            .unwrap();
        rt.block_on(async {
            for _ in 0..200 {
                conductor::to_thread(|| ()).await.unwrap();
                conductor::sleep(Duration::from_secs(1)).await;
            }
        });
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the paused clock never jumped to the sleep's deadline");
}
