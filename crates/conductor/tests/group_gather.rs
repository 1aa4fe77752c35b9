//! gather, gather!, wait, as_completed (asyncio 1.2), and their one notion of failure.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use conductor::group::ChildError;
use conductor::{
    ReturnWhen, TaskError, Waitable, as_completed, catch_cancel, gather, sleep, spawn, wait,
    yield_now,
};
use support::{Trace, assert_trace, child, paused};

async fn after(ms: u64) -> u64 {
    sleep(Duration::from_millis(ms)).await;
    ms
}

#[test]
fn gather_keeps_argument_order_and_runs_concurrently() {
    let rt = paused();
    let t0 = rt.now();
    // gather spawns at once, so it is called inside the loop (as asyncio's needs a running one).
    let out = rt.block_on(async { gather([after(30), after(10), after(20)]).await });
    assert_eq!(out.unwrap(), [30, 10, 20]);
    assert_eq!(rt.now() - t0, Duration::from_millis(30));
}

#[test]
fn gather_of_nothing_is_an_empty_list() {
    let out = paused().block_on(async { gather(Vec::<std::future::Ready<u8>>::new()).await });
    assert_eq!(out.unwrap(), Vec::<u8>::new());
}

#[test]
fn gather_fails_with_the_first_error_and_the_others_keep_running() {
    let finished = Rc::new(RefCell::new(0));
    let f = finished.clone();
    paused().block_on(async move {
        let futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = u32>>>> = vec![
            Box::pin({
                let f = f.clone();
                async move {
                    sleep(Duration::from_secs(2)).await;
                    *f.borrow_mut() += 1;
                    1
                }
            }),
            Box::pin(async {
                sleep(Duration::from_secs(1)).await;
                panic!("child failed")
            }),
        ];
        let err = gather(futures).await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(
            *f.borrow(),
            0,
            "returned at the failure, before the slow child"
        );
        sleep(Duration::from_secs(2)).await;
    });
    assert_eq!(*finished.borrow(), 1, "the other child was not cancelled");
}

#[conductor::test(paused)]
async fn return_exceptions_collects_every_outcome() {
    let futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = u32>>>> = vec![
        Box::pin(async { 1 }),
        Box::pin(async { panic!("two") }),
        Box::pin(async { 3 }),
    ];
    let out = gather(futures).return_exceptions().await;
    assert_eq!(out.len(), 3);
    assert_eq!(*out[0].as_ref().unwrap(), 1);
    assert!(out[1].as_ref().unwrap_err().is_panic());
    assert_eq!(*out[2].as_ref().unwrap(), 3);
}

#[conductor::test(paused)]
async fn gather_of_ok_outputs_gives_what_is_inside_them() {
    let ok = gather([1u64, 2].map(|i| async move { Ok::<_, String>(i) })).await;
    assert_eq!(ok.unwrap(), [1, 2]);
}

#[test]
fn cancelling_the_gathering_task_cancels_every_child_and_waits() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    paused().block_on(async move {
        let l2 = l.clone();
        let t = spawn(async move {
            gather((0..3).map(|i| {
                let l = l2.clone();
                async move {
                    if catch_cancel(sleep(Duration::from_secs(10))).await.is_err() {
                        sleep(Duration::from_millis(i)).await;
                        l.borrow_mut().push(i);
                    }
                    i
                }
            }))
            .await
        });
        sleep(Duration::from_secs(1)).await;
        t.cancel();
        assert!(t.await.unwrap_err().is_cancelled());
        // Every child cleaned up before the gathering task ended.
        assert_eq!(*l.borrow(), [0, 1, 2]);
    });
}

#[conductor::test(paused)]
async fn gather_macro_mixes_types() {
    let (a, b, c) = conductor::gather!(after(20), async { "text" }, async { 1.5 })
        .await
        .unwrap();
    assert_eq!((a, b, c), (20, "text", 1.5));
    let err = conductor::gather!(async { 1 }, async { panic!("boom") })
        .await
        .map(|_: (i32, ())| ())
        .unwrap_err();
    assert!(err.is_panic());
}

#[conductor::test(paused)]
async fn gather_macro_cancellation_cancels_its_children() {
    let t = spawn(async {
        conductor::gather!(sleep(Duration::from_secs(5)), sleep(Duration::from_secs(6))).await
    });
    yield_now().await;
    yield_now().await;
    t.cancel();
    assert!(t.await.unwrap_err().is_cancelled());
    yield_now().await;
    assert_eq!(conductor::all_tasks().len(), 1, "only main is left");
}

