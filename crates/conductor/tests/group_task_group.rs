//! TaskGroup (asyncio 3.11): the first failure cancels siblings and body, all are awaited,
//! every failure is reported together.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use conductor::group::{ChildError, GroupClosed};
use conductor::{TaskError, catch_cancel, sleep, spawn, task_group, yield_now};
use support::{Log, paused, push};
use support::{Trace, assert_trace};

#[test]
fn the_group_waits_for_every_child() {
    let rt = paused();
    let t0 = rt.now();
    let out = rt.block_on(async {
        task_group(|tg| async move {
            let a = tg.spawn(async {
                sleep(Duration::from_secs(1)).await;
                Ok(1)
            });
            let b = tg.spawn(async {
                sleep(Duration::from_secs(3)).await;
                Ok(2)
            });
            Ok::<_, String>((a, b))
        })
        .await
    });
    let (a, b) = out.unwrap();
    assert!(
        a.is_done() && b.is_done(),
        "children are done when the group ends"
    );
    assert_eq!(rt.now() - t0, Duration::from_secs(3));
}

#[test]
fn the_first_failure_cancels_siblings_and_the_body() {
    let log: Log = Rc::default();
    let l = log.clone();
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async move {
        let l2 = l.clone();
        let err = task_group(|tg| async move {
            let l3 = l2.clone();
            let sibling = tg.spawn(async move {
                if catch_cancel(sleep(Duration::from_secs(100))).await.is_err() {
                    sleep(Duration::from_secs(1)).await; // async cleanup
                    push(&l3, "sibling cleaned up");
                }
                Ok(())
            });
            let failing = tg.spawn(async {
                sleep(Duration::from_secs(2)).await;
                Err::<(), _>("boom".to_string())
            });
            let body = catch_cancel(sleep(Duration::from_secs(100))).await;
            push(
                &l2,
                if body.is_err() {
                    "body cancelled"
                } else {
                    "body finished"
                },
            );
            let _ = (sibling, failing);
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(err.errors().len(), 1);
        assert!(matches!(&err.errors()[0], ChildError::Failed(e) if e == "boom"));
        assert!(
            err.to_string()
                .contains("unhandled errors in a TaskGroup (1 sub-exception)")
        );
    });
    assert_eq!(*log.borrow(), ["body cancelled", "sibling cleaned up"]);
    assert_eq!(
        rt.now() - t0,
        Duration::from_secs(3),
        "2 s to fail, 1 s of sibling cleanup"
    );
}

#[conductor::test(paused)]
async fn every_failure_is_reported_together() {
    let err = task_group(|tg| async move {
        tg.spawn(async {
            sleep(Duration::from_secs(1)).await;
            Err::<(), _>("first".to_string())
        });
        tg.spawn(async {
            // Fails during the cleanup of the group's cancellation.
            if catch_cancel(sleep(Duration::from_secs(100))).await.is_err() {
                return Err("second, while cancelled".to_string());
            }
            Ok(())
        });
        tg.spawn(async {
            if catch_cancel(sleep(Duration::from_secs(100))).await.is_err() {
                panic!("third, while cancelled");
            }
            Ok::<(), String>(())
        });
        Ok::<_, String>(())
    })
    .await
    .unwrap_err();
    let errs = err.into_errors();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(matches!(&errs[0], ChildError::Failed(e) if e == "first"));
    assert!(matches!(&errs[1], ChildError::Failed(e) if e == "second, while cancelled"));
    assert!(matches!(&errs[2], ChildError::Task(e) if e.is_panic()));
}

#[conductor::test(paused)]
async fn a_body_error_cancels_the_children_and_is_reported() {
    let log: Log = Rc::default();
    let l = log.clone();
    let err = task_group(|tg| async move {
        let l2 = l.clone();
        tg.spawn(async move {
            if catch_cancel(sleep(Duration::from_secs(100))).await.is_err() {
                push(&l2, "child cancelled");
            }
            Ok::<_, &str>(())
        });
        yield_now().await;
        Err::<(), _>("body failed")
    })
    .await
    .unwrap_err();
    assert!(matches!(err.errors(), [ChildError::Failed("body failed")]));
    assert_eq!(*log.borrow(), ["child cancelled"]);
}

#[conductor::test(paused)]
async fn a_failed_child_reports_failed_in_group_through_its_handle() {
    let handle = Rc::new(RefCell::new(None));
    let h = handle.clone();
    let _ = task_group(|tg| async move {
        *h.borrow_mut() = Some(tg.spawn(async { Err::<(), _>("nope") }));
        Ok(())
    })
    .await;
    let t = handle.borrow_mut().take().unwrap();
    assert_eq!(t.state(), conductor::TaskState::Failed);
    assert!(!t.is_cancelled());
    assert!(matches!(t.await, Err(TaskError::FailedInGroup)));
}

#[test]
fn an_outside_cancellation_cancels_the_children_and_propagates() {
    let log: Log = Rc::default();
    let l = log.clone();
    paused().block_on(async move {
        let l2 = l.clone();
        let runner = spawn(async move {
            task_group(|tg| async move {
                for i in 0..2 {
                    let l = l2.clone();
                    tg.spawn(async move {
                        if catch_cancel(sleep(Duration::from_secs(100))).await.is_err() {
                            sleep(Duration::from_millis(10)).await;
                            push(&l, format!("child {i} cancelled"));
                        }
                        Ok::<_, String>(())
                    });
                }
                sleep(Duration::from_secs(100)).await;
                Ok(())
            })
            .await
        });
        sleep(Duration::from_secs(1)).await;
        runner.cancel();
        assert!(runner.await.unwrap_err().is_cancelled());
        assert_eq!(
            l.borrow().len(),
            2,
            "children were awaited before the runner ended"
        );
    });
}

#[test]
fn a_child_error_during_an_outside_cancellation_wins() {
    // asyncio's test_taskgroup_08: the ExceptionGroup is raised, not CancelledError.
    paused().block_on(async {
        let runner = spawn(async {
            task_group(|tg| async move {
                tg.spawn(async {
                    if catch_cancel(sleep(Duration::from_secs(100))).await.is_err() {
                        return Err("failed while cancelled");
                    }
                    Ok(())
                });
                sleep(Duration::from_secs(100)).await;
                Ok(())
            })
            .await
        });
        sleep(Duration::from_secs(1)).await;
        runner.cancel();
        let out = runner
            .await
            .expect("the group's error is a value, not a cancellation");
        assert_eq!(out.unwrap_err().errors().len(), 1);
    });
}

#[conductor::test(paused)]
async fn a_closed_or_failing_group_takes_no_new_tasks() {
    let keep = Rc::new(RefCell::new(None));
    let k = keep.clone();
    let r = task_group(|tg| async move {
        tg.spawn(async { Err::<(), _>("fail") });
        sleep(Duration::from_millis(1)).await; // the failure is seen; the body is cancelled
        *k.borrow_mut() = Some(tg.clone());
        Ok(())
    })
    .await;
    assert!(r.is_err());
    let tg: Option<conductor::TaskGroup<&str>> = keep.borrow_mut().take();
    // The body was cancelled at its sleep, so it never stored the handle.
    assert!(tg.is_none());

    let keep = Rc::new(RefCell::new(None));
    let k = keep.clone();
    task_group(|tg| async move {
        *k.borrow_mut() = Some(tg);
        Ok::<_, String>(())
    })
    .await
    .unwrap();
    let tg: conductor::TaskGroup<String> = keep.borrow_mut().take().unwrap();
    assert_eq!(tg.try_spawn(async { Ok(()) }).err(), Some(GroupClosed));
    let late = tg.spawn(async { Ok(()) });
    assert!(
        late.await.unwrap_err().is_cancelled(),
        "spawned already cancelled"
    );
}

#[test]
fn children_may_spawn_more_children() {
    let out = paused().block_on(async {
        let count = Rc::new(RefCell::new(0));
        let c = count.clone();
        task_group(|tg| async move {
            let tg2 = tg.clone();
            tg.spawn(async move {
                for _ in 0..3 {
                    let c = c.clone();
                    tg2.spawn(async move {
                        sleep(Duration::from_millis(5)).await;
                        *c.borrow_mut() += 1;
                        Ok(())
                    });
                }
                Ok::<_, String>(())
            });
            Ok(())
        })
        .await
        .unwrap();

        *count.borrow()
    });
    assert_eq!(out, 3);
}

/// A child that fails after `n` loop iterations.
async fn fail_after(trace: Trace, name: &'static str, n: u32) -> Result<(), String> {
    for _ in 0..n {
        yield_now().await;
    }
    trace.log(format!("{name} fails"));
    Err(name.to_string())
}

/// A child that takes `n` iterations, logging each, and logs its cancellation.
async fn steps(trace: Trace, name: &'static str, n: u32) -> Result<(), String> {
    let t = trace.clone();
    let body = catch_cancel(async move {
        for i in 0..n {
            yield_now().await;
            t.log(format!("{name} step {i}"));
        }
        t.log(format!("{name} done"));
    });
    match body.await {
        Ok(()) => Ok(()),
        Err(cancelled) => {
            trace.log(format!("{name} cancelled"));
            cancelled.reraise().await
        }
    }
}

fn error_names(err: &conductor::TaskGroupError<String>) -> String {
    let names: Vec<String> = err.errors().iter().map(|e| e.to_string()).collect();
    names.join(", ")
}

#[test]
fn children_failing_in_the_same_iteration_are_all_reported_in_asyncios_order() {
    // asyncio 3.11 and 3.13 print this for the program below (`it` counts loop iterations with a
    // call_soon ticker): the group hears of a failure from the child's done callback, one
    // iteration later, so `b`, already queued behind `a`, still runs and fails.
    //
    //     async def main():
    //         await asyncio.sleep(0); L("body starts")
    //         try:
    //             async with asyncio.TaskGroup() as tg:
    //                 tg.create_task(fail("a")); tg.create_task(fail("b"))   # fail after 1 sleep(0)
    //                 tg.create_task(slow("c", 1)); tg.create_task(slow("d", 5))
    //                 try: await asyncio.sleep(10)
    //                 except asyncio.CancelledError: L("body cancelled"); raise
    //         except ExceptionGroup as eg: L("errors: " + ", ".join(map(str, eg.exceptions)))
    //         async with asyncio.TaskGroup() as tg:
    //             tg.create_task(slow("e", 2)); L("body done")
    //         L("group 2 exited")
    let trace = Trace::default();
    let t = trace.clone();
    trace.run(&paused(), async move {
        yield_now().await;
        t.log("body starts");
        let t2 = t.clone();
        let r = task_group(|tg| async move {
            tg.spawn(fail_after(t2.clone(), "a", 1));
            tg.spawn(fail_after(t2.clone(), "b", 1));
            tg.spawn(steps(t2.clone(), "c", 1));
            tg.spawn(steps(t2.clone(), "d", 5));
            if let Err(c) = catch_cancel(sleep(Duration::from_secs(10))).await {
                t2.log("body cancelled");
                c.reraise::<()>().await;
            }
            Ok(())
        })
        .await;
        t.log(format!("errors: {}", error_names(&r.unwrap_err())));
        let t2 = t.clone();
        task_group(|tg| async move {
            tg.spawn(steps(t2.clone(), "e", 2));
            t2.log("body done");
            Ok::<_, String>(())
        })
        .await
        .unwrap();
        t.log("group 2 exited");
    });
    assert_trace(
        &trace.lines(),
        "1: body starts
         3: a fails
         3: b fails
         3: c step 0
         3: c done
         3: d step 0
         4: d cancelled
         5: body cancelled
         6: errors: a, b
         6: body done
         8: e step 0
         9: e step 1
         9: e done
         11: group 2 exited",
    );
}

#[test]
fn the_bodys_error_is_reported_after_the_childrens() {
    // asyncio 3.11 and 3.13 append the body's exception last, whichever failed first:
    //
    //     async with asyncio.TaskGroup() as tg:       # ExceptionGroup: ['child', 'body']
    //         tg.create_task(fail_on_cancel("child"))  # raises ValueError when cancelled
    //         await asyncio.sleep(0); raise ValueError("body")
    //     async with asyncio.TaskGroup() as tg:       # ExceptionGroup: ['child', 'body']
    //         tg.create_task(fail_soon("child"))       # raises after one sleep(0)
    //         try: await asyncio.sleep(10)
    //         except asyncio.CancelledError: raise ValueError("body")
    paused().block_on(async {
        let body_first = task_group(|tg| async move {
            tg.spawn(async {
                let _ = catch_cancel(sleep(Duration::from_secs(10))).await;
                Err::<(), _>("child".to_string())
            });
            yield_now().await;
            Err::<(), _>("body".to_string())
        })
        .await
        .unwrap_err();
        assert_eq!(error_names(&body_first), "child, body");
        let child_first = task_group(|tg| async move {
            tg.spawn(async {
                yield_now().await;
                Err::<(), _>("child".to_string())
            });
            catch_cancel(sleep(Duration::from_secs(10))).await.ok();
            Err::<(), _>("body".to_string())
        })
        .await
        .unwrap_err();
        assert_eq!(error_names(&child_first), "child, body");
    });
}
