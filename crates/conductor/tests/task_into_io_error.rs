//! `?` from task, gather and group errors into `io::Error`, so that `task.await?` works in a
//! function that returns `io::Result`; panics stay resumable.

mod support;

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use conductor::group::GroupIoError;
use conductor::task::{PanicError, resume_panic};
use conductor::{Cancelled, gather, sleep, spawn, task_group};
use support::paused;

async fn missing(name: &str) -> io::Result<u64> {
    sleep(Duration::from_millis(1)).await;
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("{name} is missing"),
    ))
}

#[test]
fn a_cancelled_task_becomes_an_io_error_that_keeps_its_cancellation() {
    let err = paused().block_on(async {
        async fn run() -> io::Result<()> {
            let task = spawn(sleep(Duration::from_secs(10)));
            task.cancel_with("shutting down");
            task.await?;
            Ok(())
        }
        run().await.unwrap_err()
    });
    assert_eq!(err.kind(), io::ErrorKind::Other);
    let cancelled = err.get_ref().unwrap().downcast_ref::<Cancelled>().unwrap();
    assert_eq!(cancelled.message(), Some("shutting down"));
}

#[test]
fn a_panicked_task_becomes_an_io_error_whose_panic_can_be_resumed() {
    let err = paused().block_on(async {
        async fn run() -> io::Result<()> {
            spawn(async { panic!("a bug") }).await?;
            Ok(())
        }
        run().await.unwrap_err()
    });
    assert_eq!(err.to_string(), "task panicked: a bug");
    assert_eq!(
        err.get_ref()
            .unwrap()
            .downcast_ref::<PanicError>()
            .unwrap()
            .message(),
        "a bug"
    );
    let resumed = catch_unwind(AssertUnwindSafe(|| resume_panic(err))).unwrap_err();
    assert_eq!(resumed.downcast_ref::<&str>(), Some(&"a bug"));
    // An io::Error that carries no panic is given back.
    let plain = resume_panic(io::Error::other("plain"));
    assert_eq!(plain.to_string(), "plain");
}

#[test]
fn a_gather_of_io_results_fails_with_the_childs_own_io_error() {
    let err = paused().block_on(async {
        async fn run() -> io::Result<Vec<u64>> {
            let sizes = gather([missing("a.txt"), missing("b.txt")]).await?;
            Ok(sizes)
        }
        run().await.unwrap_err()
    });
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert_eq!(err.to_string(), "a.txt is missing");
}

#[test]
fn a_gather_of_plain_values_converts_too() {
    let out = paused().block_on(async {
        async fn run() -> io::Result<Vec<u8>> {
            Ok(gather([1u8, 2].map(|n| async move { n })).await?)
        }
        run().await
    });
    assert_eq!(out.unwrap(), [1, 2]);
}

#[test]
fn a_group_with_one_failure_gives_that_io_error() {
    let err = paused().block_on(async {
        async fn run() -> io::Result<()> {
            task_group(|tg| async move {
                tg.spawn(missing("config"));
                tg.spawn(sleep(Duration::from_secs(10)).map_ok());
                Ok(())
            })
            .await?;
            Ok(())
        }
        run().await.unwrap_err()
    });
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert_eq!(err.to_string(), "config is missing");
}

#[test]
fn a_group_with_several_failures_keeps_them_all() {
    let err = paused().block_on(async {
        async fn run() -> io::Result<()> {
            task_group(|tg| async move {
                tg.spawn(missing("first"));
                tg.spawn(missing("second"));
                tg.spawn(async {
                    sleep(Duration::from_millis(1)).await;
                    if true {
                        panic!("third");
                    }
                    Ok(0)
                });
                Ok(())
            })
            .await?;
            Ok(())
        }
        run().await.unwrap_err()
    });
    assert_eq!(
        err.kind(),
        io::ErrorKind::NotFound,
        "the first failure's kind"
    );
    let group = err
        .get_ref()
        .unwrap()
        .downcast_ref::<GroupIoError>()
        .unwrap();
    let messages: Vec<String> = group.errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(
        messages,
        [
            "first is missing",
            "second is missing",
            "task panicked: third"
        ]
    );
    assert!(
        err.to_string()
            .starts_with("unhandled errors in a TaskGroup (3 sub-exceptions)")
    );
}

/// `Ok(())` after a future of `()`, as an `io::Result`.
trait MapOk: std::future::Future<Output = ()> + Sized {
    async fn map_ok(self) -> io::Result<u64> {
        self.await;
        Ok(0)
    }
}

impl<F: std::future::Future<Output = ()>> MapOk for F {}