#[conductor::test(paused)]
async fn wait_first_completed_leaves_the_rest_pending_and_running() {
    let tasks = [3u64, 1, 2].map(|s| spawn(after(s * 1000)));
    let (mut done, pending) = wait(tasks, ReturnWhen::FirstCompleted, None).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].result().unwrap(), 1000);
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|t| !t.is_done() && !t.is_cancelled()));
    for t in &pending {
        t.cancel();
    }
}

#[test]
fn wait_all_completed_and_first_exception() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        let tasks = [2u64, 1].map(|s| spawn(after(s * 1000)));
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, None).await;
        assert_eq!((done.len(), pending.len()), (2, 0));

        let boom = spawn(async {
            sleep(Duration::from_secs(1)).await;
            panic!("first exception")
        });
        let slow = spawn(async {
            sleep(Duration::from_secs(5)).await;
        });
        let (done, pending) = wait([boom, slow], ReturnWhen::FirstException, None).await;
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert!(done[0].state() == conductor::TaskState::Failed);
        // Without exceptions FIRST_EXCEPTION means ALL_COMPLETED.
        let tasks = [1u64, 2].map(|s| spawn(after(s)));
        let (done, _) = wait(tasks, ReturnWhen::FirstException, None).await;
        assert_eq!(done.len(), 2);
    });
    assert!(rt.now() - t0 >= Duration::from_secs(3));
}

#[test]
fn wait_timeout_returns_without_cancelling() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async move {
        let tasks = [1u64, 10].map(|s| spawn(after(s * 1000)));
        let (done, pending) = wait(
            tasks,
            ReturnWhen::AllCompleted,
            Some(Duration::from_secs(2)),
        )
        .await;
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert!(!pending[0].is_cancelled());
        assert_eq!(conductor::now() - t0, Duration::from_secs(2));
        let (done, pending) = wait(pending, ReturnWhen::AllCompleted, None).await;
        assert_eq!((done.len(), pending.len()), (1, 0));
    });
}

#[conductor::test(paused)]
async fn wait_on_nothing_returns_at_once() {
    let (done, pending) = wait(
        Vec::<conductor::Task<()>>::new(),
        ReturnWhen::AllCompleted,
        None,
    )
    .await;
    assert!(done.is_empty() && pending.is_empty());
}

#[conductor::test(paused)]
async fn as_completed_yields_the_original_tasks_in_completion_order() {
    let tasks = [30u64, 10, 20].map(|ms| spawn(after(ms)));
    let ids: Vec<u64> = tasks.iter().map(|t| t.id()).collect();
    let mut stream = as_completed(tasks);
    let mut order = Vec::new();
    let mut yielded_ids = Vec::new();
    while let Some(t) = stream.next().await {
        yielded_ids.push(t.id());
        order.push(t.await.unwrap());
    }
    assert_eq!(order, [10, 20, 30]);
    assert_eq!(
        yielded_ids,
        [ids[1], ids[2], ids[0]],
        "the same tasks come out"
    );
}

#[conductor::test(paused)]
async fn as_completed_with_timeout_reports_timed_out_once() {
    let tasks = [10u64, 5000].map(|ms| spawn(after(ms)));
    let mut stream = as_completed(tasks).with_timeout(Duration::from_secs(1));
    assert_eq!(stream.next().await.unwrap().unwrap().await.unwrap(), 10);
    assert!(matches!(
        stream.next().await,
        Some(Err(conductor::TimedOut))
    ));
    assert!(stream.next().await.is_none());
}

#[test]
fn a_gathered_child_cancelled_from_outside_fails_the_gather_with_cancelled() {
    // asyncio's test_one_cancellation: the gather fails with CancelledError but is not itself
    // cancelled.
    paused().block_on(async {
        let g = spawn(async { gather([after(1000), after(2000)]).await });
        yield_now().await;
        yield_now().await;
        let victim = conductor::all_tasks()
            .into_iter()
            .filter(|t| !t.same_task(&g) && !t.same_task(&conductor::current_task().unwrap()))
            .last()
            .unwrap();
        victim.cancel();
        let r = g.await.unwrap();
        assert!(matches!(r, Err(ChildError::Task(TaskError::Cancelled(_)))));
    });
}

