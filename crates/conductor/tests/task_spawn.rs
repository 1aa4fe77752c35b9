//! Tasks (asyncio 1.2): create_task, results, names, states, callbacks, introspection.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use conductor::{InvalidState, Runtime, TaskError, TaskState};
use support::paused;

#[test]
fn concurrent_sleeps_overlap_on_the_clock() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..3)
            .map(|_| conductor::spawn(conductor::sleep(Duration::from_secs(1))))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(rt.now() - t0, Duration::from_secs(1), "1 s, not 3 s");
}

#[test]
fn tasks_start_in_spawn_order_after_the_spawner_yields() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    paused().block_on(async move {
        for i in 0..3 {
            let l = l.clone();
            conductor::spawn(async move { l.borrow_mut().push(i) }).detach();
        }
        l.borrow_mut().push(99);
        conductor::yield_now().await;
    });
    assert_eq!(*log.borrow(), [99, 0, 1, 2]);
}

#[test]
fn result_is_invalid_state_until_done_then_taken_once() {
    let rt = paused();
    rt.block_on(async {
        let mut t = conductor::spawn(async { 5 });
        assert!(matches!(
            t.result(),
            Err(TaskError::InvalidState(InvalidState::NotDone))
        ));
        assert!(!t.is_done());
        conductor::yield_now().await;
        assert!(t.is_done());
        assert_eq!(t.result().unwrap(), 5);
        assert!(matches!(
            t.result(),
            Err(TaskError::InvalidState(InvalidState::ResultTaken))
        ));
        // Awaiting after the result was taken is an error value, not a panic.
        assert!(matches!(
            t.await,
            Err(TaskError::InvalidState(InvalidState::ResultTaken))
        ));
    });
}

#[test]
fn a_panicking_task_does_not_take_the_loop_down() {
    let rt = paused();
    let out = rt.block_on(async {
        let bad = conductor::spawn(async { panic!("task failed") });
        let good = conductor::spawn(async { "still here" });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(
            err.into_panic().unwrap().downcast_ref::<&str>(),
            Some(&"task failed")
        );
        good.await.unwrap()
    });
    assert_eq!(out, "still here");
}

#[test]
fn a_detached_task_keeps_running() {
    let done = Rc::new(RefCell::new(false));
    let d = done.clone();
    paused().block_on(async move {
        drop(conductor::spawn(async move {
            conductor::sleep(Duration::from_secs(1)).await;
            *d.borrow_mut() = true;
        }));
        conductor::sleep(Duration::from_secs(2)).await;
    });
    assert!(*done.borrow());
}

