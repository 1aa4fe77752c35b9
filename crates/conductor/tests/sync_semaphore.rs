//! `Semaphore` and `BoundedSemaphore` (asyncio 1.3): FIFO (gh-90155), no barging, permits never
//! lost to cancellation, released by tasks a `TaskGroup` cancels.

mod support;

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::{BoundedSemaphore, Semaphore, TooManyReleases};
use conductor::{gather, sleep, spawn, task_group, timeout, yield_now};
use support::{Log, log, push, take};

async fn hold(sem: Arc<Semaphore>, log: Log, name: &'static str) {
    let _permit = sem.acquire().await;
    push(&log, format!("{name} acquired"));
    sleep(Duration::from_secs(1)).await;
    push(&log, format!("{name} released"));
}

#[conductor::test(paused)]
async fn the_guides_semaphore_2_program_holds_two_at_a_time() {
    // The guide prints three "Acquired" lines first; real asyncio (and this) never has more
    // than two holders.
    let sem = Arc::new(Semaphore::new(2));
    let l = log();
    let semaphoring = |sem: Arc<Semaphore>, l: Log| async move {
        {
            let _p = sem.acquire().await;
            push(&l, "Acquired the semaphore");
            sleep(Duration::from_secs(2)).await;
        }
        push(&l, "Released the semaphore");
    };
    gather((0..4).map(|_| semaphoring(sem.clone(), l.clone())))
        .await
        .unwrap();
    assert_eq!(
        take(&l),
        [
            "Acquired the semaphore",
            "Acquired the semaphore",
            "Released the semaphore",
            "Released the semaphore",
            "Acquired the semaphore",
            "Acquired the semaphore",
            "Released the semaphore",
            "Released the semaphore",
        ]
    );
}

#[conductor::test(paused)]
async fn waiters_get_permits_in_arrival_order() {
    // asyncio's test_acquire_fifo_order.
    let sem = Arc::new(Semaphore::new(1));
    let l = log();
    let tasks: Vec<_> = ["a", "b", "c", "d"]
        .into_iter()
        .map(|n| spawn(hold(sem.clone(), l.clone(), n)))
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        take(&l),
        [
            "a acquired",
            "a released",
            "b acquired",
            "b released",
            "c acquired",
            "c released",
            "d acquired",
            "d released"
        ]
    );
}

#[conductor::test(paused)]
async fn a_newcomer_cannot_barge_past_a_woken_waiter() {
    let sem = Arc::new(Semaphore::new(1));
    let l = log();
    let permit = sem.acquire().await;
    let waiter = spawn(hold(sem.clone(), l.clone(), "waiter"));
    yield_now().await;
    assert!(sem.locked());
    drop(permit); // handed to the waiter, which has not run yet
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.locked());
    assert!(sem.try_acquire().is_err());
    let _p = sem.acquire().await;
    push(&l, "newcomer acquired");
    waiter.await.unwrap();
    assert_eq!(
        take(&l),
        ["waiter acquired", "waiter released", "newcomer acquired"]
    );
}

#[conductor::test(paused)]
async fn a_waiter_cancelled_after_it_was_handed_a_permit_passes_it_on() {
    let sem = Arc::new(Semaphore::new(1));
    let l = log();
    let permit = sem.acquire().await;
    let b = spawn(hold(sem.clone(), l.clone(), "b"));
    let c = spawn(hold(sem.clone(), l.clone(), "c"));
    yield_now().await;
    drop(permit);
    b.cancel();
    assert!(b.await.unwrap_err().is_cancelled());
    timeout(Duration::from_secs(60), c)
        .await
        .expect("the permit was lost")
        .unwrap();
    assert_eq!(take(&l), ["c acquired", "c released"]);
    assert_eq!(sem.available_permits(), 1);
}

#[conductor::test(paused)]
async fn a_large_request_keeps_its_place_in_line() {
    let sem = Arc::new(Semaphore::new(3));
    let l = log();
    let held = sem.acquire_many(2).await;
    let (s1, l1) = (sem.clone(), l.clone());
    let big = spawn(async move {
        let _p = s1.acquire_many(3).await;
        push(&l1, "big");
    });
    yield_now().await;
    // One permit is free, but the big waiter is first in line: a small request waits too.
    assert!(sem.try_acquire().is_err());
    let (s2, l2) = (sem.clone(), l.clone());
    let small = spawn(async move {
        let _p = s2.acquire().await;
        push(&l2, "small");
    });
    yield_now().await;
    assert!(take(&l).is_empty());
    drop(held);
    big.await.unwrap();
    small.await.unwrap();
    assert_eq!(take(&l), ["big", "small"]);
    assert_eq!(sem.available_permits(), 3);
}