#[test]
fn gather_hears_of_its_children_one_iteration_after_they_end_as_asyncio() {
    // asyncio 3.11 and 3.13 print this (`it` counts iterations with a call_soon ticker): a
    // child's end reaches the gather through its done callback, and the gather's result reaches
    // the awaiting task through the gather's own future, so the awaiting task resumes two
    // iterations after the child that decided it; the children that were not waited for keep
    // running.
    //
    //     await asyncio.sleep(0); L("start")
    //     try: await asyncio.gather(fail("a"), fail("b"), ok("c", 2), ok("d", 5))
    //     except ValueError as e: L(f"gather raised {e}")
    //     for _ in range(4): await asyncio.sleep(0)
    //     L("gather 2")
    //     r = await asyncio.gather(ok("e", 1), ok("f", 2)); L(f"gather 2 returned {r}")
    //     r = await asyncio.gather(fail("g"), ok("h", 1), return_exceptions=True)
    //     L(f"gather 3 returned {r}")
    let trace = Trace::default();
    let t = trace.clone();
    trace.run(&paused(), async move {
        yield_now().await;
        t.log("start");
        let first = gather([
            child(t.clone(), "a", 1, true),
            child(t.clone(), "b", 1, true),
            child(t.clone(), "c", 2, false),
            child(t.clone(), "d", 5, false),
        ])
        .await;
        if let Err(ChildError::Failed(e)) = first {
            t.log(format!("gather raised {e}"));
        }
        for _ in 0..4 {
            yield_now().await;
        }
        t.log("gather 2");
        let r = gather([
            child(t.clone(), "e", 1, false),
            child(t.clone(), "f", 2, false),
        ])
        .await
        .unwrap();
        t.log(format!("gather 2 returned {r:?}"));
        let r: Vec<String> = gather([
            child(t.clone(), "g", 1, true),
            child(t.clone(), "h", 1, false),
        ])
        .return_exceptions()
        .await
        .into_iter()
        .map(|r| match r {
            Ok(v) => format!("{v:?}"),
            Err(ChildError::Failed(e)) => format!("ValueError({e:?})"),
            Err(e) => panic!("{e}"),
        })
        .collect();
        t.log(format!("gather 3 returned [{}]", r.join(", ")));
    });
    assert_trace(
        &trace.lines(),
        r#"1: start
           3: a fails
           3: b fails
           4: c done
           5: gather raised a
           7: d done
           9: gather 2
           11: e done
           12: f done
           14: gather 2 returned ["e", "f"]
           16: g fails
           16: h done
           18: gather 3 returned [ValueError("g"), "h"]"#,
    );
}

#[test]
fn gather_macro_hears_of_its_children_as_asyncio_does() {
    // asyncio 3.11 and 3.13 print this for `gather` over two coroutines (`it` counts
    // iterations with a call_soon ticker):
    //
    //     await asyncio.sleep(0); L("start")
    //     r = await asyncio.gather(ok("a", 1), num(2)); L(f"returned {r}")
    //     try: await asyncio.gather(num(3), boom(1))     # boom raises after one sleep(0)
    //     except ValueError: L("raised")
    let trace = Trace::default();
    let t = trace.clone();
    trace.run(&paused(), async move {
        yield_now().await;
        t.log("start");
        let steps = |t: Trace, n: u32| async move {
            for _ in 0..n {
                yield_now().await;
            }
            t.log(format!("{n} done"));
            n
        };
        let a = {
            let t = t.clone();
            async move {
                yield_now().await;
                t.log("a done");
                "a"
            }
        };
        let r = conductor::gather!(a, steps(t.clone(), 2)).await.unwrap();
        t.log(format!("returned {r:?}"));
        let boom = {
            let t = t.clone();
            async move {
                yield_now().await;
                t.log("boom");
                panic!("boom")
            }
        };
        let r: Result<(u32, ()), _> = conductor::gather!(steps(t.clone(), 3), boom).await;
        if r.unwrap_err().is_panic() {
            t.log("raised");
        }
    });
    assert_trace(
        &trace.lines(),
        r#"1: start
           3: a done
           4: 2 done
           6: returned ("a", 2)
           8: boom
           10: 3 done
           10: raised"#,
    );
}

#[derive(Clone, Copy)]
enum End {
    Value,
    Panic,
    CancelItself,
}

