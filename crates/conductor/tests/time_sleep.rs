//! The loop clock, sleep, callbacks (asyncio 1.7 scheduling).

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use conductor::{Runtime, call_at, call_later, call_soon, sleep, sleep_until, spawn, yield_now};
use support::paused;

type Log = Rc<RefCell<Vec<u32>>>;

fn log() -> Log {
    Rc::default()
}

#[test]
fn sleeps_wake_in_deadline_order() {
    let l = log();
    let l2 = l.clone();
    paused().block_on(async move {
        let tasks: Vec<_> = [30u32, 10, 20]
            .into_iter()
            .map(|ms| {
                let l = l2.clone();
                spawn(async move {
                    sleep(Duration::from_millis(ms.into())).await;
                    l.borrow_mut().push(ms);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(*l.borrow(), [10, 20, 30]);
}

#[test]
fn sleep_zero_yields_exactly_one_iteration() {
    let rt = paused();
    let l = log();
    let (a, b) = (l.clone(), l.clone());
    rt.spawn(async move {
        a.borrow_mut().push(1);
        sleep(Duration::ZERO).await;
        a.borrow_mut().push(3);
    })
    .detach();
    rt.spawn(async move {
        b.borrow_mut().push(2);
    })
    .detach();
    rt.run_once();
    assert_eq!(*l.borrow(), [1, 2]);
    rt.run_once();
    assert_eq!(*l.borrow(), [1, 2, 3]);
    assert_eq!(rt.stats().timers, 0, "sleep(0) creates no timer");
}

#[test]
fn sleep_until_the_past_yields_once() {
    let rt = paused();
    let t = rt.spawn(async { sleep_until(Instant::now() - Duration::from_secs(1)).await });
    rt.run_once();
    assert!(!t.is_done());
    rt.run_once();
    assert!(t.is_done());
}

#[test]
fn the_clock_starts_when_the_sleep_is_first_awaited() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        let s = sleep(Duration::from_secs(1));
        sleep(Duration::from_secs(5)).await;
        s.await; // one more second, not zero
    });
    assert_eq!(rt.now() - t0, Duration::from_secs(6));
}

#[test]
fn a_real_clock_sleep_takes_at_least_its_duration() {
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    rt.block_on(sleep(Duration::from_millis(15)));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(15), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn call_soon_runs_in_fifo_order_one_iteration_at_a_time() {
    // One iteration runs exactly the callbacks that were ready when it started.
    let rt = paused();
    let l = log();
    let l2 = l.clone();
    rt.block_on(async move {
        let a = l2.clone();
        let b = l2.clone();
        call_soon(move || {
            a.borrow_mut().push(1);
            let a2 = a.clone();
            call_soon(move || a2.borrow_mut().push(3));
        });
        call_soon(move || b.borrow_mut().push(2));
        yield_now().await;
        l2.borrow_mut().push(100);
        yield_now().await;
    });
    assert_eq!(*l.borrow(), [1, 2, 100, 3]);
}

#[test]
fn a_woken_task_and_call_soon_share_one_fifo() {
    let l = log();
    let l2 = l.clone();
    paused().block_on(async move {
        let a = l2.clone();
        let t = spawn(async move { a.borrow_mut().push(1) });
        let b = l2.clone();
        call_soon(move || b.borrow_mut().push(2));
        t.await.unwrap();
    });
    assert_eq!(*l.borrow(), [1, 2]);
}

#[test]
fn call_later_with_equal_delays_runs_in_call_order() {
    let l = log();
    let l2 = l.clone();
    let rt = paused();
    rt.block_on(async move {
        let at = conductor::now() + Duration::from_millis(100);
        for i in 0..5 {
            let l = l2.clone();
            call_at(at, move || l.borrow_mut().push(i));
        }
        let l = l2.clone();
        call_later(Duration::from_millis(50), move || l.borrow_mut().push(50));
        let l = l2.clone();
        // A time in the past: as soon as possible, ordered by deadline.
        call_at(conductor::now() - Duration::from_secs(1), move || {
            l.borrow_mut().push(99)
        });
        sleep(Duration::from_millis(200)).await;
    });
    assert_eq!(*l.borrow(), [99, 50, 0, 1, 2, 3, 4]);
}

#[test]
fn timer_handles_cancel_and_report_when() {
    let l = log();
    let l2 = l.clone();
    paused().block_on(async move {
        let a = l2.clone();
        let h = call_later(Duration::from_secs(1), move || a.borrow_mut().push(1));
        assert_eq!(h.when() - conductor::now(), Duration::from_secs(1));
        assert!(!h.cancelled());
        h.cancel();
        assert!(h.cancelled());
        let b = l2.clone();
        let soon = call_soon(move || b.borrow_mut().push(2));
        soon.cancel();
        assert!(soon.cancelled());
        sleep(Duration::from_secs(2)).await;
    });
    assert!(l.borrow().is_empty());
}

#[test]
fn a_panicking_callback_does_not_stop_the_loop() {
    let l = log();
    let l2 = l.clone();
    paused().block_on(async move {
        call_soon(|| panic!("callback failed"));
        let a = l2.clone();
        call_soon(move || a.borrow_mut().push(1));
        yield_now().await;
    });
    assert_eq!(*l.borrow(), [1]);
}

#[test]
fn the_paused_clock_jumps_only_when_every_task_waits() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        let busy = spawn(async {
            for _ in 0..100 {
                yield_now().await;
            }
            conductor::now()
        });
        sleep(Duration::from_secs(10)).await;
        // The busy task finished its yields before the clock moved.
        assert_eq!(
            busy.await.unwrap(),
            conductor::now() - Duration::from_secs(10)
        );
    });
    assert_eq!(rt.now() - t0, Duration::from_secs(10));
}

#[test]
fn advance_moves_a_paused_clock_by_hand() {
    let rt = paused();
    let t = rt.spawn(sleep(Duration::from_secs(5)));
    rt.run_once();
    rt.advance(Duration::from_secs(4));
    rt.run_once();
    assert!(!t.is_done());
    rt.advance(Duration::from_secs(1));
    rt.run_once();
    rt.run_once();
    assert!(t.is_done());
}

#[test]
fn the_paused_clock_waits_for_blocking_work() {
    // While a thread-pool job runs, time must not jump past it.
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        let job = conductor::to_thread(|| std::thread::sleep(Duration::from_millis(20)));
        let timer = spawn(sleep(Duration::from_secs(3600)));
        job.await.unwrap();
        assert!(!timer.is_done(), "the timer did not fire while the job ran");
        timer.cancel();
    });
    assert!(rt.now() - t0 < Duration::from_secs(3600));
}

