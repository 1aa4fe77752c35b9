//! No allocation outlives its loop: tasks (including those referenced from other threads, and
//! those whose handles outlive the loop), timers, scopes and the loop itself are all freed.
//!
//! One test in this binary, so that the counting allocator sees no other test's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::task::{Poll, Waker};
use std::time::Duration;

use conductor::{Runtime, catch_cancel, sleep, spawn, task_group, yield_now};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

fn scenario_spawn_and_await() {
    let rt = Runtime::builder().paused_clock().build().unwrap();
    rt.block_on(async {
        let ts: Vec<_> = (0..1000).map(|i| spawn(async move { i })).collect();
        for t in ts {
            t.await.unwrap();
        }
        for i in 0..100u64 {
            spawn(sleep(Duration::from_millis(i))).detach();
        }
        sleep(Duration::from_millis(200)).await;
    });
}

fn scenario_cancellation_and_scopes() {
    let rt = Runtime::builder().paused_clock().build().unwrap();
    rt.block_on(async {
        let t = spawn(async {
            let inner = spawn(async {
                if let Err(c) = catch_cancel(sleep(Duration::from_secs(10))).await {
                    sleep(Duration::from_millis(1)).await;
                    c.reraise::<()>().await;
                }
            });
            inner.await.ok();
        });
        yield_now().await;
        t.cancel();
        let _ = t.await;
        let _ = task_group(|tg| async move {
            tg.spawn(async { Err::<(), _>("x") });
            tg.spawn(sleep(Duration::from_secs(5)).into_ok());
            Ok(())
        })
        .await;
        let _ = conductor::timeout(Duration::from_millis(5), sleep(Duration::from_secs(1))).await;
    });
}

trait IntoOk: std::future::Future + Sized {
    fn into_ok(self) -> impl std::future::Future<Output = Result<Self::Output, &'static str>> {
        async move { Ok(self.await) }
    }
}
impl<F: std::future::Future> IntoOk for F {}

fn scenario_foreign_wakers_outlive_the_loop() {
    let rt = Runtime::new().unwrap();
    let wakers: Vec<Waker> = rt.block_on(async {
        let mut ws = Vec::new();
        for _ in 0..10 {
            let t = spawn(std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())));
            ws.push(t.await.unwrap());
        }
        // A pending task whose waker is held elsewhere when the loop closes.
        let (tx, rx) = std::sync::mpsc::channel();
        spawn(std::future::poll_fn(move |cx| {
            let _ = tx.send(cx.waker().clone());
            Poll::<()>::Pending
        }))
        .detach();
        yield_now().await;
        ws.push(rx.recv().unwrap());
        ws
    });
    let handle_outliving = rt.spawn(async { String::from("output") });
    rt.run_once();
    drop(rt);
    std::thread::spawn(move || {
        for w in &wakers {
            w.wake_by_ref();
            let w2 = w.clone();
            w2.wake();
        }
        drop(wakers);
    })
    .join()
    .unwrap();
    drop(handle_outliving);
}

fn scenario_remote_spawns() {
    let rt = Runtime::new().unwrap();
    let h = rt.handle();
    let r = std::thread::spawn(move || h.spawn(async { 5 }))
        .join()
        .unwrap();
    assert_eq!(rt.block_on(r).unwrap(), 5);
    let h = rt.handle();
    drop(rt);
    assert!(h.call_soon_threadsafe(|| {}).is_err());
}

#[test]
fn nothing_outlives_its_loop() {
    // Warm up: std's lazily allocated thread-locals and the like.
    scenario_spawn_and_await();
    scenario_foreign_wakers_outlive_the_loop();
    scenario_remote_spawns();
    let base = live();
    for (name, f) in [
        ("spawn and await", scenario_spawn_and_await as fn()),
        ("cancellation and scopes", scenario_cancellation_and_scopes),
        (
            "foreign wakers outlive the loop",
            scenario_foreign_wakers_outlive_the_loop,
        ),
        ("remote spawns", scenario_remote_spawns),
    ] {
        let before = live();
        f();
        // Pool threads exit asynchronously after shutdown; give them a moment.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while live() != before && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            live() - before,
            0,
            "{name} leaked {} bytes",
            live() - before
        );
    }
    assert_eq!(live(), base);
}
