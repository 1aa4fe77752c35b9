//! timeout / timeout_at / wait_for / timeout_scope (asyncio 3.11+ semantics), interval.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use conductor::time::MissedTickBehavior;
use conductor::{
    TimedOut, catch_cancel, sleep, spawn, timeout, timeout_at, timeout_scope, timeout_scope_at,
    wait_for, yield_now,
};
use support::paused;

#[test]
fn timeout_returns_the_value_in_time_and_timed_out_after() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        assert_eq!(timeout(Duration::from_secs(2), async { 1 }).await, Ok(1));
        let slow = timeout(Duration::from_secs(2), async {
            sleep(Duration::from_secs(5)).await;
            2
        });
        assert_eq!(slow.await, Err(TimedOut));
    });
    assert_eq!(rt.now() - t0, Duration::from_secs(2));
}

#[conductor::test(paused)]
async fn a_zero_timeout_fires_unless_the_work_is_already_done() {
    assert_eq!(timeout(Duration::ZERO, async { "done" }).await, Ok("done"));
    assert_eq!(
        timeout(Duration::ZERO, sleep(Duration::from_secs(1))).await,
        Err(TimedOut)
    );
    let past = conductor::now() - Duration::from_secs(1);
    assert_eq!(timeout_at(past, yield_now()).await, Err(TimedOut));
}

#[test]
fn on_expiry_the_inner_work_is_dropped() {
    struct Flag(Rc<RefCell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            *self.0.borrow_mut() = true;
        }
    }
    let dropped = Rc::new(RefCell::new(false));
    let d = dropped.clone();
    paused().block_on(async move {
        let r = timeout(Duration::from_secs(1), async move {
            let _f = Flag(d);
            sleep(Duration::from_secs(10)).await;
        })
        .await;
        assert_eq!(r, Err(TimedOut));
    });
    assert!(*dropped.borrow());
}

#[test]
fn wait_for_waits_for_the_cancelled_work_to_clean_up() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async move {
        let r = wait_for(
            async move {
                if let Err(c) = catch_cancel(sleep(Duration::from_secs(10))).await {
                    sleep(Duration::from_secs(3)).await; // cleanup, with awaits
                    l.borrow_mut().push("cleanup done");
                    return c.reraise().await;
                }
                "finished"
            },
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(r, Err(TimedOut));
    });
    assert_eq!(*log.borrow(), ["cleanup done"]);
    assert_eq!(
        rt.now() - t0,
        Duration::from_secs(4),
        "1 s timeout + 3 s cleanup"
    );
}

#[test]
fn wait_for_returns_the_value_when_the_work_suppresses_the_cancellation() {
    // asyncio 3.12's test_wait_for_cancel_suppressed.
    paused().block_on(async {
        let r = wait_for(
            async {
                let _ = catch_cancel(sleep(Duration::from_secs(10))).await;
                "suppressed"
            },
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(r, Ok("suppressed"));
    });
}

#[conductor::test(paused)]
async fn an_outer_cancellation_is_not_swallowed_by_a_timeout() {
    let t =
        spawn(async { timeout(Duration::from_secs(100), sleep(Duration::from_secs(10))).await });
    yield_now().await;
    t.cancel();
    assert!(t.await.unwrap_err().is_cancelled());
}

#[conductor::test(paused)]
async fn nested_timeouts_fire_independently() {
    let outer = timeout(Duration::from_secs(10), async {
        let inner = timeout(Duration::from_secs(1), sleep(Duration::from_secs(5))).await;
        assert_eq!(inner, Err(TimedOut));
        "outer survived"
    })
    .await;
    assert_eq!(outer, Ok("outer survived"));

    let outer = timeout(Duration::from_secs(1), async {
        timeout(Duration::from_secs(10), sleep(Duration::from_secs(5))).await
    })
    .await;
    assert_eq!(
        outer,
        Err(TimedOut),
        "the outer deadline cancels through the inner scope"
    );
}

#[test]
fn timeout_scope_can_be_inspected_and_rescheduled() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        // Pushed later: the work finishes.
        let r = timeout_scope(Some(Duration::from_secs(1)), |cm| async move {
            assert!(cm.when().is_some());
            cm.reschedule(Some(conductor::now() + Duration::from_secs(10)));
            sleep(Duration::from_secs(5)).await;
            assert!(!cm.expired());
            "done"
        })
        .await;
        assert_eq!(r, Ok("done"));
        // Pulled earlier: fires at the new deadline.
        let start = conductor::now();
        let r = timeout_scope(None, |cm| async move {
            cm.reschedule(Some(conductor::now() + Duration::from_secs(2)));
            sleep(Duration::from_secs(60)).await;
        })
        .await;
        assert_eq!(r, Err(TimedOut));
        assert_eq!(conductor::now() - start, Duration::from_secs(2));
    });
    assert_eq!(rt.now() - t0, Duration::from_secs(7));
}