#[test]
fn many_sleepers_all_wake() {
    let rt = paused();
    let n = rt.block_on(async {
        let tasks: Vec<_> = (0..10_000u64)
            .map(|i| spawn(sleep(Duration::from_millis(i % 977))))
            .collect();
        let n = tasks.len();
        for t in tasks {
            t.await.unwrap();
        }
        n
    });
    assert_eq!(n, 10_000);
    assert_eq!(rt.stats().timers, 0);
}

/// Schedules `(label, deadline)` pairs with `call_at` in the given order and returns the labels
/// in the order the callbacks ran.
fn run_call_ats(
    rt: &Runtime,
    at: impl FnOnce(Instant) -> Vec<(u32, Instant)> + 'static,
) -> Vec<u32> {
    let l = log();
    let l2 = l.clone();
    rt.block_on(async move {
        for (label, when) in at(conductor::now()) {
            let l = l2.clone();
            call_at(when, move || l.borrow_mut().push(label));
        }
        sleep(Duration::from_millis(10)).await;
    });

    l.borrow().clone()
}

#[test]
fn past_deadlines_on_a_fresh_loop_run_in_deadline_order() {
    // asyncio (3.11, 3.13): call_at(now - 1) then call_at(now - 2) runs -2 first, also when both
    // deadlines are before the loop started.
    let got = run_call_ats(&paused(), |now| {
        vec![
            (1, now - Duration::from_secs(1)),
            (2, now - Duration::from_secs(2)),
        ]
    });
    assert_eq!(got, [2, 1]);
}

