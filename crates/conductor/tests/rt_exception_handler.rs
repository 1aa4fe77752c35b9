//! The exception handler (asyncio's `loop.set_exception_handler`, `call_exception_handler`):
//! every error nobody retrieved reaches it, with asyncio's messages.
//!
//! asyncio (3.11 and 3.13) reports a task that raised and was never awaited with "Task
//! exception was never retrieved" (and the task), a raising `call_soon` callback or done
//! callback with "Exception in callback ..." (and the handle); a handler that raises is
//! reported by the default handler as "Unhandled error in exception handler".

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conductor::Runtime;
use conductor::runtime::{self, ExceptionContext};

/// What a handler saw: the message, the task's name and spawn file, the callback's file, the
/// error's text.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    message: String,
    task: Option<(String, String)>,
    callback_file: Option<String>,
    error: Option<String>,
}

fn seen(ctx: &ExceptionContext) -> Seen {
    Seen {
        message: ctx.message().to_owned(),
        task: ctx
            .task()
            .map(|t| (t.name.to_string(), t.spawned_at.file().to_owned())),
        callback_file: ctx.callback().map(|l| l.file().to_owned()),
        error: ctx.error().map(ToString::to_string),
    }
}

/// A paused loop whose exception handler records what it receives.
fn recording() -> (Runtime, Arc<Mutex<Vec<Seen>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let rt = Runtime::builder()
        .paused_clock()
        .exception_handler(move |ctx| l.lock().unwrap().push(seen(ctx)))
        .build()
        .unwrap();
    (rt, log)
}

fn taken(log: &Arc<Mutex<Vec<Seen>>>) -> Vec<Seen> {
    std::mem::take(&mut *log.lock().unwrap())
}

const THIS_FILE: &str = file!();

#[test]
fn a_detached_task_that_panics_is_reported_as_never_retrieved() {
    let (rt, log) = recording();
    rt.block_on(async {
        conductor::spawn_named("worker", async { panic!("boom") }).detach();
        conductor::sleep(Duration::from_millis(1)).await;
    });
    assert_eq!(
        taken(&log),
        [Seen {
            message: "Task exception was never retrieved".into(),
            task: Some(("worker".into(), THIS_FILE.into())),
            callback_file: None,
            error: Some("panic: boom".into()),
        }]
    );
}

#[test]
fn dropping_the_handle_of_a_task_that_panicked_reports_it() {
    let (rt, log) = recording();
    let l = log.clone();
    rt.block_on(async move {
        let task = conductor::spawn(async { panic!("unread") });
        conductor::sleep(Duration::from_millis(1)).await;
        assert!(task.is_done());
        assert!(l.lock().unwrap().is_empty(), "the handle may still read it");
        drop(task);
    });
    let got = taken(&log);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message, "Task exception was never retrieved");
    assert_eq!(got[0].error.as_deref(), Some("panic: unread"));
}

#[test]
fn a_panic_read_through_the_handle_is_not_reported() {
    let (rt, log) = recording();
    rt.block_on(async {
        let task = conductor::spawn(async { panic!("read") });
        assert!(task.await.unwrap_err().is_panic());
        let mut task = conductor::spawn(async { panic!("read too") });
        conductor::sleep(Duration::from_millis(1)).await;
        assert!(task.result().unwrap_err().is_panic());
    });
    assert_eq!(taken(&log), []);
}

#[test]
fn cancelled_tasks_and_err_outputs_are_not_reported() {
    let (rt, log) = recording();
    rt.block_on(async {
        let t = conductor::spawn(conductor::sleep(Duration::from_secs(1)));
        conductor::yield_now().await;
        t.cancel();
        t.detach();
        // An `Err` output is a value: telling it apart would need specialisation (documented).
        conductor::spawn(async { Err::<(), _>("a value") }).detach();
        conductor::sleep(Duration::from_millis(1)).await;
    });
    assert_eq!(taken(&log), []);
}

#[test]
fn a_panicking_callback_is_reported_with_where_it_was_scheduled() {
    let (rt, log) = recording();
    let ran = Rc::new(RefCell::new(false));
    let r = ran.clone();
    rt.block_on(async move {
        conductor::call_soon(|| panic!("in call_soon"));
        conductor::call_later(Duration::from_millis(5), || panic!("in call_later"));
        conductor::call_soon(move || *r.borrow_mut() = true);
        conductor::sleep(Duration::from_millis(10)).await;
    });
    assert!(*ran.borrow(), "the loop went on after the panic");
    let callback = |msg: &str| Seen {
        message: "Exception in callback".into(),
        task: None,
        callback_file: Some(THIS_FILE.into()),
        error: Some(format!("panic: {msg}")),
    };
    assert_eq!(
        taken(&log),
        [callback("in call_soon"), callback("in call_later")]
    );
}

