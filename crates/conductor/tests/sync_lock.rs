//! `Lock` and `Mutex` (asyncio 1.3): FIFO, no barging, cancellation never loses the lock.

mod support;

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::{Lock, Mutex};
use conductor::{gather, sleep, spawn, yield_now};
use support::{Log, log, push, take};

/// Acquires, logs, holds the lock for a second, releases.
async fn hold(lock: Arc<Lock>, log: Log, name: &'static str) {
    let _guard = lock.acquire().await;
    push(&log, format!("{name} acquired"));
    sleep(Duration::from_secs(1)).await;
}

#[conductor::test(paused)]
async fn the_guides_program_prints_in_asyncios_order() {
    // The Lock program of the guide (examples/lock.rs), with lines collected instead of printed.
    let lock = Arc::new(Lock::new());
    let l = log();
    let locking = |lock: Arc<Lock>, l: Log| async move {
        push(&l, "Waiting for the lock");
        {
            let _g = lock.acquire().await;
            push(&l, "Acquired the lock");
            sleep(Duration::from_secs(2)).await;
        }
        push(&l, "Released the lock");
    };
    gather((0..3).map(|_| locking(lock.clone(), l.clone())))
        .await
        .unwrap();
    assert_eq!(
        take(&l),
        [
            "Waiting for the lock",
            "Acquired the lock",
            "Waiting for the lock",
            "Waiting for the lock",
            "Released the lock",
            "Acquired the lock",
            "Released the lock",
            "Acquired the lock",
            "Released the lock",
        ]
    );
}

#[conductor::test(paused)]
async fn waiters_get_the_lock_in_arrival_order() {
    let lock = Arc::new(Lock::new());
    let l = log();
    let guard = lock.acquire().await;
    let tasks: Vec<_> = ["a", "b", "c", "d"]
        .into_iter()
        .map(|n| spawn(hold(lock.clone(), l.clone(), n)))
        .collect();
    yield_now().await;
    drop(guard);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        take(&l),
        ["a acquired", "b acquired", "c acquired", "d acquired"]
    );
    assert!(!lock.locked());
}

#[conductor::test(paused)]
async fn a_newcomer_cannot_barge_past_a_woken_waiter() {
    let lock = Arc::new(Lock::new());
    let l = log();
    let guard = lock.acquire().await;
    let waiter = spawn(hold(lock.clone(), l.clone(), "waiter"));
    yield_now().await;
    drop(guard); // the waiter is woken, and has not run yet
    assert!(lock.locked(), "the lock was handed to the waiter");
    assert!(lock.try_acquire().is_err(), "no barging past it");
    let _g = lock.acquire().await; // queues behind it
    push(&l, "newcomer acquired");
    waiter.await.unwrap();
    assert_eq!(take(&l), ["waiter acquired", "newcomer acquired"]);
}

#[conductor::test(paused)]
async fn a_waiter_cancelled_after_it_was_handed_the_lock_passes_it_on() {
    // asyncio's test_finished_waiter_cancelled.
    let lock = Arc::new(Lock::new());
    let l = log();
    let guard = lock.acquire().await;
    let b = spawn(hold(lock.clone(), l.clone(), "b"));
    let c = spawn(hold(lock.clone(), l.clone(), "c"));
    yield_now().await;
    drop(guard); // b is handed the lock...
    assert!(b.cancel()); // ...and cancelled before it runs
    assert!(b.await.unwrap_err().is_cancelled());
    // A lost hand-over would leave c waiting forever: the (paused) timeout turns it into a failure.
    conductor::timeout(Duration::from_secs(60), c)
        .await
        .expect("c never got the lock")
        .unwrap();
    assert_eq!(take(&l), ["c acquired"]);
    assert!(!lock.locked());
    assert!(lock.try_acquire().is_ok());
}

#[conductor::test(paused)]
async fn a_waiter_cancelled_while_waiting_leaves_the_line() {
    let lock = Arc::new(Lock::new());
    let l = log();
    let guard = lock.acquire().await;
    let b = spawn(hold(lock.clone(), l.clone(), "b"));
    let c = spawn(hold(lock.clone(), l.clone(), "c"));
    yield_now().await;
    b.cancel();
    yield_now().await;
    drop(guard);
    c.await.unwrap();
    assert_eq!(take(&l), ["c acquired"]);
    assert!(!lock.locked());
}