#[test]
fn tasks_may_hold_rc_and_refcell() {
    let shared = Rc::new(RefCell::new(0));
    let s = shared.clone();
    paused().block_on(async move {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let s = s.clone();
                conductor::spawn(async move {
                    conductor::yield_now().await;
                    *s.borrow_mut() += 1;
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(*shared.borrow(), 10);
}

#[conductor::test(paused)]
async fn names_default_to_task_n_and_can_be_set() {
    let a = conductor::spawn(async {});
    let b = conductor::spawn_named("worker", async {});
    assert_eq!(a.name(), format!("Task-{}", a.id()));
    assert_eq!(b.name(), "worker");
    a.set_name("renamed");
    assert_eq!(a.name(), "renamed");
    assert!(b.id() > a.id());
}

#[test]
fn states_follow_the_guides_lifecycle() {
    let rt = paused();
    let t = rt.spawn(async {
        assert_eq!(
            conductor::current_task().unwrap().state(),
            TaskState::Running
        );
        conductor::sleep(Duration::from_secs(1)).await;
    });
    assert_eq!(t.state(), TaskState::Ready);
    rt.run_once();
    assert_eq!(t.state(), TaskState::Suspended);
    rt.advance(Duration::from_secs(1));
    rt.run_once();
    assert_eq!(t.state(), TaskState::Done);
    let c = rt.spawn(std::future::pending::<()>());
    c.cancel();
    rt.run_once();
    assert_eq!(c.state(), TaskState::Cancelled);
    let p = rt.spawn(async { panic!("x") });
    rt.run_once();
    assert_eq!(p.state(), TaskState::Failed);
}

#[conductor::test(paused)]
async fn spawn_location_is_recorded() {
    let t = conductor::spawn(async {});
    assert_eq!(t.spawned_at().file(), file!());
}

#[test]
fn current_task_is_none_outside_tasks_and_self_inside() {
    assert!(conductor::current_task().is_none());
    paused().block_on(async {
        let t = conductor::spawn(async {
            let me = conductor::current_task().unwrap();
            me.name().into_owned()
        });
        let expected = t.name().into_owned();
        assert_eq!(t.await.unwrap(), expected);
    });
}

#[conductor::test(paused)]
async fn all_tasks_lists_only_pending_ones() {
    let a = conductor::spawn(std::future::pending::<()>());
    let b = conductor::spawn(async {});
    conductor::yield_now().await;
    let all = conductor::all_tasks();
    assert!(all.iter().any(|t| t.same_task(&a)));
    assert!(
        !all.iter().any(|t| t.same_task(&b)),
        "done tasks are not listed"
    );
    assert!(
        all.iter()
            .any(|t| t.same_task(&conductor::current_task().unwrap()))
    );
    a.cancel();
}

#[test]
fn done_callbacks_run_from_the_loop_never_inline() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    paused().block_on(async move {
        let t = conductor::spawn(async {});
        let l1 = l.clone();
        let removed = t.add_done_callback(move |_| l1.borrow_mut().push("removed"));
        let l2 = l.clone();
        t.add_done_callback(move |t| l2.borrow_mut().push(if t.is_done() { "done" } else { "?" }));
        assert!(t.remove_done_callback(removed));
        assert!(!t.remove_done_callback(removed));
        conductor::yield_now().await; // the task completes
        l.borrow_mut().push("after completion");
        conductor::yield_now().await; // its callbacks run
        // A callback added to a finished task is scheduled too, not run inline.
        let l3 = l.clone();
        t.add_done_callback(move |_| l3.borrow_mut().push("late"));
        l.borrow_mut().push("added late");
        conductor::yield_now().await;
    });
    assert_eq!(
        *log.borrow(),
        ["after completion", "done", "added late", "late"]
    );
}

#[test]
fn awaiting_many_tasks_in_any_order() {
    let out = paused().block_on(async {
        let tasks: Vec<_> = (0..100u64)
            .map(|i| {
                conductor::spawn(async move {
                    conductor::sleep(Duration::from_millis(100 - i)).await;
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    assert_eq!(out, 4950);
}

#[test]
fn a_million_tasks_are_freed() {
    // One allocation per task; memory is released as tasks finish (checked by count of
    // live tasks; the benchmark crate measures bytes).
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for _ in 0..10 {
            let tasks: Vec<_> = (0..10_000)
                .map(|i| conductor::spawn(async move { i }))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
    assert_eq!(rt.stats().tasks, 0);
}

#[conductor::test(paused)]
async fn dump_lists_tasks_with_name_state_and_location() {
    let t = conductor::spawn_named("sleeper", conductor::sleep(Duration::from_secs(5)));
    conductor::yield_now().await;
    let dump = conductor::debug::dump_tasks();
    let line = dump.lines().find(|l| l.contains("sleeper")).unwrap();
    assert!(line.contains("suspended"), "{line}");
    assert!(line.contains(file!()), "{line}");
    t.cancel();
}

/// Runs a loop in debug mode with `threshold` for slow steps: a "hog" task whose one step
/// blocks for `hog`, and a "polite" task of two short steps. Returns the steps reported.
fn slow_steps(threshold: Duration, hog: Duration) -> Vec<conductor::runtime::SlowStep> {
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let r = reports.clone();
    let rt = Runtime::builder()
        .debug(true)
        .slow_callback_duration(threshold)
        .on_slow_step(move |s| r.lock().unwrap().push(s.clone()))
        .build()
        .unwrap();
    rt.block_on(async move {
        conductor::spawn_named("hog", async move { std::thread::sleep(hog) })
            .await
            .unwrap();
        conductor::spawn_named("polite", async { conductor::yield_now().await })
            .await
            .unwrap();
    });
    std::mem::take(&mut *reports.lock().unwrap())
}

#[test]
fn slow_steps_are_reported_in_debug_mode_with_name_and_location() {
    // The hog's step blocks for at least 100 ms, twice the threshold, whatever the machine's
    // load; the other steps take microseconds, but a busy machine may stretch one past the
    // threshold, so they are only checked to be reported truthfully if at all.
    let threshold = Duration::from_millis(50);
    let reports = slow_steps(threshold, Duration::from_millis(100));
    let hog: Vec<_> = reports.iter().filter(|s| s.task == "hog").collect();
    assert_eq!(hog.len(), 1, "{reports:?}");
    assert_eq!(hog[0].spawned_at.file(), file!());
    assert!(hog[0].took >= Duration::from_millis(100), "{:?}", hog[0]);
    assert!(reports.iter().all(|s| s.took >= threshold), "{reports:?}");
}

#[test]
fn only_steps_at_or_over_the_threshold_are_reported() {
    // No step takes an hour: none is reported.
    assert!(slow_steps(Duration::from_secs(3600), Duration::from_millis(1)).is_empty());
    // Every step takes at least nothing: each is reported, the polite task's two steps too.
    let all = slow_steps(Duration::ZERO, Duration::ZERO);
    let steps = |task: &str| all.iter().filter(|s| s.task == task).count();
    assert_eq!((steps("hog"), steps("polite")), (1, 2), "{all:?}");
}

#[test]
fn a_task_handle_is_one_pointer_wide() {
    assert_eq!(
        std::mem::size_of::<conductor::Task<u64>>(),
        std::mem::size_of::<usize>()
    );
    assert_eq!(
        std::mem::size_of::<conductor::TaskRef>(),
        std::mem::size_of::<usize>()
    );
}