#[conductor::test(paused)]
async fn a_cancelled_large_request_lets_smaller_ones_through() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.acquire().await;
    let s1 = sem.clone();
    let big = spawn(async move { s1.acquire_many(2).await.forget() });
    yield_now().await;
    let s2 = sem.clone();
    let small = spawn(async move { s2.acquire().await.num_permits() });
    yield_now().await;
    big.cancel();
    assert!(big.await.is_err());
    drop(held);
    let got = timeout(Duration::from_secs(60), small).await;
    assert_eq!(got.expect("stuck behind a cancelled waiter").unwrap(), 1);
}

#[conductor::test(paused)]
async fn a_permit_held_in_a_task_group_is_released_when_a_sibling_fails() {
    let sem = Arc::new(Semaphore::new(1));
    let (s1, s2) = (sem.clone(), sem.clone());
    let result = task_group(move |tg| async move {
        tg.spawn(async move {
            let _permit = s1.acquire().await;
            sleep(Duration::from_secs(60)).await; // cancelled long before
            Ok(())
        });
        tg.spawn(async move {
            sleep(Duration::from_secs(1)).await;
            assert_eq!(s2.available_permits(), 0, "the sibling holds the permit");
            Err::<(), _>("boom")
        });
        Ok(())
    })
    .await;
    assert_eq!(result.unwrap_err().errors().len(), 1);
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok());
}

#[conductor::test(paused)]
async fn release_adds_permits_and_wakes_in_order() {
    let sem = Arc::new(Semaphore::new(0));
    let l = log();
    let tasks: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|n| {
            let (sem, l) = (sem.clone(), l.clone());
            spawn(async move {
                sem.acquire().await.forget();
                push(&l, n);
            })
        })
        .collect();
    yield_now().await;
    sem.release();
    sem.release();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(take(&l), ["a", "b"]);
}

#[conductor::test(paused)]
async fn owned_permits_and_forget() {
    let sem = Arc::new(Semaphore::new(2));
    let p = sem.clone().acquire_owned().await;
    let q = sem.clone().try_acquire_owned().unwrap();
    assert!(sem.locked());
    spawn(async move { drop(p) }).await.unwrap();
    assert_eq!(sem.available_permits(), 1);
    q.forget();
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn a_bounded_semaphore_refuses_to_grow() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.release(), Err(TooManyReleases));
    let p = sem.try_acquire().unwrap();
    p.forget();
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.release(), Err(TooManyReleases));
    assert_eq!(sem.available_permits(), 2);
    let p = sem.try_acquire_many(2).unwrap();
    drop(p); // permits taken with acquire always go back
    assert_eq!(sem.available_permits(), 2);
}

#[test]
#[should_panic(expected = "more than 2 permits")]
fn releasing_a_bounded_semaphore_through_deref_panics_past_its_bound() {
    let sem = BoundedSemaphore::new(2);
    conductor::sync::Semaphore::release(&sem);
}

#[conductor::test(paused)]
async fn a_bounded_semaphore_release_wakes_a_waiter() {
    let sem = Arc::new(BoundedSemaphore::new(1));
    sem.acquire().await.forget();
    let s = sem.clone();
    let waiter = spawn(async move { s.acquire().await.num_permits() });
    yield_now().await;
    sem.release().unwrap();
    assert_eq!(waiter.await.unwrap(), 1);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn a_thousand_tasks_on_two_loops_share_ten_permits() {
    let sem = Arc::new(Semaphore::new(10));
    let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (sem, busy) = (sem.clone(), busy.clone());
            std::thread::spawn(move || {
                conductor::run(async move {
                    let tasks: Vec<_> = (0..500)
                        .map(|_| {
                            let (sem, busy) = (sem.clone(), busy.clone());
                            spawn(async move {
                                let _p = sem.acquire().await;
                                let n = busy.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                assert!(n < 10, "more than 10 holders");
                                yield_now().await;
                                busy.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sem.available_permits(), 10);
}
