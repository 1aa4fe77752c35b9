//! gather_inline (borrowed futures, polled in the calling task), gather_tasks and gather! over
//! tasks already spawned.

mod support;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use conductor::group::ChildError;
use conductor::{TaskError, catch_cancel, gather_inline, gather_tasks, sleep, spawn, yield_now};
use support::{TimedLog, Trace, assert_trace, child, paused};

/// A boxed branch, so that different async blocks gather together.
type Branch<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + 'a>>;

/// A client the gathered futures borrow, as a Python program gathers `fetch(client, url)`.
struct Client {
    log: TimedLog,
    served: RefCell<Vec<u64>>,
}

impl Client {
    /// Takes `s` seconds; fails for page 0; cleans up for 1 s when cancelled.
    async fn fetch(&self, s: u64) -> Result<u64, String> {
        match catch_cancel(sleep(Duration::from_secs(s))).await {
            Ok(()) if s == 0 => Err("page 0 is missing".into()),
            Ok(()) => {
                self.served.borrow_mut().push(s);
                Ok(s * 10)
            }
            Err(cancelled) => {
                self.log.push(format!("fetch {s} cancelled, cleaning up"));
                sleep(Duration::from_secs(1)).await;
                self.log.push(format!("fetch {s} cleaned up"));
                cancelled.reraise().await
            }
        }
    }
}

#[test]
fn gather_inline_borrows_locals_and_keeps_argument_order() {
    // asyncio: `await asyncio.gather(*[fetch(client, s) for s in (3, 1, 2)])` with a local
    // `client` gives [30, 10, 20] after 3 s.
    let rt = paused();
    let log = TimedLog::new(&rt, 0);
    let out = rt.block_on(async move {
        let client = Client {
            log,
            served: RefCell::default(),
        };
        let pages = gather_inline([3, 1, 2].map(|s| client.fetch(s))).await;
        (pages.unwrap(), client.served.take())
    });
    assert_eq!(out, (vec![30, 10, 20], vec![1, 2, 3]));
}

#[test]
fn gather_inline_fails_fast_then_cancels_and_awaits_the_others() {
    let rt = paused();
    let log = TimedLog::new(&rt, 0);
    let l = log.clone();
    rt.block_on(async move {
        let client = Client {
            log: l.clone(),
            served: RefCell::default(),
        };
        let r = gather_inline([5, 0, 1].map(|s| client.fetch(s))).await;
        l.push(format!("gather: {:?}", r.map_err(ChildError::into_failed)));
        assert!(
            client.served.borrow().is_empty(),
            "failed before any page came"
        );
    });
    assert_eq!(
        log.lines(),
        [
            "0: fetch 5 cancelled, cleaning up",
            "0: fetch 1 cancelled, cleaning up",
            "1: fetch 5 cleaned up",
            "1: fetch 1 cleaned up",
            r#"1: gather: Err(Some("page 0 is missing"))"#,
        ]
    );
}

#[conductor::test(paused)]
async fn gather_inline_return_exceptions_collects_every_outcome() {
    let futures: Vec<Branch<u8>> = vec![
        Box::pin(async { Ok(1) }),
        Box::pin(async { Err("two".to_string()) }),
        Box::pin(async {
            yield_now().await;
            panic!("three")
        }),
        Box::pin(async {
            sleep(Duration::from_secs(1)).await;
            Ok(4)
        }),
    ];
    let out = gather_inline(futures).return_exceptions().await;
    assert!(matches!(out[0], Ok(1)));
    assert!(matches!(&out[1], Err(ChildError::Failed(e)) if e == "two"));
    assert!(out[2].as_ref().unwrap_err().is_panic());
    assert!(matches!(out[3], Ok(4)), "nothing was cancelled");
}

