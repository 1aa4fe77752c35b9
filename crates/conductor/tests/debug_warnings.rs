//! Debug mode's warnings (asyncio's debug mode), each through the loop's exception handler: it
//! fires on a program that does the wrong thing and stays silent on one that does not.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use conductor::net::{TcpListener, TcpStream};
use conductor::process::Command;
use conductor::streams::StreamWriter;
use conductor::{Runtime, sleep, spawn, spawn_named};
use futures_lite::AsyncWriteExt;
use support::TempDir;

type Seen = Arc<Mutex<Vec<String>>>;

fn debug_loop(debug: bool) -> (Runtime, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let rt = Runtime::builder()
        .paused_clock()
        .debug(debug)
        .exception_handler(move |ctx| log.lock().unwrap().push(ctx.to_string()))
        .build()
        .unwrap();
    (rt, seen)
}

fn reports(seen: &Seen) -> Vec<String> {
    seen.lock().unwrap().clone()
}

#[test]
fn a_task_destroyed_while_pending_is_reported_with_where_it_waits() {
    let (rt, seen) = debug_loop(true);
    rt.block_on(async {
        spawn_named("forgotten", sleep(Duration::from_secs(60))).detach();
        conductor::yield_now().await;
    });
    drop(rt);
    let r = reports(&seen);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        r[0].starts_with("Task was destroyed but it is pending!\ntask: forgotten (spawned at ")
    );
    assert!(
        r[0].contains("\nstate: suspended\nawaiting: sleep"),
        "{}",
        r[0]
    );
}

#[test]
fn tasks_awaited_or_cancelled_by_run_are_not_reported() {
    let (rt, seen) = debug_loop(true);
    rt.block_on(async {
        let t = spawn(sleep(Duration::from_secs(1)));
        t.await.unwrap();
    });
    drop(rt);
    let (rt, seen_run) = debug_loop(true);
    // `run` cancels what is left, as asyncio.run does: nothing is destroyed pending.
    rt.run(async {
        spawn(sleep(Duration::from_secs(60))).detach();
    });
    assert!(reports(&seen).is_empty() && reports(&seen_run).is_empty());
}

#[test]
fn without_debug_mode_a_pending_task_is_dropped_silently() {
    let (rt, seen) = debug_loop(false);
    rt.block_on(async { spawn(sleep(Duration::from_secs(60))).detach() });
    drop(rt);
    assert!(reports(&seen).is_empty());
}

#[test]
fn a_task_failure_nobody_retrieved_is_reported() {
    let (rt, seen) = debug_loop(true);
    rt.block_on(async {
        let t = spawn_named("doomed", async { panic!("boom") });
        conductor::yield_now().await;
        drop(t); // done, failed, and nobody read the failure
    });
    let r = reports(&seen);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].starts_with("Task exception was never retrieved\ntask: doomed"));
    assert!(r[0].ends_with("panic: boom"));
}

#[test]
fn a_retrieved_task_failure_is_not_reported() {
    let (rt, seen) = debug_loop(true);
    rt.block_on(async {
        let t = spawn(async { panic!("boom") });
        assert!(t.await.is_err());
    });
    assert!(reports(&seen).is_empty());
}

/// A loop on another thread, to wait on from here; stops when the sender is dropped.
fn other_loop() -> (
    conductor::Handle,
    conductor::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (htx, hrx) = std::sync::mpsc::channel();
    let (stop, stopped) = conductor::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = Runtime::new().unwrap();
        htx.send(rt.handle()).unwrap();
        rt.block_on(async move {
            let _ = stopped.await;
        });
    });
    (hrx.recv().unwrap(), stop, thread)
}

#[test]
fn a_blocking_wait_on_a_loop_thread_is_reported() {
    let (other, stop, thread) = other_loop();
    // The remote task ends only once the report is in (the handler runs inside `wait`, before
    // it blocks), so `wait` always finds it unfinished: without the gate the other loop could
    // finish first on a loaded machine, and `wait`, rightly, would not warn. Bounded: a missing
    // report fails the assertion below after 10 s instead of hanging.
    let (go, gate) = std::sync::mpsc::channel::<()>();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let rt = Runtime::builder()
        .debug(true)
        .exception_handler(move |ctx| {
            log.lock().unwrap().push(ctx.to_string());
            let _ = go.send(());
        })
        .build()
        .unwrap();
    rt.block_on(async move {
        let task = other.spawn(async move {
            let _ = gate.recv_timeout(Duration::from_secs(10));
            7
        });
        // Blocks this loop's thread until the other loop has run the task.
        assert_eq!(task.wait().unwrap(), 7);
    });
    drop(stop);
    thread.join().unwrap();
    let r = reports(&seen);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].starts_with("RemoteTask::wait() blocks an event loop's thread"));
    assert!(
        r[0].contains("called at: crates/conductor/tests/debug_warnings.rs:"),
        "{}",
        r[0]
    );
}

