//! Reaching a loop from other threads: Handle, remote wakers, RemoteTask (asyncio's
//! call_soon_threadsafe and run_coroutine_threadsafe).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Poll, Waker};
use std::time::Duration;

use conductor::{Handle, Runtime};
use support::wait_bounded;

#[test]
fn a_waker_called_from_another_thread_wakes_a_parked_loop() {
    let rt = Runtime::new().unwrap();
    let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
    let fired = Arc::new(AtomicUsize::new(0));
    let (s, f) = (slot.clone(), fired.clone());
    let thread = std::thread::spawn(move || {
        // Wait until the task has parked its waker, then wake it from here.
        loop {
            if let Some(w) = s.lock().unwrap().take() {
                f.store(1, Ordering::SeqCst);
                w.wake();
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    rt.block_on(std::future::poll_fn(move |cx| {
        if fired.load(Ordering::SeqCst) == 1 {
            return Poll::Ready(());
        }
        *slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }));
    thread.join().unwrap();
}

#[test]
fn wakers_cloned_and_dropped_on_other_threads_are_accounted() {
    // Many foreign clones, wakes and drops; the task must complete and be freed.
    let rt = Runtime::new().unwrap();
    let n = rt.block_on(async {
        let mut total = 0;
        for _ in 0..50 {
            let (tx, rx) = mpsc::channel::<Waker>();
            let worker = std::thread::spawn(move || {
                let w = rx.recv().unwrap();
                let clones: Vec<Waker> = (0..8).map(|_| w.clone()).collect();
                for c in clones {
                    c.wake();
                }
                drop(w);
            });
            let mut sent = false;
            std::future::poll_fn(|cx| {
                if sent {
                    return Poll::Ready(());
                }
                sent = true;
                tx.send(cx.waker().clone()).unwrap();
                Poll::Pending
            })
            .await;
            worker.join().unwrap();
            total += 1;
        }
        total
    });
    assert_eq!(n, 50);
    assert_eq!(rt.stats().tasks, 0);
}

#[test]
fn handle_spawns_send_futures_from_any_thread() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let remote = std::thread::spawn(move || {
        let a = handle.spawn(async { 1 });
        let b = handle.spawn_with(|| {
            let local = std::rc::Rc::new(2); // !Send inside the future is fine
            async move { *local }
        });
        (a, b)
    })
    .join()
    .unwrap();
    let (a, b) = rt.block_on(async move { (remote.0.await.unwrap(), remote.1.await.unwrap()) });
    assert_eq!(a + b, 3);
}

/// Runs the loop until `done` is set by another thread (never on a fixed real-time budget,
/// which a slow machine could overrun).
fn run_until(rt: &Runtime, done: &Arc<AtomicUsize>) {
    let done = done.clone();
    rt.block_on(async move {
        while done.load(Ordering::SeqCst) == 0 {
            conductor::sleep(Duration::from_millis(1)).await;
        }
    });
}

#[test]
fn a_remote_task_can_be_waited_for_from_a_plain_thread() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let waiter = std::thread::spawn(move || {
        let r = handle
            .spawn(async {
                conductor::sleep(Duration::from_millis(5)).await;
                "from the loop"
            })
            .wait();
        d.store(1, Ordering::SeqCst);
        r
    });
    run_until(&rt, &done);
    assert_eq!(waiter.join().unwrap().unwrap(), "from the loop");
}

#[test]
fn a_remote_task_can_be_cancelled_from_another_thread() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let task = handle.spawn(async {
        conductor::sleep(Duration::from_secs(3600)).await;
    });
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let canceller = std::thread::spawn(move || {
        assert!(task.cancel());
        let r = task.wait();
        d.store(1, Ordering::SeqCst);
        r
    });
    run_until(&rt, &done);
    let result = canceller.join().unwrap();
    assert!(result.unwrap_err().is_cancelled());
}

#[test]
fn call_soon_threadsafe_runs_on_the_loop_thread_in_order() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let loop_thread = std::thread::current().id();
    let s = seen.clone();
    std::thread::spawn(move || {
        for i in 0..3 {
            let s = s.clone();
            handle
                .call_soon_threadsafe(move || {
                    s.lock().unwrap().push((i, std::thread::current().id()));
                })
                .unwrap();
        }
    })
    .join()
    .unwrap();
    rt.block_on(conductor::yield_now());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(seen.iter().all(|p| p.1 == loop_thread));
}

#[test]
fn a_closed_loop_refuses_remote_work() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    drop(rt);
    assert!(handle.call_soon_threadsafe(|| {}).is_err());
    let t = handle.spawn(async { 1 });
    assert!(t.wait().unwrap_err().is_cancelled());
}

#[test]
fn handle_current_is_the_running_loop() {
    assert!(Handle::try_current().is_none());
    Runtime::new().unwrap().block_on(async {
        let h = Handle::current();
        assert!(format!("{h:?}").starts_with("Handle"));
    });
}