#[test]
fn cancelling_the_task_reaches_every_inline_branch() {
    let rt = paused();
    let log = TimedLog::new(&rt, 0);
    let l = log.clone();
    rt.block_on(async move {
        let l2 = l.clone();
        let gathering = spawn(async move {
            let client = Client {
                log: l2.clone(),
                served: RefCell::default(),
            };
            let l3 = l2.clone();
            let plain = async move {
                // No catch_cancel: the cancellation ends this branch where it waits.
                let _guard = Dropped(l3);
                sleep(Duration::from_secs(10)).await;
                Ok(0)
            };
            let branches: Vec<Branch<u64>> = vec![
                Box::pin(client.fetch(10)),
                Box::pin(plain),
                Box::pin(client.fetch(20)),
            ];
            gather_inline(branches).await
        });
        sleep(Duration::from_secs(2)).await;
        gathering.cancel();
        assert!(gathering.await.unwrap_err().is_cancelled());
        l.push("gathering task ended cancelled");
    });
    assert_eq!(
        log.lines(),
        [
            "2: fetch 10 cancelled, cleaning up",
            "2: plain branch dropped",
            "2: fetch 20 cancelled, cleaning up",
            "3: fetch 10 cleaned up",
            "3: fetch 20 cleaned up",
            "3: gathering task ended cancelled",
        ]
    );
}

struct Dropped(TimedLog);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.push("plain branch dropped");
    }
}

#[test]
fn a_timeout_around_gather_inline_reaches_its_branches_and_waits_for_them() {
    let rt = paused();
    let log = TimedLog::new(&rt, 0);
    let l = log.clone();
    rt.block_on(async move {
        let client = Client {
            log: l.clone(),
            served: RefCell::default(),
        };
        let r = conductor::timeout(
            Duration::from_secs(2),
            gather_inline([1, 10].map(|s| client.fetch(s))),
        )
        .await;
        assert!(r.is_err(), "timed out");
        l.push("timed out");
        assert_eq!(*client.served.borrow(), [1]);
    });
    assert_eq!(
        log.lines(),
        [
            "2: fetch 10 cancelled, cleaning up",
            "3: fetch 10 cleaned up",
            "3: timed out",
        ]
    );
}

#[test]
fn gather_tasks_gathers_tasks_as_they_are_in_asyncios_order() {
    // asyncio 3.11 and 3.13 print this (`it` counts iterations with a call_soon ticker):
    //
    //     await asyncio.sleep(0); L("start")
    //     c = asyncio.ensure_future(ok("c", 2))
    //     try: await asyncio.gather(fail("a"), fail("b"), c, ok("d", 5))
    //     except ValueError as e: L(f"gather raised {e}; c done={c.done()}")
    //     for _ in range(4): await asyncio.sleep(0)
    let trace = Trace::default();
    let t = trace.clone();
    trace.run(&paused(), async move {
        yield_now().await;
        t.log("start");
        let c = spawn(child(t.clone(), "c", 2, false));
        let c_ref = c.task_ref();
        let tasks = [
            spawn(child(t.clone(), "a", 1, true)),
            spawn(child(t.clone(), "b", 1, true)),
            c,
            spawn(child(t.clone(), "d", 5, false)),
        ];
        if let Err(ChildError::Failed(e)) = gather_tasks(tasks).await {
            t.log(format!("gather raised {e}; c done={}", c_ref.is_done()));
        }
        for _ in 0..4 {
            yield_now().await;
        }
    });
    assert_trace(
        &trace.lines(),
        "1: start
         3: a fails
         3: b fails
         4: c done
         5: gather raised a; c done=true
         7: d done",
    );
}

#[conductor::test(paused)]
async fn gather_tasks_gives_values_and_the_tasks_own_failures() {
    let values = gather_tasks([1u8, 2].map(|n| spawn(async move { n }))).await;
    assert_eq!(values.unwrap(), [1, 2], "values, not Ok(value)s");
    let panicked = gather_tasks([spawn(async { panic!("boom") }), spawn(async {})]).await;
    assert!(matches!(
        panicked,
        Err(ChildError::Task(TaskError::Panicked(_)))
    ));
    let results = gather_tasks([
        spawn(async { Ok::<u8, String>(1) }),
        spawn(async { Err("no".to_string()) }),
    ])
    .return_exceptions()
    .await;
    assert!(matches!(results[0], Ok(1)));
    assert!(matches!(&results[1], Err(ChildError::Failed(e)) if e == "no"));
}

#[conductor::test(paused)]
async fn gather_macro_takes_tasks_as_they_are() {
    let text = spawn(async { String::from("task") });
    let (s, n) = conductor::gather!(text, async { 2 }).await.unwrap();
    assert_eq!((s.as_str(), n), ("task", 2));
    let boom = spawn(async { panic!("boom") });
    let r: Result<((), u8), TaskError> = conductor::gather!(boom, async { 1 }).await;
    assert!(
        r.unwrap_err().is_panic(),
        "the task's own panic fails the gather"
    );
}