/// A task that takes `n` loop iterations, then ends as `end` says.
async fn ending(trace: Trace, name: &'static str, n: u32, end: End) -> &'static str {
    for _ in 0..n {
        yield_now().await;
    }
    match end {
        End::Value => trace.log(format!("{name} done")),
        End::Panic => {
            trace.log(format!("{name} fails"));
            panic!("{name}")
        }
        End::CancelItself => {
            trace.log(format!("{name} cancels itself"));
            conductor::current_task().unwrap().cancel();
            yield_now().await;
        }
    }
    name
}

fn names(
    tasks: &[conductor::Task<&'static str>],
    all: &[(conductor::TaskRef, &'static str)],
) -> String {
    let mut names: Vec<&str> = tasks
        .iter()
        .map(|t| all.iter().find(|(r, _)| r.same_task(t)).unwrap().1)
        .collect();
    names.sort();
    format!("{names:?}").replace('"', "'")
}

#[test]
fn wait_first_exception_skips_cancelled_tasks_and_returns_as_asyncio() {
    // asyncio 3.11 and 3.13 print this (`it` counts iterations with a call_soon ticker):
    //
    //     await asyncio.sleep(0); L("start")
    //     ts = {create_task(cancelled("x", 1)): "x", create_task(ok("y", 3)): "y"}
    //     done, pending = await asyncio.wait(ts, return_when=FIRST_EXCEPTION)
    //     L(f"wait 1: done={names(done)} pending={names(pending)}")
    //     ts = {create_task(fail("a")), create_task(fail("b")), create_task(ok("c", 2)),
    //           create_task(ok("d", 5))}
    //     done, pending = await asyncio.wait(ts, return_when=FIRST_EXCEPTION)
    //     L(f"wait 2: done={names(done)} pending={names(pending)}")
    //     for _ in range(4): await asyncio.sleep(0)
    let trace = Trace::default();
    let t = trace.clone();
    trace.run(&paused(), async move {
        yield_now().await;
        t.log("start");
        let tasks = [
            spawn(ending(t.clone(), "x", 1, End::CancelItself)),
            spawn(ending(t.clone(), "y", 3, End::Value)),
        ];
        let all: Vec<_> = tasks.iter().map(|t| t.task_ref()).zip(["x", "y"]).collect();
        let (done, pending) = wait(tasks, ReturnWhen::FirstException, None).await;
        t.log(format!(
            "wait 1: done={} pending={}",
            names(&done, &all),
            names(&pending, &all)
        ));
        let tasks = [
            spawn(ending(t.clone(), "a", 1, End::Panic)),
            spawn(ending(t.clone(), "b", 1, End::Panic)),
            spawn(ending(t.clone(), "c", 2, End::Value)),
            spawn(ending(t.clone(), "d", 5, End::Value)),
        ];
        let all: Vec<_> = tasks
            .iter()
            .map(|t| t.task_ref())
            .zip(["a", "b", "c", "d"])
            .collect();
        let (done, pending) = wait(tasks, ReturnWhen::FirstException, None).await;
        t.log(format!(
            "wait 2: done={} pending={}",
            names(&done, &all),
            names(&pending, &all)
        ));
        for _ in 0..4 {
            yield_now().await;
        }
    });
    assert_trace(
        &trace.lines(),
        "1: start
         3: x cancels itself
         5: y done
         7: wait 1: done=['x', 'y'] pending=[]
         9: a fails
         9: b fails
         10: c done
         11: wait 2: done=['a', 'b', 'c'] pending=['d']
         13: d done",
    );
}

/// Sleeps `s` seconds, then returns `name` or fails with it.
async fn outcome_after(s: u64, fails: bool, name: &'static str) -> Result<&'static str, String> {
    sleep(Duration::from_secs(s)).await;
    if fails {
        Err(name.to_string())
    } else {
        Ok(name)
    }
}

// The tests below pin one notion of failure (a panic, or an `Err` output) across gather, wait
// and as_completed. asyncio 3.11 and 3.13 print, for this program (times in tenths of seconds
// here, seconds in the tests):
//
//     slow = asyncio.create_task(after(0.3, name="slow"))
//     try: await asyncio.gather(after(0.1, name="one"), after(0.2, True, "two"), slow)
//     except ValueError as e: print(f"{t()}: gather raised {e}; slow done: {slow.done()}")
//     await slow; print(f"{t()}: slow finished, not cancelled: {not slow.cancelled()}")
//     tasks = [create_task(after(0.1, True, "bad")), create_task(after(0.5, name="ok"))]
//     done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
//     print(f"{t()}: wait FIRST_EXCEPTION done={len(done)} pending={len(pending)}")
//     tasks = [create_task(after(0.1, True, "bad")), create_task(after(0.2, name="ok"))]
//     try: await asyncio.gather(*tasks)
//     except ValueError as e: print(f"{t()}: gather over tasks raised {e}")
//     c = create_task(after(0.1, name="c")); await asyncio.sleep(0); c.cancel()
//     d = create_task(after(0.3, name="d"))
//     try: await asyncio.gather(c, d)
//     except asyncio.CancelledError: print(f"... raised CancelledError; d done: {d.done()}")
//
//     0.2: gather raised two; slow done: False
//     0.3: slow finished, not cancelled: True
//     0.4: wait FIRST_EXCEPTION done=1 pending=1
//     0.5: gather over tasks raised bad
//     0.5: gather with a cancelled task raised CancelledError; d done: False

#[test]
fn gather_fails_fast_on_the_first_err_output_and_the_others_keep_running() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async move {
        let slow = spawn(outcome_after(3, false, "slow"));
        let slow_ref = slow.task_ref();
        let r = gather([
            outcome_after(1, false, "one"),
            outcome_after(2, true, "two"),
            outcome_after(3, false, "slow"),
        ])
        .await;
        assert!(r.is_err(), "an Err output fails the gather");
        assert_eq!(conductor::now() - t0, Duration::from_secs(2));
        assert!(!slow_ref.is_done());
        assert_eq!(slow.await.unwrap(), Ok("slow"));
        assert_eq!(conductor::now() - t0, Duration::from_secs(3));
    });
}

#[test]
fn wait_first_exception_returns_at_the_first_err_output() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async move {
        let tasks = [
            spawn(outcome_after(1, true, "bad")),
            spawn(outcome_after(5, false, "ok")),
        ];
        let (done, pending) = wait(tasks, ReturnWhen::FirstException, None).await;
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert_eq!(conductor::now() - t0, Duration::from_secs(1));
    });
}

#[test]
fn gather_over_tasks_fails_fast_on_a_failed_task() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async move {
        let tasks = [
            spawn(async {
                sleep(Duration::from_secs(1)).await;
                panic!("bad")
            }),
            spawn(async {
                sleep(Duration::from_secs(2)).await;
            }),
        ];
        let r = gather(tasks).await;
        assert!(r.is_err(), "a panicked task fails the gather");
        assert_eq!(conductor::now() - t0, Duration::from_secs(1));
    });
}

