//! Durations at the limits: `Duration::MAX` means "never" (asyncio accepts `math.inf`), at every
//! entry point, without a panic and without spinning. Debug builds (the test profile) check
//! arithmetic overflow, so each test also guards against "overflow when adding duration".

mod support;

use std::time::Duration;

use conductor::sync::oneshot;
use conductor::{
    Runtime, TimedOut, call_later, interval, sleep, spawn, timeout, timeout_scope, wait_for,
};
use support::paused;

/// A future that another thread completes after `ms`: the loop has nothing to do until then
/// but wait, which is when a paused clock jumps to the next timer.
fn from_another_thread(ms: u64) -> oneshot::Receiver<()> {
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(ms));
        let _ = tx.send(());
    });
    rx
}

/// Iterations a loop may spend waiting for a thread without spinning.
const FEW: u64 = 20;

#[test]
fn sleep_max_under_a_paused_clock_neither_overflows_nor_spins_nor_fires() {
    // asyncio: `await asyncio.sleep(math.inf)` waits forever.
    let rt = paused();
    let t0 = rt.now();
    let forever = rt.spawn(sleep(Duration::MAX));
    rt.block_on(async {
        from_another_thread(30).await.unwrap();
    });
    assert!(
        !forever.is_done(),
        "a deadline past the end of time never comes"
    );
    assert_eq!(rt.now(), t0, "the paused clock did not jump to it");
    assert!(
        rt.stats().iterations < FEW,
        "the loop parked: {} iterations",
        rt.stats().iterations
    );
}

#[test]
fn call_later_max_schedules_a_callback_that_never_runs() {
    // asyncio: call_later(math.inf).when() is inf; the callback never runs.
    let rt = paused();
    let ran = rt.block_on(async {
        let ran = std::rc::Rc::new(std::cell::Cell::new(false));
        let r = ran.clone();
        let h = call_later(Duration::MAX, move || r.set(true));
        assert!(h.when() > conductor::now() + Duration::from_secs(200 * 365 * 86_400));
        from_another_thread(20).await.unwrap();
        sleep(Duration::from_secs(3600)).await;
        h.cancel();
        ran.get()
    });
    assert!(!ran);
    assert!(rt.stats().iterations < FEW);
}

#[test]
fn timeout_max_lets_the_work_finish() {
    // asyncio: wait_for(sleep(0.01, "ok"), math.inf) returns "ok".
    paused().block_on(async {
        let slow = async {
            sleep(Duration::from_secs(3600)).await;
            "ok"
        };
        assert_eq!(timeout(Duration::MAX, slow).await, Ok("ok"));
        assert_eq!(wait_for(async { 1 }, Duration::MAX).await, Ok(1));
    });
}

#[test]
fn a_timeout_around_sleep_max_fires_at_its_own_deadline() {
    // asyncio: wait_for(sleep(math.inf), 0.01) raises TimeoutError.
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        assert_eq!(
            timeout(Duration::from_secs(1), sleep(Duration::MAX)).await,
            Err(TimedOut)
        );
    });
    assert_eq!(rt.now() - t0, Duration::from_secs(1));
}

#[test]
fn timeout_scope_max_has_a_deadline_that_never_comes() {
    // asyncio: timeout(math.inf).when() is inf and it does not expire.
    let rt = paused();
    rt.block_on(async {
        let r = timeout_scope(Some(Duration::MAX), |cm| async move {
            assert!(cm.when().is_some());
            from_another_thread(20).await.unwrap();
            sleep(Duration::from_secs(3600)).await;
            cm.expired()
        })
        .await;
        assert_eq!(r, Ok(false));
    });
    assert!(rt.stats().iterations < FEW);
}

#[test]
fn timeout_scope_without_a_deadline_does_not_move_a_paused_clock() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        let r = timeout_scope(None, |_| async {
            from_another_thread(20).await.unwrap();
        })
        .await;
        assert_eq!(r, Ok(()));
    });
    assert_eq!(rt.now(), t0);
    assert!(rt.stats().iterations < FEW);
}

#[conductor::test(paused)]
async fn interval_max_ticks_once_then_never() {
    let mut every = interval(Duration::MAX);
    let first = every.tick().await;
    assert_eq!(first, conductor::now());
    assert_eq!(
        timeout(Duration::from_secs(3600), every.tick()).await,
        Err(TimedOut)
    );
    every.reset();
    assert_eq!(
        timeout(Duration::from_secs(1), every.tick()).await,
        Err(TimedOut)
    );
}

#[test]
fn interval_max_with_every_missed_tick_behavior_does_not_panic() {
    use conductor::time::MissedTickBehavior::*;
    for behavior in [Burst, Delay, Skip] {
        paused().block_on(async move {
            let mut every = interval(Duration::MAX);
            every.set_missed_tick_behavior(behavior);
            every.tick().await;
            conductor::time::testing::advance(Duration::from_secs(10));
            assert!(timeout(Duration::from_secs(1), every.tick()).await.is_err());
        });
    }
}

#[test]
fn advancing_a_paused_clock_to_the_end_of_time_fires_what_is_due_and_does_not_spin() {
    let rt = paused();
    let day = rt.spawn(sleep(Duration::from_secs(86_400)));
    let forever = rt.spawn(sleep(Duration::MAX));
    rt.run_once();
    rt.advance(Duration::MAX);
    rt.block_on(async {
        from_another_thread(20).await.unwrap();
    });
    assert!(day.is_done());
    assert!(!forever.is_done());
    assert!(rt.stats().iterations < FEW);
}

#[test]
fn a_shutdown_timeout_of_duration_max_waits_for_the_cleanup() {
    let rt = Runtime::builder()
        .paused_clock()
        .shutdown_timeout(Duration::MAX)
        .build()
        .unwrap();
    let cleaned = std::rc::Rc::new(std::cell::Cell::new(false));
    let c = cleaned.clone();
    rt.block_on(async move {
        spawn(async move {
            if conductor::catch_cancel(sleep(Duration::MAX)).await.is_err() {
                sleep(Duration::from_secs(1)).await;
                c.set(true);
            }
        })
        .detach();
        conductor::yield_now().await;
    });
    rt.shutdown();
    assert!(cleaned.get());
}

#[test]
fn a_blocking_keep_alive_of_duration_max_keeps_the_thread_for_the_next_job() {
    // The idle pool thread waits "forever" for work instead of panicking on its deadline.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = Runtime::builder()
            .max_blocking_threads(1)
            .blocking_keep_alive(Duration::MAX)
            .build()
            .unwrap();
        let sum = rt.block_on(async {
            let a = conductor::to_thread(|| 1).await.unwrap();
            // Let the pool thread go idle, then give it a second job.
            sleep(Duration::from_millis(20)).await;
            a + conductor::to_thread(|| 2).await.unwrap()
        });
        let _ = done.send(sum);
    });
    let sum = finished.recv_timeout(Duration::from_secs(10));
    assert_eq!(sum, Ok(3), "the second job ran");
}
