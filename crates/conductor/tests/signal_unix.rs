//! Real signals sent to this test process. Signals are process-wide, so these tests live in
//! their own binary, and every test that raises SIGINT or SIGTERM listens for it first (a
//! listener installs the handler, so the test runner is never killed).
//!
//! The tests share the process: each uses its own signal where it counts deliveries, and
//! tolerates extra deliveries from its neighbours where it shares one.

use std::sync::Mutex;
use std::time::Duration;

use conductor::signal::{self, SignalKind, graceful_shutdown};

/// Tests that raise SIGINT/SIGTERM take turns: a shutdown test must not see another's signal.
static SHUTDOWN_SIGNALS: Mutex<()> = Mutex::new(());

fn raise(sig: i32) {
    // SAFETY: every caller listens for `sig` first, so the handler is installed.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

/// `kill(getpid())`, as a signal from outside would come (raise targets the calling thread).
fn kill_self(sig: i32) {
    // SAFETY: as `raise`.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
}

#[test]
fn a_stream_sees_each_delivery() {
    conductor::run(async {
        let mut usr1 = signal::signal(SignalKind::user_defined1()).unwrap();
        for _ in 0..3 {
            raise(libc::SIGUSR1);
            conductor::timeout(Duration::from_secs(10), usr1.recv())
                .await
                .expect("the delivery was not seen")
                .unwrap();
        }
    });
}

#[test]
fn deliveries_before_a_recv_coalesce_into_one() {
    conductor::run(async {
        let mut sig = signal::signal(SignalKind::from_raw(libc::SIGRTMIN() + 1)).unwrap();
        // `raise` runs the handler in this thread before it returns: both deliveries are in.
        raise(libc::SIGRTMIN() + 1);
        raise(libc::SIGRTMIN() + 1);
        conductor::sleep(Duration::from_millis(300)).await; // both dispatched meanwhile
        conductor::timeout(Duration::from_secs(10), sig.recv())
            .await
            .unwrap();
        let again = conductor::timeout(Duration::from_millis(100), sig.recv()).await;
        assert!(again.is_err(), "two deliveries before a recv count once");
    });
}

#[test]
fn every_listener_on_every_loop_is_notified() {
    let sig = SignalKind::user_defined2();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let other_loop = std::thread::spawn(move || {
        conductor::run(async move {
            let mut s = signal::signal(sig).unwrap();
            ready_tx.send(()).unwrap();
            conductor::timeout(Duration::from_secs(10), s.recv())
                .await
                .expect("the other loop's listener was not notified");
        })
    });
    ready_rx.recv().unwrap();
    conductor::run(async move {
        let mut a = signal::signal(sig).unwrap();
        let mut b = signal::signal(sig).unwrap();
        kill_self(sig.as_raw());
        for s in [&mut a, &mut b] {
            conductor::timeout(Duration::from_secs(10), s.recv())
                .await
                .expect("a listener of this loop was not notified");
        }
    });
    other_loop.join().unwrap();
}

#[test]
fn signals_that_cannot_be_handled_are_refused() {
    for sig in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, 1000] {
        let err = signal::signal(SignalKind::from_raw(sig)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "signal {sig}");
    }
}

#[test]
fn ctrl_c_resolves_on_sigint() {
    let _turn = SHUTDOWN_SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
    conductor::run(async {
        let ctrl_c = signal::ctrl_c();
        raise(libc::SIGINT);
        conductor::timeout(Duration::from_secs(10), ctrl_c)
            .await
            .expect("ctrl_c did not resolve")
            .unwrap();
    });
}

#[test]
fn sigterm_stops_accepting_lets_work_finish_and_reports_143() {
    let _turn = SHUTDOWN_SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
    let report = conductor::run(async {
        let accepting_stopped = std::rc::Rc::new(std::cell::Cell::new(false));
        let stopped = accepting_stopped.clone();
        let shutdown = graceful_shutdown(Duration::from_secs(10), move |in_flight| async move {
            // Each accepted "request" takes 200 ms; the accept loop notices its cancellation.
            let accept = async {
                loop {
                    in_flight
                        .spawn(conductor::sleep(Duration::from_millis(200)))
                        .detach();
                    conductor::sleep(Duration::from_millis(20)).await;
                }
            };
            let cancelled: Result<(), _> = conductor::catch_cancel(accept).await;
            stopped.set(cancelled.is_err());
        })
        .unwrap();
        conductor::call_later(Duration::from_millis(100), || kill_self(libc::SIGTERM));
        let report = shutdown.await;
        assert!(accepting_stopped.get(), "the accept loop was not cancelled");
        report
    });
    assert_eq!(report.signal, Some(SignalKind::terminate()));
    assert!(!report.deadline_hit);
    assert_eq!(report.cancelled, 0);
    assert!(report.finished >= 3, "{report:?}");
    assert_eq!(report.exit_code(), 143);
}

#[test]
fn work_past_the_grace_period_is_cancelled_and_cleans_up() {
    let _turn = SHUTDOWN_SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
    let cleaned = std::rc::Rc::new(std::cell::Cell::new(0));
    let c = cleaned.clone();
    let report = conductor::run(async move {
        let shutdown = graceful_shutdown(Duration::from_millis(100), move |in_flight| async move {
            for _ in 0..3 {
                let c = c.clone();
                in_flight
                    .spawn(async move {
                        let slow = conductor::sleep(Duration::from_secs(60));
                        if let Err(cancelled) = conductor::catch_cancel(slow).await {
                            conductor::sleep(Duration::from_millis(1)).await; // async cleanup
                            c.set(c.get() + 1);
                            cancelled.reraise::<()>().await;
                        }
                    })
                    .detach();
            }
            in_flight.spawn(async {}).detach(); // finishes at once
            std::future::pending::<()>().await;
        })
        .unwrap();
        conductor::call_later(Duration::from_millis(50), || raise(libc::SIGINT));
        shutdown.await
    });
    assert_eq!(report.signal, Some(SignalKind::interrupt()));
    assert!(report.deadline_hit);
    assert_eq!((report.finished, report.cancelled), (1, 3), "{report:?}");
    assert_eq!(cleaned.get(), 3);
    assert_eq!(report.exit_code(), 130);
}

#[test]
fn a_server_that_returns_by_itself_reports_no_signal() {
    // It listens for SIGINT/SIGTERM too: another test's must not reach it.
    let _turn = SHUTDOWN_SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
    let report = conductor::run(async {
        graceful_shutdown(Duration::from_secs(1), |in_flight| async move {
            in_flight
                .spawn(conductor::sleep(Duration::from_millis(20)))
                .detach();
        })
        .unwrap()
        .await
    });
    assert_eq!(report.signal, None);
    assert_eq!((report.finished, report.cancelled), (1, 0));
    assert_eq!(report.exit_code(), 0);
}
