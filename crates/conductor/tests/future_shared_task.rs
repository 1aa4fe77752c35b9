//! A task's result for every observer (`Task::shared`): each test pins what the equivalent
//! asyncio program prints on 3.11 and 3.13.

mod support;

use std::future::IntoFuture;
use std::rc::Rc;
use std::time::Duration;

use conductor::TaskError;
use conductor::future::SharedTask;
use support::{Log, paused, push};

async fn reader(name: &'static str, t: SharedTask<String>, log: Log) {
    match t.await {
        Ok(v) => push(&log, format!("{name} got {v}")),
        Err(e) => push(&log, format!("{name} {e}")),
    }
}

/// ```python
/// t = asyncio.create_task(asyncio.sleep(1, result="v"))
/// rs = [asyncio.create_task(reader(f"r{i}", t)) for i in range(2)]
/// t.add_done_callback(lambda t: log.append(f"cb {t.result()}"))
/// await asyncio.gather(*rs)
/// log.append(f"result again {t.result()} {t.result()}")
/// ```
/// prints `cb v`, `r0 got v`, `r1 got v`, `result again v v`.
#[test]
fn every_awaiter_and_callback_reads_the_result() {
    let log: Log = Rc::default();
    let l = log.clone();
    paused().block_on(async move {
        let t = conductor::spawn(async {
            conductor::sleep(Duration::from_secs(1)).await;
            "v".to_string()
        })
        .shared();
        let rs: Vec<_> = ["r0", "r1"]
            .into_iter()
            .map(|n| conductor::spawn(reader(n, t.clone(), l.clone())))
            .collect();
        let c = l.clone();
        t.add_done_callback(move |t| push(&c, format!("cb {}", t.result().unwrap())));
        for r in rs {
            r.await.unwrap();
        }
        push(
            &l,
            format!(
                "result again {} {}",
                t.result().unwrap(),
                t.result().unwrap()
            ),
        );
    });
    assert_eq!(
        *log.borrow(),
        ["cb v", "r0 got v", "r1 got v", "result again v v"]
    );
}

/// ```python
/// w = asyncio.create_task(work())   # catches, sleeps 1 s, re-raises
/// a = asyncio.create_task(reader("a", w)); b = asyncio.create_task(reader("b", w))
/// await asyncio.sleep(0); a.cancel(); await asyncio.sleep(0)
/// ```
/// prints `work cleanup`, `w cancelling=1 done=False`, `a cancelled`, `b cancelled`, and a, b
/// and w all end cancelled: cancelling one awaiter cancels the task and waits for it.
#[test]
fn cancelling_one_awaiter_cancels_the_task_and_waits_for_its_cleanup() {
    let log: Log = Rc::default();
    let l = log.clone();
    paused().block_on(async move {
        let c = l.clone();
        let w = conductor::spawn(async move {
            if conductor::catch_cancel(conductor::sleep(Duration::from_secs(10)))
                .await
                .is_err()
            {
                push(&c, "work cleanup");
                conductor::sleep(Duration::from_secs(1)).await;
                return "late".to_string();
            }
            "slept".to_string()
        })
        .shared();
        let started = conductor::now();
        let a = conductor::spawn(w.clone().into_future());
        let b = conductor::spawn(reader("b", w.clone(), l.clone()));
        conductor::yield_now().await;
        a.cancel();
        conductor::yield_now().await;
        push(
            &l,
            format!("w cancelling={} done={}", w.cancelling(), w.is_done()),
        );
        let a = a.await;
        b.await.unwrap();
        // The task swallowed the cancellation and returned a value: that is what awaiters get.
        assert_eq!(a.unwrap().unwrap(), "late");
        assert_eq!(conductor::now() - started, Duration::from_secs(1));
    });
    assert_eq!(
        *log.borrow(),
        ["work cleanup", "w cancelling=1 done=false", "b got late"]
    );
}

/// When the shared task ends cancelled by the forwarded cancellation, the awaiter that was
/// cancelled ends cancelled; the other awaiter reads the cancellation as an outcome.
#[conductor::test(paused)]
async fn a_forwarded_cancellation_goes_on_in_the_cancelled_awaiter() {
    let w = conductor::spawn(conductor::sleep(Duration::from_secs(10))).shared();
    let a = conductor::spawn(w.clone().into_future());
    let b = conductor::spawn(w.clone().into_future());
    conductor::yield_now().await;
    a.cancel_with("stop");
    assert!(a.await.unwrap_err().is_cancelled(), "a itself is cancelled");
    assert!(
        matches!(b.await, Ok(Err(TaskError::Cancelled(_)))),
        "b reads the task's cancellation as its outcome"
    );
    assert!(w.is_cancelled());
    assert!(w.result().unwrap_err().is_cancelled());
}

/// A panic reaches every observer, with its message.
#[conductor::test(paused)]
async fn a_panic_reaches_every_observer_with_its_message() {
    let t = conductor::spawn(async {
        conductor::yield_now().await;
        if true {
            panic!("boom");
        }
        0
    })
    .shared();
    let readers: Vec<_> = (0..2)
        .map(|_| conductor::spawn(t.clone().into_future()))
        .collect();
    for r in readers {
        let err = r.await.unwrap().unwrap_err();
        let payload = err.into_panic().expect("a panic");
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "boom");
    }
    assert!(t.result().unwrap_err().is_panic());
}

/// Sharing a task that is already done keeps its output for every reader.
#[conductor::test(paused)]
async fn sharing_a_finished_task_keeps_its_output() {
    let t = conductor::spawn(async { 7 });
    conductor::yield_now().await;
    assert!(t.is_done());
    let t = t.shared();
    assert_eq!(t.result().unwrap(), 7);
    assert_eq!((&t).await.unwrap(), 7);
    assert_eq!(t.into_future().await.unwrap(), 7);
}