#[test]
fn timed_out_converts_to_io_error() {
    let e: std::io::Error = TimedOut.into();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(TimedOut.to_string(), "timed out");
}

#[test]
fn interval_ticks_on_schedule_and_bursts_missed_ticks() {
    let rt = paused();
    rt.block_on(async {
        let start = conductor::now();
        let mut every = conductor::interval(Duration::from_millis(100));
        let mut ticks = Vec::new();
        for _ in 0..3 {
            ticks.push(every.tick().await - start);
        }
        assert_eq!(ticks, [0, 100, 200].map(Duration::from_millis));
        // Busy for 350 ms: missed ticks come at once (Burst), then on schedule.
        conductor::time::testing::advance(Duration::from_millis(350));
        let a = every.tick().await - start;
        let b = every.tick().await - start;
        assert_eq!(
            (a, b),
            (Duration::from_millis(300), Duration::from_millis(400))
        );
    });
}

#[conductor::test(paused)]
async fn interval_delay_and_skip_behaviors() {
    let start = conductor::now();
    let mut d = conductor::interval(Duration::from_millis(100));
    d.set_missed_tick_behavior(MissedTickBehavior::Delay);
    d.tick().await;
    conductor::time::testing::advance(Duration::from_millis(250));
    assert_eq!(d.tick().await - start, Duration::from_millis(100));
    assert_eq!(d.tick().await - start, Duration::from_millis(350));

    let start = conductor::now();
    let mut s = conductor::interval(Duration::from_millis(100));
    s.set_missed_tick_behavior(MissedTickBehavior::Skip);
    s.tick().await;
    conductor::time::testing::advance(Duration::from_millis(250));
    assert_eq!(s.tick().await - start, Duration::from_millis(100));
    assert_eq!(s.tick().await - start, Duration::from_millis(300));
}

#[test]
fn an_outer_deadline_reaches_a_catch_scope_inside_an_inner_timeout() {
    // Both timeouts get their scope nodes only when the catch scope registers, in nesting
    // order, so the outer one's cancellation still finds the catcher below the inner one.
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    paused().block_on(async move {
        let r = timeout(Duration::from_secs(1), async move {
            timeout(Duration::from_secs(10), async move {
                sleep(Duration::from_millis(10)).await; // registers later than the first poll
                if let Err(c) = catch_cancel(sleep(Duration::from_secs(5))).await {
                    l.borrow_mut().push("caught");
                    c.reraise::<()>().await;
                }
            })
            .await
        })
        .await;
        assert_eq!(
            r,
            Err(TimedOut),
            "the outer timeout fired, through the inner one"
        );
    });
    assert_eq!(*log.borrow(), ["caught"]);
}

