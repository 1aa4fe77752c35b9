//! asyncio's `Future` (`loop.create_future()`) as `SettableFuture`: each test pins what the
//! equivalent Python program prints on 3.11 and 3.13 (the program is in the test's comment).

mod support;

use std::future::IntoFuture;
use std::time::Duration;

use conductor::future::{FutureError, SettableFuture, create_future};
use conductor::{InvalidState, Runtime};
use support::{Log, log, paused, push};

async fn waiter(name: &'static str, fut: SettableFuture<i32, String>, log: Log) {
    match fut.await {
        Ok(v) => push(&log, format!("{name} got {v}")),
        Err(FutureError::Cancelled(c)) => push(&log, format!("{name} cancelled {:?}", c.message())),
        Err(e) => push(&log, format!("{name} exc {e}")),
    }
}

/// ```python
/// f = loop.create_future()
/// f.add_done_callback(lambda _: log.append("cb1"))
/// f.add_done_callback(lambda _: log.append("cb2"))
/// ts = [asyncio.create_task(waiter(f"w{i}", f)) for i in range(2)]
/// await asyncio.sleep(0)
/// f.set_result(7); log.append("set")
/// await asyncio.sleep(0); log.append("after one iteration")
/// ```
/// prints cb1, cb2, w0 got 7, w1 got 7 after "set", all within one iteration: callbacks and
/// awaiters are told in the order they registered.
#[test]
fn callbacks_and_awaiters_are_told_in_registration_order_one_iteration_later() {
    let log = log();
    let l = log.clone();
    paused().block_on(async move {
        let f = create_future::<i32, String>();
        let (a, b) = (l.clone(), l.clone());
        f.add_done_callback(move |_| push(&a, "cb1"));
        f.add_done_callback(move |_| push(&b, "cb2"));
        let c = l.clone();
        let cb3 = f.add_done_callback(move |_| push(&c, "cb3"));
        push(&l, format!("removed {}", f.remove_done_callback(cb3)));
        let ts: Vec<_> = ["w0", "w1"]
            .into_iter()
            .map(|n| conductor::spawn(waiter(n, f.clone(), l.clone())))
            .collect();
        conductor::yield_now().await;
        f.set_result(7).unwrap();
        push(&l, format!("set; done={}", f.is_done()));
        conductor::yield_now().await;
        push(&l, "after one iteration");
        for t in ts {
            t.await.unwrap();
        }
    });
    assert_eq!(
        *log.borrow(),
        [
            "removed true",
            "set; done=true",
            "cb1",
            "cb2",
            "w0 got 7",
            "w1 got 7",
            "after one iteration"
        ]
    );
}

/// asyncio: `result()`/`exception()` before done raise `InvalidStateError`; a second
/// `set_result`, a `set_exception` after it, raise `InvalidStateError: invalid state`;
/// `cancel()` of a done future returns False; `result()` keeps returning the value.
#[conductor::test(paused)]
async fn invalid_state_rules_follow_asyncio() {
    let f = create_future::<i32, String>();
    assert_eq!(
        f.result(),
        Err(FutureError::InvalidState(InvalidState::NotDone))
    );
    assert_eq!(
        f.exception(),
        Err(FutureError::InvalidState(InvalidState::NotDone))
    );
    f.set_result(7).unwrap();
    assert_eq!(f.set_result(8), Err(InvalidState::AlreadyDone));
    assert_eq!(
        f.set_exception("late".into()),
        Err(InvalidState::AlreadyDone)
    );
    assert!(!f.cancel(), "a done future cannot be cancelled");
    assert_eq!(f.result(), Ok(7));
    assert_eq!(f.result(), Ok(7), "every read gets the value");
    assert_eq!(f.exception(), Ok(None));
    assert!(!f.is_cancelled());
}

/// asyncio: `g.set_exception(ValueError("bad"))`: `result()` raises it, `exception()` returns it;
/// `h.cancel("why")` returns True, `result()` and `exception()` raise `CancelledError("why")`.
#[conductor::test(paused)]
async fn an_error_and_a_cancellation_are_outcomes_too() {
    let g = create_future::<i32, String>();
    g.set_exception("bad".into()).unwrap();
    assert_eq!(g.result(), Err(FutureError::Failed("bad".into())));
    assert_eq!(g.exception(), Ok(Some("bad".to_string())));
    assert_eq!((&g).await, Err(FutureError::Failed("bad".into())));

    let h = create_future::<i32, String>();
    assert!(h.cancel_with("why"));
    assert!(h.is_cancelled() && h.is_done());
    match h.result() {
        Err(FutureError::Cancelled(c)) => assert_eq!(c.message(), Some("why")),
        other => panic!("expected a cancellation, got {other:?}"),
    }
    assert!(matches!(h.exception(), Err(FutureError::Cancelled(_))));
}

/// asyncio: a callback added once the future is done still runs, from the loop, not inline.
#[test]
fn a_callback_added_after_completion_runs_at_the_next_iteration() {
    let log = log();
    let l = log.clone();
    paused().block_on(async move {
        let f = create_future::<i32, String>();
        f.set_result(1).unwrap();
        let a = l.clone();
        f.add_done_callback(move |f| push(&a, format!("late cb sees {:?}", f.result())));
        push(&l, "added");
        conductor::yield_now().await;
        push(&l, "yielded");
    });
    assert_eq!(*log.borrow(), ["added", "late cb sees Ok(1)", "yielded"]);
}