#[test]
fn call_later_with_negative_delays_runs_in_deadline_order() {
    // asyncio: call_later(-2), call_later(-1), call_later(0), call_at(now - 3) print
    // ['at-3', 'later-2', 'later-1', 'later0']. A Duration cannot be negative: the negative
    // delays are deadlines in the past.
    let got = run_call_ats(&paused(), |now| {
        vec![
            (2, now - Duration::from_secs(2)),
            (1, now - Duration::from_secs(1)),
            (0, now),
            (3, now - Duration::from_secs(3)),
        ]
    });
    assert_eq!(got, [3, 2, 1, 0]);
}

#[test]
fn deadlines_long_before_the_loop_started_keep_their_order() {
    // asyncio: call_at(now - 1e6) then call_at(now - 2e6) runs -2e6 first; and a deadline a
    // century back still sorts before one a decade back.
    let year = Duration::from_secs(365 * 24 * 3600);
    let got = run_call_ats(&paused(), move |now| {
        let back = |d: Duration| now.checked_sub(d);
        [
            (1, back(Duration::from_secs(1_000_000))),
            (2, back(Duration::from_secs(2_000_000))),
            (10, back(year * 10)),
            (100, back(year * 100)),
        ]
        .into_iter()
        .filter_map(|(l, at)| Some((l, at?)))
        .collect()
    });
    // The platform's monotonic clock may not reach a century back; what it reaches is ordered.
    let mut want = got.clone();
    want.sort_by_key(|l| std::cmp::Reverse(*l));
    assert_eq!(got, want);
    assert!(got.ends_with(&[2, 1]), "{got:?}");
}

#[test]
fn due_timers_within_one_millisecond_run_by_exact_deadline() {
    // asyncio orders by the exact deadline, below the wheel's 1 ms tick too.
    let got = run_call_ats(&paused(), |now| {
        let base = now + Duration::from_millis(5);
        vec![
            (4, base + Duration::from_micros(400)),
            (1, base + Duration::from_micros(100)),
            (3, base + Duration::from_micros(300)),
        ]
    });
    assert_eq!(got, [1, 3, 4]);
}

#[test]
fn due_timers_after_the_loop_ran_a_while_run_in_deadline_order() {
    let rt = paused();
    rt.block_on(sleep(Duration::from_secs(5)));
    let got = run_call_ats(&rt, |now| {
        vec![
            (1, now - Duration::from_secs(1)),
            (7, now - Duration::from_secs(7)),
            (2, now - Duration::from_secs(2)),
            (0, now),
        ]
    });
    assert_eq!(got, [7, 2, 1, 0]);
}

#[test]
fn a_sleep_is_send_and_sync_and_can_be_dropped_on_another_thread() {
    // hyper's `Timer` returns `Pin<Box<dyn Sleep + Send + Sync>>`: conductor's `Sleep` holds
    // no pointer to its loop (only the loop's id and a timer key), so it qualifies.
    fn send_sync<T: Send + Sync>(_: &T) {}
    paused().block_on(async {
        let mut sleep = Box::pin(conductor::sleep(Duration::from_secs(10)));
        send_sync(&sleep);
        // Registered with the wheel, then dropped elsewhere: the entry fires harmlessly.
        assert!(
            futures_lite::future::poll_once(sleep.as_mut())
                .await
                .is_none()
        );
        std::thread::spawn(move || drop(sleep)).join().unwrap();
        conductor::sleep(Duration::from_secs(20)).await;
    });
}
