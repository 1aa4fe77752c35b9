//! Runners (asyncio 1.1): `run`, `Runtime`, nesting, shutdown, stepping.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use conductor::{Runtime, TaskError};
use support::paused;

#[test]
fn run_returns_the_main_output() {
    assert_eq!(conductor::run(async { 40 + 2 }), 42);
}

#[test]
fn run_inside_a_running_loop_fails_with_a_clear_message() {
    let err = conductor::run(async {
        std::panic::catch_unwind(|| conductor::run(async {})).unwrap_err()
    });
    let msg = err
        .downcast_ref::<&str>()
        .copied()
        .unwrap_or_default()
        .to_string()
        + err
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
    assert!(
        msg.contains("cannot run an event loop while another one is running"),
        "{msg}"
    );
}

#[test]
fn run_cancels_remaining_tasks_and_lets_them_clean_up() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    conductor::run(async move {
        let l2 = l.clone();
        conductor::spawn(async move {
            let r = conductor::catch_cancel(conductor::sleep(Duration::from_secs(3600))).await;
            assert!(r.is_err());
            // Async cleanup runs before run() returns.
            conductor::sleep(Duration::from_millis(1)).await;
            l2.borrow_mut().push("cleaned up");
        })
        .detach();
        conductor::yield_now().await;
        l.borrow_mut().push("main done");
    });
    assert_eq!(*log.borrow(), ["main done", "cleaned up"]);
}

#[test]
fn run_until_complete_leaves_other_tasks_running() {
    let rt = paused();
    let bg = rt.spawn(async {
        conductor::sleep(Duration::from_secs(10)).await;
        "bg"
    });
    rt.block_on(async { conductor::sleep(Duration::from_secs(1)).await });
    assert!(!bg.is_done());
    assert_eq!(rt.block_on(bg).unwrap(), "bg");
}

#[test]
fn a_runtime_runs_many_times_and_keeps_its_clock() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async { conductor::sleep(Duration::from_secs(5)).await });
    rt.block_on(async { conductor::sleep(Duration::from_secs(5)).await });
    assert_eq!(rt.now() - t0, Duration::from_secs(10));
}

#[test]
fn a_panic_in_main_resumes_in_the_caller() {
    let r = std::panic::catch_unwind(|| conductor::run(async { panic!("boom in main") }));
    let p = r.unwrap_err();
    assert_eq!(p.downcast_ref::<&str>(), Some(&"boom in main"));
}

#[test]
fn run_until_complete_reports_a_panic_as_an_error() {
    let rt = paused();
    let err = rt
        .run_until_complete(async { panic!("inner") })
        .unwrap_err();
    assert!(err.is_panic());
    assert!(err.to_string().contains("inner"));
}

#[test]
fn a_cancelled_main_task_is_an_error_value() {
    let rt = paused();
    let err = rt
        .run_until_complete(async {
            conductor::current_task().unwrap().cancel();
            conductor::sleep(Duration::from_secs(1)).await;
        })
        .unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn run_once_steps_one_iteration_at_a_time() {
    let rt = paused();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let t = rt.spawn(async move {
        l.borrow_mut().push(1);
        conductor::yield_now().await;
        l.borrow_mut().push(2);
        conductor::yield_now().await;
        l.borrow_mut().push(3);
    });
    assert!(
        log.borrow().is_empty(),
        "spawn does not run the task eagerly"
    );
    rt.run_once();
    assert_eq!(*log.borrow(), [1]);
    rt.run_once();
    assert_eq!(*log.borrow(), [1, 2]);
    rt.run_once();
    assert_eq!(*log.borrow(), [1, 2, 3]);
    assert!(t.is_done());
}

#[test]
fn a_dropped_runtime_drops_pending_futures() {
    struct Flag(Rc<RefCell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            *self.0.borrow_mut() = true;
        }
    }
    let dropped = Rc::new(RefCell::new(false));
    let d = dropped.clone();
    let rt = paused();
    let t = rt.spawn(async move {
        let _flag = Flag(d);
        std::future::pending::<()>().await;
    });
    rt.run_once();
    assert!(!*dropped.borrow());
    drop(rt);
    assert!(*dropped.borrow());
    // The handle outlives the loop and reports the cancellation.
    assert!(t.is_cancelled());
}

#[test]
fn a_task_handle_outliving_its_loop_can_read_its_result() {
    let rt = paused();
    let mut t = rt.spawn(async { String::from("kept") });
    rt.block_on(async { conductor::yield_now().await });
    drop(rt);
    assert_eq!(t.result().unwrap(), "kept");
}

#[test]
fn shutdown_timeout_bounds_a_task_that_ignores_cancellation() {
    let rt = Runtime::builder()
        .shutdown_timeout(Duration::from_millis(30))
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    rt.run(async {
        conductor::spawn(async {
            loop {
                // Suppresses every cancellation.
                let _ = conductor::catch_cancel(conductor::sleep(Duration::from_secs(3600))).await;
            }
        })
        .detach();
        conductor::yield_now().await;
    });
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn main_attribute_macro_runs_async_main() {
    #[conductor::main(paused)]
    async fn body() -> u32 {
        conductor::sleep(Duration::from_secs(60)).await;
        7
    }
    assert_eq!(body(), 7);
}

#[conductor::test(paused)]
async fn test_attribute_gives_a_paused_clock() {
    let t0 = conductor::now();
    conductor::sleep(Duration::from_secs(3600)).await;
    assert_eq!(conductor::now() - t0, Duration::from_secs(3600));
}

#[test]
fn the_main_future_need_not_be_send() {
    let rc = Rc::new(5);
    let out = conductor::run(async move {
        conductor::yield_now().await;
        *rc
    });
    assert_eq!(out, 5);
}

#[test]
fn spawn_outside_a_loop_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| {
        conductor::spawn(async {}).detach();
    })
    .unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("outside a running event loop"), "{msg}");
}

#[test]
fn task_error_displays_what_to_do() {
    let rt = paused();
    let mut t = rt.spawn(async {});
    let e: TaskError = t.result().unwrap_err();
    assert!(e.to_string().contains("not done yet"));
}