#[conductor::test(paused)]
async fn a_guard_dropped_by_a_cancelled_task_releases_the_lock() {
    let lock = Arc::new(Lock::new());
    let l = log();
    let holder = spawn(hold(lock.clone(), l.clone(), "holder"));
    yield_now().await;
    assert!(lock.locked());
    holder.cancel();
    assert!(holder.await.unwrap_err().is_cancelled());
    assert!(!lock.locked());
    assert_eq!(take(&l), ["holder acquired"]);
}

#[conductor::test(paused)]
async fn a_catch_cancel_scope_gets_no_lock_it_was_handed() {
    let lock = Arc::new(Lock::new());
    let guard = lock.acquire().await;
    let l2 = lock.clone();
    let waiter = spawn(async move {
        let got = conductor::catch_cancel(async { l2.acquire().await.release() }).await;
        // The acquire was dropped with the scope: the lock it may have been handed is free.
        (got.is_err(), l2.locked())
    });
    yield_now().await;
    drop(guard);
    waiter.cancel();
    assert_eq!(waiter.await.unwrap(), (true, false));
    assert!(!lock.locked());
}

#[conductor::test(paused)]
async fn owned_guards_move_between_tasks() {
    let lock = Arc::new(Lock::new());
    let t0 = conductor::now();
    let guard = lock.clone().acquire_owned().await;
    let t = spawn(async move {
        sleep(Duration::from_secs(1)).await;
        drop(guard);
    });
    assert!(lock.locked());
    let _g = lock.acquire().await; // waits for the task to drop it
    assert_eq!(conductor::now() - t0, Duration::from_secs(1));
    t.await.unwrap();
    assert!(lock.clone().try_acquire_owned().is_err());
}

#[conductor::test(paused)]
async fn a_mutex_keeps_a_read_modify_write_across_awaits_atomic() {
    // The guide's counter program: W0..W4 each read, sleep, write back.
    let counter = Arc::new(Mutex::new(0));
    let l = log();
    let workers = (0..5).map(|i| {
        let (counter, l) = (counter.clone(), l.clone());
        async move {
            let mut n = counter.lock().await;
            let val = *n;
            sleep(Duration::from_millis(100)).await;
            *n = val + 1;
            push(&l, format!("W{i}: {}", *n));
        }
    });
    gather(workers).await.unwrap();
    assert_eq!(take(&l), ["W0: 1", "W1: 2", "W2: 3", "W3: 4", "W4: 5"]);
    assert_eq!(Arc::try_unwrap(counter).unwrap().into_inner(), 5);
}

#[conductor::test(paused)]
async fn mutex_try_lock_and_owned_guards() {
    let m = Arc::new(Mutex::new(vec![1]));
    let mut g = m.clone().lock_owned().await;
    assert!(m.try_lock().is_err());
    assert!(m.locked());
    g.push(2);
    drop(g);
    assert_eq!(*m.try_lock().unwrap(), [1, 2]);
    assert_eq!(format!("{:?}", m), "Mutex { data: [1, 2] }");
}

#[test]
fn tasks_on_two_loops_share_a_mutex() {
    // Send + Sync: each thread runs its own loop; wake-ups cross threads.
    let m = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                conductor::run(async move {
                    for _ in 0..2000 {
                        let mut n = m.lock().await;
                        let read = *n;
                        yield_now().await; // hold it across a suspension
                        *n = read + 1;
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*m.try_lock().unwrap(), 4000);
}

#[test]
fn the_lock_works_without_a_conductor_loop() {
    // Runtime-agnostic: only `Waker` is used. A minimal executor: poll, then wait on a thread.
    let lock = Arc::new(Lock::new());
    let guard = lock.try_acquire().unwrap();
    let l2 = lock.clone();
    let t = std::thread::spawn(move || block_on(async move { l2.acquire().await.release() }));
    std::thread::sleep(Duration::from_millis(5));
    drop(guard);
    t.join().unwrap();
    assert!(!lock.locked());
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}