#[test]
fn as_completed_tells_which_yielded_tasks_failed() {
    // asyncio: `for t in as_completed([after(0.1, True, "x"), after(0.2, name="y")]): await t`
    // raises x, then gives y.
    paused().block_on(async {
        let tasks = [
            spawn(outcome_after(1, true, "x")),
            spawn(outcome_after(2, false, "y")),
        ];
        let mut stream = as_completed(tasks);
        let first = stream.next().await.unwrap();
        assert!(first.has_failed());
        assert_eq!(first.await.unwrap(), Err("x".to_string()));
        let second = stream.next().await.unwrap();
        assert!(!second.has_failed());
        assert_eq!(second.await.unwrap(), Ok("y"));
    });
}

#[test]
fn wait_first_exception_sees_an_err_output_through_a_shared_task() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async move {
        let bad = spawn(outcome_after(1, true, "bad")).shared();
        let ok = spawn(outcome_after(5, false, "ok")).shared();
        let (done, pending) = wait([bad.clone(), ok], ReturnWhen::FirstException, None).await;
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert!(done[0].has_failed());
        assert_eq!(conductor::now() - t0, Duration::from_secs(1));
        assert_eq!(
            bad.result().unwrap(),
            Err("bad".to_string()),
            "still readable"
        );
    });
}

#[test]
fn gather_macro_retrieves_the_children_it_did_not_wait_for() {
    // asyncio's gather retrieves every child's exception, also after it failed fast, so none is
    // logged as "Task exception was never retrieved".
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    paused().block_on(async move {
        conductor::runtime::set_exception_handler(move |ctx| {
            s.borrow_mut().push(ctx.message().to_string());
        });
        let late = async {
            sleep(Duration::from_secs(2)).await;
            panic!("late")
        };
        let early = async {
            sleep(Duration::from_secs(1)).await;
            panic!("early")
        };
        let r: Result<((), ()), TaskError> = conductor::gather!(late, early).await;
        assert!(r.unwrap_err().is_panic());
        sleep(Duration::from_secs(3)).await; // the late child panics meanwhile
    });
    assert!(seen.borrow().is_empty(), "reported: {:?}", seen.borrow());
}