#[conductor::test(paused)]
async fn a_panic_inside_a_timeout_leaves_the_loop_consistent() {
    let bad = spawn(timeout(Duration::from_secs(1), async {
        panic!("inside a scope")
    }));
    assert!(bad.await.unwrap_err().is_panic());
    let good = timeout(Duration::from_secs(1), async {
        catch_cancel(sleep(Duration::from_secs(5))).await.is_err()
    })
    .await;
    // The catch scope hung from this timeout (not from a stale frame), so it caught.
    assert_eq!(good, Ok(true));
}

#[test]
fn a_zero_timeout_around_a_shield_cancels_only_the_outer_wait() {
    // asyncio's test_zero_timeout with shield: wait_for times out at once, the shielded work
    // runs on and finishes.
    let finished = Rc::new(RefCell::new(false));
    let f = finished.clone();
    paused().block_on(async move {
        let shielded = conductor::shield(async move {
            sleep(Duration::from_secs(1)).await;
            *f.borrow_mut() = true;
        });
        let inner = shielded.task().task_ref();
        assert_eq!(
            wait_for(shielded, Duration::ZERO).await.map(|_| ()),
            Err(TimedOut)
        );
        assert!(!inner.is_cancelled());
        sleep(Duration::from_secs(2)).await;
    });
    assert!(*finished.borrow());
}

type Log = Rc<RefCell<Vec<&'static str>>>;

/// A body that logs when it starts, when it is cancelled, and when it finishes.
async fn logged(log: Log, suppress: bool) -> &'static str {
    log.borrow_mut().push("started");
    match catch_cancel(sleep(Duration::from_secs(1))).await {
        Ok(()) => {
            log.borrow_mut().push("finished");
            "value"
        }
        Err(c) => {
            log.borrow_mut().push("cancelled");
            if suppress {
                return "suppressed";
            }
            c.reraise().await
        }
    }
}

#[test]
fn wait_for_with_a_zero_timeout_never_starts_the_work() {
    // asyncio 3.11, 3.12, 3.13 (`timeout <= 0`: the coroutine is cancelled before its first
    // step): wait_for(coro, 0) raises TimeoutError and the log stays empty, also for a
    // coroutine that would suppress the cancellation or finish without suspending.
    let log: Log = Rc::default();
    let l = log.clone();
    paused().block_on(async move {
        assert_eq!(
            wait_for(logged(l.clone(), false), Duration::ZERO).await,
            Err(TimedOut)
        );
        assert_eq!(
            wait_for(logged(l.clone(), true), Duration::ZERO).await,
            Err(TimedOut)
        );
        let quick = async {
            l.borrow_mut().push("started");
            "immediate"
        };
        assert_eq!(wait_for(quick, Duration::ZERO).await, Err(TimedOut));
    });
    assert!(log.borrow().is_empty(), "{:?}", log.borrow());
}

#[test]
fn wait_for_with_a_zero_timeout_yields_to_the_loop_once() {
    // asyncio suspends while it cancels; a loop of zero wait_fors does not starve the loop.
    let rt = paused();
    let other = rt.spawn(async {});
    rt.block_on(async {
        let _ = wait_for(async {}, Duration::ZERO).await;
    });
    assert!(other.is_done());
}

#[test]
fn a_zero_timeout_scope_starts_the_body_as_asyncio_timeout_does() {
    // asyncio 3.11-3.13: `async with timeout(0): await coro` runs the coroutine to its first
    // suspension and cancels it there (log ['started', 'cancelled']); one that finishes
    // without suspending returns its value.
    let log: Log = Rc::default();
    let l = log.clone();
    paused().block_on(async move {
        assert_eq!(
            timeout(Duration::ZERO, logged(l.clone(), false)).await,
            Err(TimedOut)
        );
        let past = conductor::now() - Duration::from_secs(1);
        assert_eq!(
            timeout_at(past, logged(l.clone(), false)).await,
            Err(TimedOut)
        );
        assert_eq!(
            timeout(Duration::ZERO, async { "immediate" }).await,
            Ok("immediate")
        );
    });
    assert_eq!(
        *log.borrow(),
        ["started", "cancelled", "started", "cancelled"]
    );
}