#[test]
fn awaiting_a_remote_task_or_waiting_off_the_loop_is_not_reported() {
    let (other, stop, thread) = other_loop();
    let (rt, seen) = debug_loop(true);
    let h = other.clone();
    rt.block_on(async move {
        assert_eq!(h.spawn(async { 7 }).await.unwrap(), 7);
    });
    // A plain thread may block: no loop runs there.
    assert_eq!(other.spawn(async { 8 }).wait().unwrap(), 8);
    drop(stop);
    thread.join().unwrap();
    assert!(reports(&seen).is_empty());
}

/// A connected pair whose far side never reads, so that a large write stays buffered.
async fn stuck_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn a_stream_writer_whose_data_is_never_sent_is_reported() {
    let (rt, seen) = debug_loop(true);
    let peer = rt.block_on(async {
        let (client, server) = stuck_pair().await;
        let mut w = StreamWriter::new(client);
        w.write(&vec![7u8; 16 << 20]); // far more than the socket buffers take
        conductor::yield_now().await;
        drop(w);
        server // kept open, never read
    });
    drop(rt); // the loop closes with the background send still holding bytes
    drop(peer);
    let r = reports(&seen);
    // The writer's background send is itself a task destroyed while pending.
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r[0].starts_with("Task was destroyed but it is pending!\ntask: StreamWriter send"));
    assert!(
        r[1].starts_with("A StreamWriter's data was never sent"),
        "{}",
        r[1]
    );
    assert!(r[1].contains("\nunsent bytes: "), "{}", r[1]);
}

#[test]
fn a_drained_stream_writer_is_not_reported() {
    let (rt, seen) = debug_loop(true);
    rt.block_on(async {
        let (client, mut server) = stuck_pair().await;
        let mut w = StreamWriter::new(client);
        w.write(&vec![7u8; 1 << 20]);
        let reader = spawn(async move {
            let mut buf = vec![0; 1 << 16];
            let mut total = 0;
            while total < 1 << 20 {
                total += server.read(&mut buf).await.unwrap();
            }
        });
        w.drain().await.unwrap();
        w.wait_closed().await.unwrap();
        reader.await.unwrap();
    });
    drop(rt);
    assert!(reports(&seen).is_empty(), "{:?}", reports(&seen));
}

#[test]
fn a_file_dropped_with_unflushed_data_is_reported_and_a_flushed_one_is_not() {
    let dir = TempDir::new("debug-file");
    let (rt, seen) = debug_loop(true);
    let (a, b) = (dir.join("a"), dir.join("b"));
    rt.block_on(async move {
        let mut f = conductor::fs::File::create(&a).await.unwrap();
        f.write_all(b"left in the buffer").await.unwrap();
        drop(f);
        let mut f = conductor::fs::File::create(&b).await.unwrap();
        f.write_all(b"flushed").await.unwrap();
        f.flush().await.unwrap();
        drop(f);
    });
    drop(rt);
    assert_eq!(std::fs::read(dir.join("a")).unwrap(), b"left in the buffer");
    let r = reports(&seen);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].starts_with("A File was dropped with unflushed data"));
    assert!(r[0].contains("/a\nunflushed bytes: 18"), "{}", r[0]);
}

#[test]
fn a_child_dropped_before_its_exit_was_awaited_is_reported_and_an_awaited_one_is_not() {
    let (rt, seen) = debug_loop(true);
    rt.block_on(async {
        let mut done = Command::new("true").spawn().unwrap();
        assert!(done.wait().await.unwrap().success());
        drop(done);
        let forgotten = Command::new("sleep").arg("0.01").spawn().unwrap();
        drop(forgotten);
    });
    let r = reports(&seen);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].starts_with("A Child was dropped before its exit was awaited"));
    assert!(r[0].ends_with("on drop: left running"), "{}", r[0]);
}
