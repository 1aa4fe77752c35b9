//! Cancellation (asyncio 1.2): delivered at the next suspension point, catchable, counted.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use conductor::{catch_cancel, sleep, spawn, yield_now};
use support::{Log, log, paused, push};

#[conductor::test(paused)]
async fn cancel_returns_true_until_done_and_counts_requests() {
    let t = spawn(sleep(Duration::from_secs(10)));
    yield_now().await;
    assert!(t.cancel());
    assert!(t.cancel(), "a repeated cancel still returns true");
    assert_eq!(t.cancelling(), 2);
    yield_now().await;
    assert!(t.is_done() && t.is_cancelled());
    assert!(!t.cancel(), "cancel on a finished task returns false");
    let done = spawn(async {});
    yield_now().await;
    assert!(!done.cancel());
    assert!(!done.is_cancelled());
}

#[test]
fn a_task_cancelled_before_it_starts_never_runs() {
    let ran = Rc::new(RefCell::new(false));
    let r = ran.clone();
    paused().block_on(async move {
        let t = spawn(async move { *r.borrow_mut() = true });
        t.cancel();
        assert!(t.await.unwrap_err().is_cancelled());
    });
    assert!(!*ran.borrow());
}

#[test]
fn self_cancel_then_return_ends_cancelled() {
    // asyncio's test_cancel_at_end: the result is discarded.
    paused().block_on(async {
        let t = spawn(async {
            conductor::current_task().unwrap().cancel();
            12
        });
        let err = t.await.unwrap_err();
        assert!(err.is_cancelled());
    });
}

#[test]
fn by_default_the_future_is_dropped_at_the_suspension_point() {
    struct Guard(Log);
    impl Drop for Guard {
        fn drop(&mut self) {
            push(&self.0, "guard dropped");
        }
    }
    let l = log();
    let l2 = l.clone();
    paused().block_on(async move {
        let t = spawn(async move {
            let _g = Guard(l2.clone());
            push(&l2, "before await");
            sleep(Duration::from_secs(5)).await;
            push(&l2, "never");
        });
        sleep(Duration::from_secs(1)).await;
        t.cancel();
        assert!(t.await.unwrap_err().is_cancelled());
    });
    assert_eq!(*l.borrow(), ["before await", "guard dropped"]);
}

#[test]
fn the_guides_cancellation_example() {
    // async def long_task():
    //     try: print("Task started"); await asyncio.sleep(5); print("Task finished")
    //     except asyncio.CancelledError: print("Task cancelled")
    let l = log();
    let l2 = l.clone();
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async move {
        let t = spawn(async move {
            push(&l2, "Task started");
            match catch_cancel(sleep(Duration::from_secs(5))).await {
                Ok(()) => push(&l2, "Task finished"),
                Err(_) => push(&l2, "Task cancelled"),
            }
        });
        sleep(Duration::from_secs(1)).await;
        t.cancel();
        // The task swallowed the cancellation, so awaiting it succeeds.
        t.await.unwrap();
    });
    assert_eq!(*l.borrow(), ["Task started", "Task cancelled"]);
    assert_eq!(rt.now() - t0, Duration::from_secs(1));
}

#[test]
fn a_task_that_catches_and_returns_is_not_cancelled() {
    // asyncio's test_cancel_task_catching: the task returns 42.
    paused().block_on(async {
        let t = spawn(async {
            let _ = catch_cancel(sleep(Duration::from_secs(10))).await;
            sleep(Duration::from_millis(1)).await; // async cleanup
            42
        });
        yield_now().await;
        t.cancel();
        let t = t.task_ref();
        yield_now().await;
        assert!(!t.is_done(), "cleanup awaits");
        sleep(Duration::from_millis(2)).await;
        assert!(t.is_done());
        assert!(!t.is_cancelled());
    });
}

#[test]
fn reraise_ends_the_task_cancelled_after_cleanup() {
    let l = log();
    let l2 = l.clone();
    paused().block_on(async move {
        let t = spawn(async move {
            if let Err(c) = catch_cancel(sleep(Duration::from_secs(10))).await {
                sleep(Duration::from_millis(5)).await;
                push(&l2, "cleaned");
                return c.reraise().await;
            }
            push(&l2, "finished");
        });
        yield_now().await;
        t.cancel();
        assert!(t.await.unwrap_err().is_cancelled());
    });
    assert_eq!(*l.borrow(), ["cleaned"]);
}

#[conductor::test(paused)]
async fn the_cancel_message_round_trips() {
    let t = spawn(async {
        match catch_cancel(sleep(Duration::from_secs(1))).await {
            Err(c) => c.message().map(str::to_owned),
            Ok(()) => None,
        }
    });
    yield_now().await;
    t.cancel_with("shutting down");
    assert_eq!(t.await.unwrap().as_deref(), Some("shutting down"));

    let t = spawn(sleep(Duration::from_secs(1)));
    t.cancel_with("bye");
    let err = t.await.unwrap_err();
    assert_eq!(err.to_string(), "cancelled: bye");
}