#[test]
fn a_zero_timeout_around_a_task_returns_a_done_task_and_cancels_a_pending_one() {
    // asyncio's wait_for(task, 0): a done task gives its result; a pending one is cancelled
    // and awaited (its cleanup runs), and a task that suppresses the cancellation gives its
    // value. Polling a task handle runs none of its code, so conductor's `timeout` does this.
    let log: Log = Rc::default();
    let l = log.clone();
    paused().block_on(async move {
        let done = spawn(async { 5 });
        yield_now().await;
        assert_eq!(
            timeout(Duration::ZERO, done).await.map(|r| r.ok()),
            Ok(Some(5))
        );

        let pending = spawn(logged(l.clone(), false));
        yield_now().await;
        assert_eq!(
            timeout(Duration::ZERO, pending).await.map(|_| ()),
            Err(TimedOut)
        );

        let suppressing = spawn(logged(l.clone(), true));
        yield_now().await;
        let r = timeout(Duration::ZERO, suppressing).await;
        assert_eq!(r.map(|r| r.ok()), Ok(Some("suppressed")));
    });
    assert_eq!(
        *log.borrow(),
        ["started", "cancelled", "started", "cancelled"]
    );
}

/// Runs `timeout_scope(outer, timeout_scope(inner, sleep(1 s)))` and returns the outer result
/// and whether each scope expired (outer, inner).
fn nested_scopes(
    outer: Duration,
    inner: Duration,
) -> (Result<Result<(), TimedOut>, TimedOut>, bool, bool) {
    let handles: Rc<RefCell<Vec<conductor::time::TimeoutHandle>>> = Rc::default();
    let h = handles.clone();
    let r = paused().block_on(async move {
        timeout_scope(Some(outer), |cm| {
            h.borrow_mut().push(cm);
            async move {
                timeout_scope(Some(inner), |cm| {
                    h.borrow_mut().push(cm);
                    sleep(Duration::from_secs(1))
                })
                .await
            }
        })
        .await
    });
    let hs = handles.borrow();
    (r, hs[0].expired(), hs[1].expired())
}

#[test]
fn nested_timeout_scopes_with_the_same_deadline_both_expire() {
    // asyncio 3.11, 3.12, 3.13: `timeout(0)` in `timeout(0)`, and two equal deadlines
    // (0.01 s): the inner scope lets the CancelledError through, the outer one raises
    // TimeoutError, and both report expired() True.
    for d in [Duration::ZERO, Duration::from_millis(10)] {
        assert_eq!(nested_scopes(d, d), (Err(TimedOut), true, true), "{d:?}");
    }
    // asyncio: two `timeout_at(when)` with one `when`.
    paused().block_on(async {
        let when = conductor::now() + Duration::from_millis(10);
        let inner = Rc::new(RefCell::new(None));
        let i = inner.clone();
        let outer = timeout_scope_at(Some(when), move |_| async move {
            let scope = timeout_scope_at(Some(when), |_| sleep(Duration::from_secs(1)));
            *i.borrow_mut() = Some(scope.handle());
            scope.await
        });
        let outer_cm = outer.handle();
        assert_eq!(outer.await, Err(TimedOut));
        assert!(outer_cm.expired());
        assert!(inner.borrow().as_ref().unwrap().expired());
    });
}

#[test]
fn nested_timeout_scopes_with_different_deadlines_expire_alone() {
    // asyncio: outer 0.01 s around inner 0.02 s: outer TimeoutError, inner not expired;
    // outer 0.02 s around inner 0.01 s: the inner TimeoutError reaches the outer body, and
    // the outer scope did not expire.
    let (ms10, ms20) = (Duration::from_millis(10), Duration::from_millis(20));
    assert_eq!(nested_scopes(ms10, ms20), (Err(TimedOut), true, false));
    assert_eq!(nested_scopes(ms20, ms10), (Ok(Err(TimedOut)), false, true));
}