/// ```python
/// k = loop.create_future()
/// t1 = asyncio.create_task(waiter("k1", k)); t2 = asyncio.create_task(waiter("k2", k))
/// await asyncio.sleep(0); t1.cancel("stop")
/// await asyncio.sleep(0); log.append(f"k cancelled={k.cancelled()}")
/// ```
/// prints `k1 cancelled ('stop',)`, `k2 cancelled ('stop',)`, `k cancelled=True`, and both tasks
/// end cancelled: cancelling a task cancels the future it awaits.
#[test]
fn cancelling_an_awaiting_task_cancels_the_future_for_every_awaiter() {
    let log = log();
    let l = log.clone();
    paused().block_on(async move {
        let k = create_future::<i32, String>();
        let (k1, k2) = (k.clone(), k.clone());
        let t1 = conductor::spawn(k1.into_future());
        let l2 = l.clone();
        let t2 = conductor::spawn(async move { waiter("k2", k2, l2).await });
        conductor::yield_now().await;
        t1.cancel_with("stop");
        conductor::yield_now().await;
        push(&l, format!("k cancelled={}", k.is_cancelled()));
        let r1 = t1.await;
        assert!(
            r1.unwrap_err().is_cancelled(),
            "the awaiting task ends cancelled"
        );
        t2.await.unwrap();
        match k.result() {
            Err(FutureError::Cancelled(c)) => assert_eq!(c.message(), Some("stop")),
            other => panic!("expected a cancelled future, got {other:?}"),
        }
    });
    // The awaiters were woken when the future was cancelled, before the canceller resumed.
    assert_eq!(
        *log.borrow(),
        ["k2 cancelled Some(\"stop\")", "k cancelled=true"]
    );
}

/// A task that catches its cancellation at the await goes on (asyncio's `except
/// CancelledError:`); the future is cancelled all the same.
#[conductor::test(paused)]
async fn a_task_catching_its_cancellation_at_the_await_goes_on() {
    let f = create_future::<i32, String>();
    let g = f.clone();
    let t = conductor::spawn(async move {
        match conductor::catch_cancel(g.into_future()).await {
            Err(c) => format!("caught {:?}", c.message()),
            Ok(r) => format!("finished {r:?}"),
        }
    });
    conductor::yield_now().await;
    t.cancel_with("bye");
    assert_eq!(t.await.unwrap(), "caught Some(\"bye\")");
    assert!(f.is_cancelled());
}

/// A future cancelled by someone else is an outcome the awaiter reads as a value; its own task
/// is not cancelled (as with an awaited `Task` that ends cancelled).
#[conductor::test(paused)]
async fn a_future_cancelled_elsewhere_is_reported_to_the_awaiter_as_a_value() {
    let f = create_future::<i32, String>();
    let g = f.clone();
    let t = conductor::spawn(async move { g.await });
    conductor::yield_now().await;
    f.cancel();
    assert!(matches!(t.await, Ok(Err(FutureError::Cancelled(_)))));
}

/// asyncio: `await asyncio.wait_for(f, 1)` and `async with asyncio.timeout(1): await g` cancel
/// the future on expiry (`f.cancelled()` is True); through `shield` it is left alone.
#[conductor::test(paused)]
async fn a_timeout_around_the_await_cancels_the_future() {
    let f = create_future::<i32, String>();
    let expired = conductor::wait_for(f.clone().into_future(), Duration::from_secs(1)).await;
    assert!(expired.is_err());
    assert!(f.is_cancelled(), "wait_for cancels the awaited future");

    let h = create_future::<i32, String>();
    let shielded = conductor::shield(h.clone().into_future());
    assert!(
        conductor::wait_for(shielded, Duration::from_secs(1))
            .await
            .is_err()
    );
    assert!(!h.is_done(), "a shielded future is left alone");
}

/// Another thread sets the future through its `Send` setter; the value arrives on the loop.
#[test]
fn another_thread_sets_the_result_through_the_setter() {
    let rt = Runtime::new().unwrap();
    let got = rt.block_on(async {
        let f = create_future::<String, String>();
        let setter = f.threadsafe();
        let worker = std::thread::spawn(move || setter.set_result("from a thread".into()));
        let got = (&f).await;
        worker.join().unwrap().unwrap();
        got
    });
    assert_eq!(got.unwrap(), "from a thread");
}

/// A setter dropped unused on another thread leaves the future pending, and its count of the
/// future's state goes back to the loop (no leak, no drop off-thread).
#[conductor::test(paused)]
async fn a_setter_dropped_unused_leaves_the_future_pending() {
    let f = create_future::<i32, String>();
    let setter = f.threadsafe();
    std::thread::spawn(move || drop(setter)).join().unwrap();
    conductor::sleep(Duration::from_millis(1)).await;
    assert!(!f.is_done());
    assert!(f.set_result(1).is_ok());
}
