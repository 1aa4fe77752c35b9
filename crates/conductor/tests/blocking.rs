//! The thread pool (asyncio's to_thread / run_in_executor).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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