#[test]
fn a_panicking_done_callback_is_reported() {
    let (rt, log) = recording();
    rt.block_on(async {
        let task = conductor::spawn(async { 1 });
        task.add_done_callback(|_| panic!("in a done callback"));
        assert_eq!(task.await.unwrap(), 1);
        conductor::yield_now().await;
    });
    let got = taken(&log);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message, "Exception in callback");
    assert_eq!(got[0].callback_file.as_deref(), Some(THIS_FILE));
    assert_eq!(got[0].error.as_deref(), Some("panic: in a done callback"));
}

#[test]
fn set_exception_handler_replaces_the_handler_while_the_loop_runs() {
    let (rt, builder_log) = recording();
    let mine = Rc::new(RefCell::new(Vec::new()));
    let m = mine.clone();
    rt.block_on(async move {
        runtime::set_exception_handler(move |ctx| m.borrow_mut().push(ctx.message().to_owned()));
        runtime::call_exception_handler(ExceptionContext::new("to mine"));
        runtime::reset_exception_handler(); // the default handler (stderr) from here
        runtime::call_exception_handler(ExceptionContext::new("to the default"));
    });
    assert_eq!(*mine.borrow(), ["to mine"]);
    assert_eq!(taken(&builder_log), []);
}

#[test]
fn a_handler_may_replace_itself_and_report_again() {
    let rt = Runtime::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    rt.block_on(async move {
        runtime::set_exception_handler(move |ctx| {
            l.borrow_mut().push(ctx.message().to_owned());
            let l2 = l.clone();
            runtime::set_exception_handler(move |ctx| {
                l2.borrow_mut().push(format!("second: {}", ctx.message()))
            });
            runtime::call_exception_handler(ExceptionContext::new("from the handler"));
        });
        runtime::call_exception_handler(ExceptionContext::new("first"));
    });
    assert_eq!(*log.borrow(), ["first", "second: from the handler"]);
}

#[test]
fn a_panicking_handler_does_not_stop_the_loop() {
    let rt = Runtime::builder()
        .exception_handler(|_| panic!("the handler broke"))
        .build()
        .unwrap();
    let out = rt.block_on(async {
        conductor::call_soon(|| panic!("first"));
        conductor::spawn(async { panic!("second") }).detach();
        conductor::sleep(Duration::from_millis(1)).await;
        "still running"
    });
    assert_eq!(out, "still running");
}

#[test]
fn a_report_from_another_thread_reaches_the_handler_on_the_loop_thread() {
    let threads = Arc::new(Mutex::new(Vec::new()));
    let t = threads.clone();
    let rt = Runtime::builder()
        .exception_handler(move |ctx| {
            let name = std::thread::current().name().map(str::to_owned);
            t.lock().unwrap().push((ctx.message().to_owned(), name));
        })
        .build()
        .unwrap();
    let handle = rt.handle();
    let loop_thread = std::thread::current().name().map(str::to_owned);
    rt.block_on(async move {
        let worker = std::thread::spawn(move || {
            handle.call_exception_handler(ExceptionContext::new("from a worker"))
        });
        conductor::to_thread(move || worker.join().unwrap())
            .await
            .unwrap();
        conductor::sleep(Duration::from_millis(5)).await;
    });
    assert_eq!(
        *threads.lock().unwrap(),
        [("from a worker".to_owned(), loop_thread)]
    );
}

#[test]
fn a_report_sent_to_a_loop_that_is_gone_does_not_panic() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    drop(rt);
    // The default handler prints it here.
    handle.call_exception_handler(ExceptionContext::new("too late"));
}

#[test]
fn the_context_prints_as_the_default_handler_shows_it() {
    let ctx = ExceptionContext::new("Task exception was never retrieved")
        .with_detail("peer", "127.0.0.1:1")
        .with_error(std::io::Error::other("gone"));
    assert_eq!(
        ctx.to_string(),
        "Task exception was never retrieved\npeer: 127.0.0.1:1\nerror: gone"
    );
    assert_eq!(ctx.detail("peer"), Some("127.0.0.1:1"));
    let (rt, log) = recording();
    rt.block_on(async {
        conductor::spawn_named("w", async { panic!("x") }).detach();
        conductor::yield_now().await;
    });
    let got = taken(&log);
    assert_eq!(got[0].task.as_ref().map(|t| t.0.as_str()), Some("w"));
}

#[test]
fn a_task_that_panics_while_dropped_at_close_is_reported() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("in drop");
        }
    }
    let (rt, log) = recording();
    rt.block_on(async {
        conductor::spawn(async {
            let _guard = PanicOnDrop;
            std::future::pending::<()>().await;
        })
        .detach();
        conductor::yield_now().await;
    });
    drop(rt); // close destroys the pending task
    let got = taken(&log);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].error.as_deref(), Some("panic: in drop"));
}