#[test]
fn a_waker_outliving_its_loop_is_harmless() {
    let rt = Runtime::new().unwrap();
    let waker = rt.block_on(async {
        let t = conductor::spawn(std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())));
        t.await.unwrap()
    });
    drop(rt);
    // Wake and drop on another thread after the loop is gone.
    std::thread::spawn(move || {
        waker.wake_by_ref();
        let w2 = waker.clone();
        w2.wake();
        drop(waker);
    })
    .join()
    .unwrap();
}

#[test]
fn a_loop_group_runs_one_loop_per_thread_and_cancels_them_together() {
    use conductor::runtime::LoopGroup;
    let group = LoopGroup::start(3, conductor::Builder::new(), |i| async move {
        let thread = std::thread::current().name().map(str::to_owned);
        // Runs until cancelled; cleans up with an await, as a server would.
        if conductor::catch_cancel(conductor::sleep(Duration::from_secs(3600)))
            .await
            .is_err()
        {
            conductor::sleep(Duration::from_millis(1)).await;
        }
        (i, thread)
    })
    .unwrap();
    assert_eq!(group.handles().len(), 3);
    group.cancel();
    let results: Vec<_> = group.join().into_iter().map(Result::unwrap).collect();
    for (i, (index, thread)) in results.into_iter().enumerate() {
        assert_eq!(index, i);
        assert_eq!(
            thread.as_deref(),
            Some(format!("conductor-loop-{i}").as_str())
        );
    }
}

#[test]
fn a_remote_task_queued_when_its_runtime_is_dropped_ends_cancelled() {
    let rt = Runtime::new().unwrap();
    let task = rt.handle().spawn(async { 1 });
    drop(rt); // the spawn never reached the loop
    let r = wait_bounded(task);
    assert!(r.unwrap_err().is_cancelled());
}

#[test]
fn a_remote_task_pending_when_its_runtime_is_dropped_ends_cancelled() {
    let rt = Runtime::new().unwrap();
    let task = rt.handle().spawn(async {
        conductor::sleep(Duration::from_secs(3600)).await;
    });
    rt.run_once(); // spawns it
    rt.run_once(); // polls it: it sleeps
    assert!(!task.is_done());
    drop(rt); // destroys the pending task without running it again (asyncio's close)
    let r = wait_bounded(task);
    assert!(r.unwrap_err().is_cancelled());
}

/// asyncio: `run_coroutine_threadsafe`'s future ends with `CancelledError` when `asyncio.run`
/// cancels the remaining tasks at its end (3.11 and 3.13 alike).
#[test]
fn a_remote_task_cancelled_by_shutdown_ends_cancelled() {
    let rt = Runtime::new().unwrap();
    let task = rt.handle().spawn(async {
        conductor::sleep(Duration::from_secs(3600)).await;
    });
    rt.run(conductor::yield_now());
    let r = wait_bounded(task);
    assert!(r.unwrap_err().is_cancelled());
}

#[test]
fn a_remote_task_that_answers_the_shutdown_cancellation_gives_its_value() {
    let rt = Runtime::new().unwrap();
    let task = rt.handle().spawn(async {
        match conductor::catch_cancel(conductor::sleep(Duration::from_secs(3600))).await {
            Ok(()) => "slept",
            Err(_) => "cleaned up",
        }
    });
    rt.run(conductor::yield_now());
    let r = wait_bounded(task);
    assert_eq!(r.unwrap(), "cleaned up");
}

/// asyncio: an exception raised while the loop creates the task (a task factory that raises)
/// ends the future with that exception (`builder: ValueError builder failed`, 3.11 and 3.13).
#[test]
fn a_panicking_spawn_with_builder_ends_the_remote_task_with_the_panic() {
    let rt = Runtime::new().unwrap();
    let task = rt
        .handle()
        .spawn_with(|| -> std::future::Ready<u8> { panic!("builder failed") });
    let after = rt.handle().spawn(async { 2 });
    assert_eq!(rt.block_on(after).unwrap(), 2, "the loop goes on");
    let r = wait_bounded(task);
    match r {
        Err(conductor::TaskError::Panicked(p)) => {
            assert_eq!(p.downcast_ref::<&str>(), Some(&"builder failed"));
        }
        other => panic!("expected the builder's panic, got {other:?}"),
    }
}

/// A spawn from another thread races the runtime's drop: wherever it lands (refused, queued,
/// spawned, polled), its `wait` ends.
#[test]
fn remote_spawns_racing_the_runtime_drop_all_end() {
    for _ in 0..200 {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let start = Arc::new(std::sync::Barrier::new(2));
        let go = start.clone();
        let spawner = std::thread::spawn(move || {
            go.wait();
            handle.spawn(async {
                conductor::sleep(Duration::from_secs(3600)).await;
                1
            })
        });
        start.wait();
        rt.run_once();
        drop(rt);
        let task = spawner.join().unwrap();
        let r = wait_bounded(task);
        assert!(r.unwrap_err().is_cancelled());
    }
}
