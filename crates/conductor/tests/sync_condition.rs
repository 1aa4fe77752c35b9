//! `Condition` (asyncio 1.3): FIFO notification, the lock re-acquired before `wait` returns,
//! notifications passed on by cancelled waiters (3.13).

mod support;

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::Condition;
use conductor::{Task, sleep, spawn, timeout, yield_now};
use support::{Log, log, push, take};

/// A task that waits once, then logs and holds the lock for a second.
fn waiter(cond: &Arc<Condition>, l: &Log, name: &'static str) -> Task<()> {
    let (cond, l) = (cond.clone(), l.clone());
    spawn(async move {
        let guard = cond.acquire().await;
        let _guard = guard.wait().await;
        push(&l, format!("{name} in"));
        sleep(Duration::from_secs(1)).await;
        push(&l, format!("{name} out"));
    })
}

#[conductor::test(paused)]
async fn notify_wakes_waiters_in_the_order_they_waited() {
    let cond = Arc::new(Condition::default());
    let l = log();
    let tasks: Vec<_> = ["a", "b", "c"].map(|n| waiter(&cond, &l, n)).into();
    yield_now().await;
    assert_eq!(cond.acquire().await.notify(1), 1);
    sleep(Duration::from_secs(5)).await;
    assert_eq!(take(&l), ["a in", "a out"]);
    assert_eq!(cond.acquire().await.notify(2), 2);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(take(&l), ["b in", "b out", "c in", "c out"]);
}

#[conductor::test(paused)]
async fn wait_returns_only_with_the_lock_held() {
    let cond = Arc::new(Condition::default());
    let l = log();
    let tasks: Vec<_> = ["a", "b", "c"].map(|n| waiter(&cond, &l, n)).into();
    yield_now().await;
    {
        let guard = cond.acquire().await;
        assert_eq!(guard.notify_all(), 3);
        sleep(Duration::from_secs(1)).await; // the woken tasks wait for this guard
        push(&l, "notifier out");
    }
    for t in tasks {
        t.await.unwrap();
    }
    // One at a time, in FIFO order, each after the notifier released the lock.
    assert_eq!(
        take(&l),
        [
            "notifier out",
            "a in",
            "a out",
            "b in",
            "b out",
            "c in",
            "c out"
        ]
    );
}

#[conductor::test(paused)]
async fn a_notified_waiter_cancelled_before_it_runs_passes_the_notification_on() {
    let cond = Arc::new(Condition::default());
    let l = log();
    let a = waiter(&cond, &l, "a");
    let b = waiter(&cond, &l, "b");
    yield_now().await;
    cond.acquire().await.notify(1); // chooses a...
    a.cancel(); // ...which is cancelled before it runs
    assert!(a.await.unwrap_err().is_cancelled());
    timeout(Duration::from_secs(60), b)
        .await
        .expect("the notification was lost with a")
        .unwrap();
    assert_eq!(take(&l), ["b in", "b out"]);
}

#[conductor::test(paused)]
async fn a_notification_goes_to_a_waiter_that_was_waiting_when_it_was_sent() {
    let cond = Arc::new(Condition::default());
    let l = log();
    let a = waiter(&cond, &l, "a");
    yield_now().await;
    let guard = cond.acquire().await;
    // b queues for the lock now, and will start waiting before a runs again.
    let b = waiter(&cond, &l, "b");
    yield_now().await;
    guard.notify(1);
    drop(guard);
    a.await.unwrap();
    assert_eq!(take(&l), ["a in", "a out"]);
    assert_eq!(cond.acquire().await.notify(1), 1, "b still waits");
    b.await.unwrap();
    assert_eq!(take(&l), ["b in", "b out"]);
}

#[conductor::test(paused)]
async fn a_waiter_cancelled_while_waiting_holds_nothing() {
    let cond = Arc::new(Condition::new(0));
    let c = cond.clone();
    let w = spawn(async move {
        let g = c.acquire().await;
        let _g = g.wait().await;
    });
    yield_now().await;
    assert!(!cond.locked(), "wait released the lock");
    w.cancel();
    assert!(w.await.unwrap_err().is_cancelled());
    assert!(!cond.locked());
    assert_eq!(cond.acquire().await.notify_all(), 0, "no stale waiter");
}

#[conductor::test(paused)]
async fn a_waiter_cancelled_while_reacquiring_passes_the_lock_on() {
    let cond = Arc::new(Condition::default());
    let l = log();
    let a = waiter(&cond, &l, "a");
    let b = waiter(&cond, &l, "b");
    yield_now().await;
    let guard = cond.acquire().await;
    guard.notify_all();
    sleep(Duration::from_secs(1)).await; // a and b now wait for the lock
    drop(guard); // handed to a
    a.cancel();
    assert!(a.await.is_err());
    timeout(Duration::from_secs(60), b)
        .await
        .expect("the lock was lost with a")
        .unwrap();
    assert_eq!(take(&l), ["b in", "b out"]);
    assert!(!cond.locked());
}

/// asyncio 3.13 (gh-112202): `notify(1)` chooses a, a is cancelled while it waits for the
/// lock again (the notifier still holds it), and the notification goes on to b. Python 3.11
/// loses it (b waits forever); 3.13 prints `log: ['B woke']`.
#[conductor::test(paused)]
async fn a_notified_waiter_cancelled_while_reacquiring_passes_the_notification_on() {
    let cond = Arc::new(Condition::default());
    let l = log();
    let a = waiter(&cond, &l, "a");
    let b = waiter(&cond, &l, "b");
    yield_now().await;
    let guard = cond.acquire().await;
    assert_eq!(guard.notify(1), 1); // chooses a
    sleep(Duration::from_secs(1)).await; // a runs and queues for the lock this guard holds
    a.cancel();
    assert!(a.await.unwrap_err().is_cancelled());
    drop(guard);
    timeout(Duration::from_secs(60), b)
        .await
        .expect("the notification was lost with a")
        .unwrap();
    assert_eq!(take(&l), ["b in", "b out"]);
}

#[conductor::test(paused)]
async fn wait_for_checks_the_predicate_with_the_lock_held() {
    let cond = Arc::new(Condition::new(Vec::<u32>::new()));
    let c = cond.clone();
    let consumer = spawn(async move {
        let mut items = c.acquire().await.wait_for(|v| v.len() >= 3).await;
        std::mem::take(&mut *items)
    });
    for i in 0..3 {
        yield_now().await;
        let mut items = cond.acquire().await;
        items.push(i);
        items.notify(1);
    }
    assert_eq!(consumer.await.unwrap(), [0, 1, 2]);
    // Already true: no wait at all.
    let g = cond.acquire().await.wait_for(|v| v.is_empty()).await;
    assert!(g.is_empty());
}

#[test]
fn notify_from_another_loop() {
    let cond = Arc::new(Condition::new(false));
    let c = cond.clone();
    let notifier = std::thread::spawn(move || {
        conductor::run(async move {
            loop {
                let mut ready = c.acquire().await;
                // Notify only once the waiter waits (it released the lock inside `wait`).
                if ready.notify(1) == 1 {
                    *ready = true;
                    break;
                }
                drop(ready);
                yield_now().await;
            }
        })
    });
    conductor::run(async move {
        let ready = cond.acquire().await.wait().await;
        // The notifier set the flag after notifying, before releasing: `wait` returned only
        // once it had the lock again, so it sees the write.
        assert!(*ready);
    });
    notifier.join().unwrap();
}
