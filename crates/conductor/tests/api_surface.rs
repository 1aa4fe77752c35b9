//! The public surface's rules (docs/asyncio-mapping.md, "Naming"): asyncio's predicate and
//! `_nowait` names with their Rust-convention aliases agreeing, every error type a
//! `std::error::Error`, the channels sharing their error types, and the concerns reachable as
//! public modules.

use std::time::Duration;

use conductor::sync::{Barrier, Lock, Mutex, Queue, Semaphore};

/// Compiles only for a `std::error::Error` with `Display` and `Debug`.
fn is_error<E: std::error::Error>() {}

#[test]
fn every_public_error_type_is_a_std_error() {
    is_error::<conductor::TaskError>();
    is_error::<conductor::InvalidState>();
    is_error::<conductor::task::PanicError>();
    is_error::<conductor::cancel::Cancelled>();
    is_error::<conductor::time::TimedOut>();
    is_error::<conductor::group::ChildError<std::io::Error>>();
    is_error::<conductor::group::TaskGroupError<String>>();
    is_error::<conductor::group::GroupIoError>();
    is_error::<conductor::group::GroupClosed>();
    is_error::<conductor::future::FutureError<std::io::Error>>();
    is_error::<conductor::runtime::ContextError>();
    is_error::<conductor::runtime::LoopClosed>();
    is_error::<conductor::streams::ReadError>();
    is_error::<conductor::fs::PathError>();
    is_error::<conductor::sync::SendError<u8>>();
    is_error::<conductor::sync::TrySendError<u8>>();
    is_error::<conductor::sync::RecvError>();
    is_error::<conductor::sync::TryRecvError>();
    is_error::<conductor::sync::broadcast::RecvError>();
    is_error::<conductor::sync::broadcast::TryRecvError>();
    is_error::<conductor::sync::PutError<u8>>();
    is_error::<conductor::sync::GetError>();
    is_error::<conductor::sync::QueueShutDown<u8>>();
    is_error::<conductor::sync::TaskDoneTooOften>();
    is_error::<conductor::sync::TryAcquireError>();
    is_error::<conductor::sync::BrokenBarrierError>();
    is_error::<conductor::sync::TooManyReleases>();
}

#[test]
fn the_channels_share_one_error_type_per_failure() {
    // Each line compiles only if the two paths name one type.
    let send: conductor::sync::SendError<u8> = conductor::sync::mpsc::SendError(1);
    let _: conductor::sync::watch::SendError<u8> = send;
    let _: conductor::sync::broadcast::SendError<u8> = send;
    let _: conductor::sync::oneshot::RecvError = conductor::sync::watch::RecvError;
    let empty: conductor::sync::mpsc::TryRecvError = conductor::sync::oneshot::TryRecvError::Empty;
    assert_eq!(empty, conductor::sync::TryRecvError::Empty);
}

#[test]
fn an_mpsc_receiver_whose_senders_are_gone_is_closed() {
    let (tx, mut rx) = conductor::sync::mpsc::unbounded_channel::<u8>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(conductor::sync::TryRecvError::Closed));
}

#[test]
fn queue_aliases_agree_with_asyncios_names() {
    let q = Queue::new(1);
    assert!(q.empty() && q.is_empty() && !q.full() && !q.is_full());
    q.try_put('a').unwrap();
    assert_eq!((q.qsize(), q.len()), (1, 1));
    assert!(q.full() && q.is_full());
    assert!(matches!(
        q.try_put('b'),
        Err(conductor::sync::PutError::QueueFull('b'))
    ));
    assert_eq!(q.try_get(), Ok('a'));
    assert_eq!(q.try_get(), Err(conductor::sync::GetError::QueueEmpty));
    assert_eq!(q.get_nowait(), Err(conductor::sync::GetError::QueueEmpty));
}

#[test]
fn locked_and_is_locked_agree() {
    let lock = Lock::new();
    let mutex = Mutex::new(0);
    let sem = Semaphore::new(1);
    let held = (
        lock.try_acquire().unwrap(),
        mutex.try_lock().unwrap(),
        sem.try_acquire().unwrap(),
    );
    assert!(lock.locked() && lock.is_locked());
    assert!(mutex.locked() && mutex.is_locked());
    assert!(sem.locked() && sem.is_locked());
    drop(held);
    assert!(!lock.is_locked() && !mutex.is_locked() && !sem.is_locked());
}

#[test]
fn a_broken_barrier_is_broken_under_both_names() {
    let barrier = Barrier::new(2);
    assert!(!barrier.broken() && !barrier.is_broken());
    barrier.abort();
    assert!(barrier.broken() && barrier.is_broken());
}

#[conductor::test(paused)]
async fn task_predicates_have_asyncios_names() {
    let task = conductor::spawn(conductor::sleep(Duration::from_secs(1)));
    assert!(!task.done() && !task.is_done());
    task.cancel();
    let handle = (*task).clone();
    let _ = task.await;
    assert!(handle.done() && handle.is_done());
    assert!(handle.cancelled() && handle.is_cancelled());

    let cb = conductor::call_soon(|| {});
    cb.cancel();
    assert!(cb.cancelled() && cb.is_cancelled());

    let fut = conductor::create_future::<u8, std::io::Error>();
    assert!(!fut.done() && !fut.is_done());
    fut.cancel();
    assert!(fut.cancelled() && fut.is_cancelled());
}

#[conductor::test(paused)]
async fn testing_advance_moves_the_paused_clock() {
    let start = conductor::now();
    conductor::time::testing::advance(Duration::from_secs(3));
    assert_eq!(conductor::now() - start, Duration::from_secs(3));
    let scope = conductor::timeout_scope(Some(Duration::from_secs(1)), |_| {
        conductor::sleep(Duration::from_secs(2))
    });
    let cm = scope.handle();
    assert!(!cm.expired() && !cm.is_expired());
    assert!(scope.await.is_err());
    assert!(cm.expired() && cm.is_expired());
}

#[test]
fn every_concern_is_a_public_module() {
    // `cancel` and `blocking` were private, reachable only through the root.
    let _: fn(std::future::Ready<()>) -> conductor::cancel::CatchCancel<std::future::Ready<()>> =
        conductor::cancel::catch_cancel;
    let _ = conductor::blocking::to_thread::<fn() -> u8, u8>;
    let _ = conductor::blocking::spawn_cpu::<fn() -> u8, u8>;
}
