//! TaskGroup (asyncio 3.11): the first failure cancels siblings and body, all are awaited,
//! every failure is reported together.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use conductor::group::{GroupClosed, GroupError};
use conductor::{catch_cancel, sleep, spawn, task_group, yield_now, Runtime, TaskError};

fn paused() -> Runtime {
    Runtime::builder().paused_clock().build().unwrap()
}

type Log = Rc<RefCell<Vec<String>>>;

fn push(l: &Log, s: impl Into<String>) {
    l.borrow_mut().push(s.into());
}

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
        assert!(matches!(&err.errors()[0], GroupError::Failed(e) if e == "boom"));
        assert!(err
            .to_string()
            .contains("unhandled errors in a TaskGroup (1 sub-exception)"));
    });
    assert_eq!(*log.borrow(), ["body cancelled", "sibling cleaned up"]);
    assert_eq!(
        rt.now() - t0,
        Duration::from_secs(3),
        "2 s to fail, 1 s of sibling cleanup"
    );
}

#[test]
fn every_failure_is_reported_together() {
    paused().block_on(async {
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
        assert!(matches!(&errs[0], GroupError::Failed(e) if e == "first"));
        assert!(matches!(&errs[1], GroupError::Failed(e) if e == "second, while cancelled"));
        assert!(matches!(&errs[2], GroupError::Panicked(_)));
    });
}

#[test]
fn a_body_error_cancels_the_children_and_is_reported() {
    paused().block_on(async {
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
        assert!(matches!(err.errors(), [GroupError::Failed("body failed")]));
        assert_eq!(*log.borrow(), ["child cancelled"]);
    });
}

#[test]
fn a_failed_child_reports_failed_in_group_through_its_handle() {
    paused().block_on(async {
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
    });
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

#[test]
fn a_closed_or_failing_group_takes_no_new_tasks() {
    paused().block_on(async {
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
    });
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
        let n = *count.borrow();
        n
    });
    assert_eq!(out, 3);
}