#[test]
fn the_innermost_catch_scope_catches_first_and_reraise_reaches_the_outer() {
    let l = log();
    let l2 = l.clone();
    paused().block_on(async move {
        let t = spawn(async move {
            let outer = catch_cancel(async {
                let inner = catch_cancel(sleep(Duration::from_secs(10))).await;
                push(&l2, "inner caught");
                if let Err(c) = inner {
                    sleep(Duration::from_millis(1)).await;
                    c.reraise::<()>().await;
                }
                push(&l2, "not reached");
            })
            .await;
            push(
                &l2,
                if outer.is_err() {
                    "outer caught"
                } else {
                    "outer ok"
                },
            );
            7
        });
        yield_now().await;
        t.cancel();
        assert_eq!(t.await.unwrap(), 7);
    });
    assert_eq!(*l.borrow(), ["inner caught", "outer caught"]);
}

#[test]
fn cancelling_a_task_cancels_the_task_it_awaits_and_waits_for_it() {
    let l = log();
    let (l1, l2) = (l.clone(), l.clone());
    paused().block_on(async move {
        let outer = spawn(async move {
            let inner = spawn(async move {
                if catch_cancel(sleep(Duration::from_secs(10))).await.is_err() {
                    sleep(Duration::from_secs(1)).await;
                    push(&l1, "inner cleaned up");
                }
                "inner suppressed"
            });
            let r = inner.await;
            push(&l2, "outer resumed");
            r.unwrap()
        });
        yield_now().await;
        yield_now().await;
        outer.cancel();
        // The inner task swallowed the forwarded cancellation and returned a value: as in
        // asyncio, the outer task receives it and is not cancelled.
        assert_eq!(outer.await.unwrap(), "inner suppressed");
    });
    assert_eq!(*l.borrow(), ["inner cleaned up", "outer resumed"]);
}

#[test]
fn a_forwarded_cancellation_comes_back_when_the_awaited_task_is_cancelled() {
    let l = log();
    let l1 = l.clone();
    paused().block_on(async move {
        let inner = spawn(async move {
            if let Err(c) = catch_cancel(sleep(Duration::from_secs(10))).await {
                sleep(Duration::from_secs(1)).await;
                push(&l1, "inner cleaned up");
                c.reraise::<()>().await;
            }
        });
        let inner_ref = inner.task_ref();
        let outer = spawn(async move {
            inner.await.unwrap();
            "outer finished"
        });
        yield_now().await;
        outer.cancel();
        let err = outer.await.unwrap_err();
        assert!(err.is_cancelled());
        assert!(inner_ref.is_cancelled());
    });
    assert_eq!(*l.borrow(), ["inner cleaned up"]);
}

#[conductor::test(paused)]
async fn dropping_a_task_handle_does_not_cancel_it() {
    let t = spawn(sleep(Duration::from_secs(1)));
    let r = t.task_ref();
    drop(t);
    sleep(Duration::from_secs(2)).await;
    assert!(r.is_done() && !r.is_cancelled());
}

#[test]
fn shield_protects_the_inner_task_but_the_awaiter_is_cancelled() {
    let finished = Rc::new(RefCell::new(false));
    let f = finished.clone();
    paused().block_on(async move {
        let outer = spawn(async move {
            conductor::shield(async move {
                sleep(Duration::from_secs(2)).await;
                *f.borrow_mut() = true;
            })
            .await
        });
        sleep(Duration::from_secs(1)).await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        sleep(Duration::from_secs(2)).await;
    });
    assert!(*finished.borrow(), "the shielded work ran to completion");
}

#[conductor::test(paused)]
async fn shield_reports_the_cancellation_of_the_inner_task() {
    let s = conductor::shield(sleep(Duration::from_secs(5)));
    s.task().cancel();
    assert!(s.await.unwrap_err().is_cancelled());
}

#[conductor::test(paused)]
async fn uncancel_takes_back_a_pending_request() {
    let t = spawn(async {
        sleep(Duration::from_secs(1)).await;
        "survived"
    });
    yield_now().await;
    t.cancel();
    assert_eq!(t.uncancel(), 0);
    assert_eq!(t.await.unwrap(), "survived");
}

#[conductor::test(paused)]
async fn self_cancel_is_caught_by_a_scope_entered_in_the_same_step() {
    let t = spawn(async {
        conductor::current_task().unwrap().cancel();
        catch_cancel(sleep(Duration::from_secs(1))).await.is_err()
    });
    assert!(
        t.await.unwrap(),
        "the catch scope received the cancellation"
    );
}

#[test]
fn a_task_cancellation_passes_through_a_timeout() {
    // The cancel of the whole task is not the timeout's: a catch inside the timeout gets it and
    // the timeout does not turn it into TimedOut.
    paused().block_on(async {
        let t = spawn(async {
            conductor::timeout(Duration::from_secs(100), async {
                catch_cancel(sleep(Duration::from_secs(10))).await.is_err()
            })
            .await
        });
        yield_now().await;
        t.cancel();
        assert_eq!(t.await.unwrap(), Ok(true));
    });
}

#[test]
fn cancelling_a_sleeping_task_removes_its_timer() {
    let rt = paused();
    let t = rt.spawn(sleep(Duration::from_secs(100)));
    rt.run_once();
    assert_eq!(rt.stats().timers, 1);
    t.cancel();
    rt.run_once();
    assert_eq!(rt.stats().timers, 0);
    assert!(t.is_cancelled());
}

#[test]
fn a_catch_scope_outside_any_task_is_transparent() {
    // Polled by a plain executor loop (here: the main task awaiting an inner future), a catch
    // scope that never receives a cancellation just returns the value.
    let v = paused().block_on(async { catch_cancel(async { 3 }).await.unwrap() });
    assert_eq!(v, 3);
}
