//! `Barrier` (asyncio 3.11): indices in arrival order, draining, abort, reset.

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::{Barrier, BrokenBarrierError};
use conductor::{Task, sleep, spawn, yield_now};

fn arrive(
    barrier: &Arc<Barrier>,
    after: Duration,
) -> Task<(Result<usize, BrokenBarrierError>, Duration)> {
    let b = barrier.clone();
    spawn(async move {
        let t0 = conductor::now();
        if !after.is_zero() {
            sleep(after).await;
        }
        let out = b.wait().await;
        (out, conductor::now() - t0)
    })
}

#[conductor::test(paused)]
async fn every_party_passes_together_with_its_arrival_index() {
    let barrier = Arc::new(Barrier::new(3));
    let tasks: Vec<_> = (0..3)
        .map(|i| arrive(&barrier, Duration::from_secs(i)))
        .collect();
    sleep(Duration::from_millis(1500)).await;
    assert_eq!(barrier.n_waiting(), 2);
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    let secs = Duration::from_secs(2);
    assert_eq!(out, [(Ok(0), secs), (Ok(1), secs), (Ok(2), secs)]);
    assert_eq!(barrier.n_waiting(), 0);
}

#[conductor::test(paused)]
async fn a_task_arriving_while_the_barrier_drains_waits_for_the_next_round() {
    let barrier = Arc::new(Barrier::new(2));
    let a = arrive(&barrier, Duration::ZERO);
    yield_now().await;
    // b trips the barrier; c arrives in the same loop turn, before a has left.
    let b = arrive(&barrier, Duration::ZERO);
    let c = arrive(&barrier, Duration::ZERO);
    yield_now().await;
    assert_eq!(barrier.n_waiting(), 0, "draining");
    assert_eq!(a.await.unwrap().0, Ok(0));
    assert_eq!(b.await.unwrap().0, Ok(1));
    sleep(Duration::from_secs(1)).await;
    assert_eq!(barrier.n_waiting(), 1, "c waits in the next round");
    let d = arrive(&barrier, Duration::ZERO);
    assert_eq!(c.await.unwrap().0, Ok(0));
    assert_eq!(d.await.unwrap().0, Ok(1));
}

#[conductor::test(paused)]
async fn abort_breaks_waiting_and_later_tasks_until_reset() {
    let barrier = Arc::new(Barrier::new(3));
    let a = arrive(&barrier, Duration::ZERO);
    sleep(Duration::from_secs(1)).await;
    barrier.abort();
    assert!(barrier.broken());
    assert_eq!(a.await.unwrap().0, Err(BrokenBarrierError));
    assert_eq!(barrier.wait().await, Err(BrokenBarrierError));
    barrier.reset();
    assert!(!barrier.broken());
    let tasks: Vec<_> = (0..3).map(|_| arrive(&barrier, Duration::ZERO)).collect();
    for t in tasks {
        assert!(t.await.unwrap().0.is_ok());
    }
}

#[conductor::test(paused)]
async fn reset_breaks_the_waiting_tasks_then_refills() {
    let barrier = Arc::new(Barrier::new(3));
    let a = arrive(&barrier, Duration::ZERO);
    let b = arrive(&barrier, Duration::ZERO);
    sleep(Duration::from_secs(1)).await;
    barrier.reset();
    assert_eq!(a.await.unwrap().0, Err(BrokenBarrierError));
    assert_eq!(b.await.unwrap().0, Err(BrokenBarrierError));
    assert!(!barrier.broken());
    let tasks: Vec<_> = (0..3).map(|_| arrive(&barrier, Duration::ZERO)).collect();
    let mut indices: Vec<_> = Vec::new();
    for t in tasks {
        indices.push(t.await.unwrap().0.unwrap());
    }
    assert_eq!(indices, [0, 1, 2]);
}

#[conductor::test(paused)]
async fn a_cancelled_waiter_leaves_without_breaking_the_barrier() {
    let barrier = Arc::new(Barrier::new(2));
    let a = arrive(&barrier, Duration::ZERO);
    sleep(Duration::from_secs(1)).await;
    assert_eq!(barrier.n_waiting(), 1);
    a.cancel();
    assert!(a.await.unwrap_err().is_cancelled());
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
    let b = arrive(&barrier, Duration::ZERO);
    let c = arrive(&barrier, Duration::ZERO);
    assert_eq!(b.await.unwrap().0, Ok(0));
    assert_eq!(c.await.unwrap().0, Ok(1));
}

#[conductor::test(paused)]
async fn a_barrier_of_one_never_waits() {
    let barrier = Barrier::new(1);
    for _ in 0..3 {
        assert_eq!(barrier.wait().await, Ok(0));
    }
}