#[conductor::test(paused)]
async fn a_finished_scope_kept_past_its_deadline_did_not_expire() {
    let mut handle = None;
    let mut scope = Box::pin(timeout_scope(Some(Duration::from_secs(1)), |cm| {
        handle = Some(cm);
        async { 1 }
    }));
    assert_eq!(scope.as_mut().await, Ok(1));
    sleep(Duration::from_secs(2)).await;
    drop(scope);
    assert!(!handle.unwrap().expired());
}

#[test]
fn timed_out_has_the_cancellation_as_its_source() {
    // asyncio 3.11-3.13: TimeoutError.__cause__ is the CancelledError the timeout delivered.
    use std::error::Error;
    paused().block_on(async {
        let e = timeout(Duration::from_secs(1), sleep(Duration::from_secs(5)))
            .await
            .unwrap_err();
        let cause = e.source().expect("a timeout has a cause");
        let cancelled = cause.downcast_ref::<conductor::Cancelled>().unwrap();
        assert_eq!(
            cancelled.message(),
            None,
            "asyncio's timeout cancels without a message"
        );
        assert_eq!(cause.to_string(), "cancelled");
        // The chain survives the conversion into io::Error (its source is TimedOut's source).
        let io: std::io::Error = e.into();
        assert!(io.source().unwrap().is::<conductor::Cancelled>());
    });
}

#[test]
fn a_timeout_scope_handle_is_readable_after_the_block() {
    // asyncio 3.11, 3.13: `cm.expired()` after `async with timeout(0.01) as cm:` is True after
    // a TimeoutError, True when the body suppressed the cancellation, False in time.
    paused().block_on(async {
        let ms = Duration::from_millis;
        let scope = timeout_scope(Some(ms(10)), |_| sleep(Duration::from_secs(1)));
        let cm = scope.handle();
        assert_eq!(scope.await, Err(TimedOut));
        assert!(cm.expired());

        let scope = timeout_scope(Some(ms(10)), |_| async {
            let _ = catch_cancel(sleep(Duration::from_secs(1))).await;
        });
        let cm = scope.handle();
        assert_eq!(scope.await, Ok(()), "the body suppressed the cancellation");
        assert!(cm.expired());

        let scope = timeout_scope(Some(Duration::from_secs(1)), |_| sleep(ms(10)));
        let cm = scope.handle();
        assert_eq!(scope.await, Ok(()));
        assert!(!cm.expired());
        // asyncio raises RuntimeError ("Cannot change state of finished Timeout"); here the
        // finished scope ignores it.
        let when = cm.when();
        cm.reschedule(Some(conductor::now()));
        assert_eq!(cm.when(), when);
        assert!(!cm.expired());
    });
}

#[test]
fn timeout_scope_at_takes_a_deadline_and_gives_its_handle() {
    // asyncio 3.11, 3.13: `async with timeout_at(when) as cm`: cm.when() == when;
    // reschedule(now + 0.01) fires after 0.01 s; timeout_at(None).when() is None.
    let rt = paused();
    rt.block_on(async {
        let ms = Duration::from_millis;
        let t0 = conductor::now();
        let when = t0 + ms(50);
        let scope = timeout_scope_at(Some(when), |cm| async move {
            assert_eq!(cm.when(), Some(when));
            cm.reschedule(Some(conductor::now() + ms(10)));
            sleep(Duration::from_secs(1)).await
        });
        let cm = scope.handle();
        assert_eq!(scope.await, Err(TimedOut));
        assert_eq!(conductor::now() - t0, ms(10));
        assert!(cm.expired());

        let scope = timeout_scope_at(None, |cm| async move {
            assert_eq!(cm.when(), None);
            sleep(ms(10)).await
        });
        let cm = scope.handle();
        assert_eq!(scope.await, Ok(()));
        assert!(!cm.expired());
    });
}
