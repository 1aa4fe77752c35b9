//! `Event` (asyncio 1.3): `set` wakes every waiter; later waiters pass until `clear`.

mod support;

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::Event;
use conductor::{Task, gather, sleep, spawn, timeout, yield_now};
use support::{Log, log, push, take};

/// `n` tasks that each wait for `event`, then log `w{i}`.
fn waiters(event: &Arc<Event>, l: &Log, n: usize) -> Vec<Task<()>> {
    (0..n)
        .map(|i| {
            let (event, l) = (event.clone(), l.clone());
            spawn(async move {
                event.wait().await;
                push(&l, format!("w{i}"));
            })
        })
        .collect()
}

#[conductor::test(paused)]
async fn the_guides_program_wakes_both_waiters() {
    let event = Arc::new(Event::new());
    let l = log();
    let waiter = |name: &'static str| {
        let (event, l) = (event.clone(), l.clone());
        Box::pin(async move {
            push(&l, format!("{name} waiting..."));
            event.wait().await;
            push(&l, format!("{name} received signal, continuing"));
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
    };
    let (e, l2) = (event.clone(), l.clone());
    let setter = Box::pin(async move {
        sleep(Duration::from_secs(2)).await;
        push(&l2, "Triggering event!");
        e.set();
    });
    gather([waiter("W1"), waiter("W2"), setter]).await.unwrap();
    assert_eq!(
        take(&l),
        [
            "W1 waiting...",
            "W2 waiting...",
            "Triggering event!",
            "W1 received signal, continuing",
            "W2 received signal, continuing",
        ]
    );
}

#[conductor::test(paused)]
async fn set_wakes_every_waiter_in_order() {
    let event = Arc::new(Event::new());
    let l = log();
    let tasks = waiters(&event, &l, 5);
    yield_now().await;
    assert!(take(&l).is_empty(), "nobody passes before set");
    event.set();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(take(&l), ["w0", "w1", "w2", "w3", "w4"]);
}

#[conductor::test(paused)]
async fn waiters_after_set_return_at_once_until_clear() {
    let event = Event::new();
    event.set();
    event.wait().await;
    event.wait().await;
    assert!(event.is_set());
    event.clear();
    assert!(!event.is_set());
    let waited = timeout(Duration::from_secs(1), event.wait()).await;
    assert!(waited.is_err(), "after clear, wait waits");
}

#[conductor::test(paused)]
async fn set_then_clear_before_the_waiters_run_still_wakes_them() {
    // asyncio's test_clear_with_waiters.
    let event = Arc::new(Event::new());
    let l = log();
    let tasks = waiters(&event, &l, 2);
    yield_now().await;
    event.set();
    event.clear();
    for t in tasks {
        timeout(Duration::from_secs(60), t)
            .await
            .expect("a woken waiter missed the set")
            .unwrap();
    }
    assert_eq!(take(&l), ["w0", "w1"]);
    assert!(!event.is_set());
}

#[conductor::test(paused)]
async fn a_cancelled_waiter_leaves_no_trace() {
    let event = Arc::new(Event::new());
    let e = event.clone();
    let waiter = spawn(async move { e.wait().await });
    yield_now().await;
    waiter.cancel();
    assert!(waiter.await.unwrap_err().is_cancelled());
    event.set();
    event.wait().await;
}

#[test]
fn set_on_another_thread_wakes_a_loop() {
    let event = Arc::new(Event::new());
    let e = event.clone();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2));
        e.set();
    });
    conductor::run(async move { event.wait().await });
    setter.join().unwrap();
}
