//! `oneshot`: one value, close semantics from both sides, cancel-safe receive.

use std::time::Duration;

use conductor::sync::oneshot::{self, RecvError, TryRecvError};
use conductor::{sleep, spawn, timeout, yield_now};

#[conductor::test(paused)]
async fn the_value_reaches_a_waiting_receiver() {
    let (tx, rx) = oneshot::channel();
    let receiver = spawn(rx);
    yield_now().await;
    sleep(Duration::from_secs(1)).await;
    tx.send("done").unwrap();
    assert_eq!(receiver.await.unwrap(), Ok("done"));
}

#[conductor::test(paused)]
async fn a_value_sent_first_is_received_at_once() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(5).unwrap();
    assert_eq!(rx.await, Ok(5));
}

#[conductor::test(paused)]
async fn a_sender_dropped_without_sending_fails_the_receiver() {
    let (tx, rx) = oneshot::channel::<u8>();
    let receiver = spawn(rx);
    yield_now().await;
    drop(tx);
    assert_eq!(receiver.await.unwrap(), Err(RecvError));
}

#[conductor::test(paused)]
async fn a_dropped_or_closed_receiver_gives_the_value_back() {
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(String::from("v")), Err(String::from("v")));

    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(rx.await, Err(RecvError));
}

#[conductor::test(paused)]
async fn a_value_sent_before_close_is_still_received() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(1).unwrap();
    rx.close();
    assert_eq!(rx.await, Ok(1));
}

#[conductor::test(paused)]
async fn closed_resolves_when_the_receiver_goes() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    let t0 = conductor::now();
    spawn(async move {
        sleep(Duration::from_secs(3)).await;
        drop(rx);
    })
    .detach();
    tx.closed().await;
    assert_eq!(conductor::now() - t0, Duration::from_secs(3));
}

#[conductor::test(paused)]
async fn a_receive_that_times_out_can_be_retried() {
    let (tx, mut rx) = oneshot::channel();
    assert!(timeout(Duration::from_secs(1), &mut rx).await.is_err());
    tx.send(9).unwrap();
    assert_eq!(rx.await, Ok(9));
}

#[test]
fn ping_pong_between_two_loops() {
    let (to_b, mut b_in) = conductor::sync::mpsc::unbounded_channel::<oneshot::Sender<u32>>();
    let b = std::thread::spawn(move || {
        conductor::run(async move {
            let mut n = 0;
            while let Some(reply) = b_in.recv().await {
                n += 1;
                reply.send(n).unwrap();
            }
            n
        })
    });
    conductor::run(async move {
        for i in 1..=200 {
            let (tx, rx) = oneshot::channel();
            to_b.send(tx).unwrap();
            assert_eq!(rx.await, Ok(i));
        }
    });
    assert_eq!(b.join().unwrap(), 200);
}

/// Counts how the channel uses a waker: wakes by value and by reference.
#[derive(Default)]
struct WakeLog {
    by_value: std::sync::atomic::AtomicUsize,
    by_ref: std::sync::atomic::AtomicUsize,
}

impl std::task::Wake for WakeLog {
    fn wake(self: std::sync::Arc<Self>) {
        self.by_value
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.by_ref
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Polls `rx` once with a waker counted by the returned log: it must wait.
fn register(rx: &mut oneshot::Receiver<u8>) -> std::sync::Arc<WakeLog> {
    let log = std::sync::Arc::new(WakeLog::default());
    let waker = std::task::Waker::from(log.clone());
    let poll = std::pin::Pin::new(rx).poll(&mut std::task::Context::from_waker(&waker));
    assert!(poll.is_pending());
    log
}

/// A send from another thread wakes the receiver's waker by value: the waker's reference goes
/// with the wake (for a task of a loop, one trip through the loop's remote queue), none is left
/// in the channel for whichever thread drops it last.
#[test]
fn a_send_from_another_thread_wakes_the_waker_by_value() {
    use std::sync::atomic::Ordering::SeqCst;
    let (tx, mut rx) = oneshot::channel::<u8>();
    let log = register(&mut rx);
    assert_eq!(
        std::sync::Arc::strong_count(&log),
        2,
        "the channel holds a clone"
    );
    std::thread::spawn(move || tx.send(9).unwrap())
        .join()
        .unwrap();
    assert_eq!((log.by_value.load(SeqCst), log.by_ref.load(SeqCst)), (1, 0));
    assert_eq!(
        std::sync::Arc::strong_count(&log),
        1,
        "the wake consumed the clone"
    );
    assert_eq!(rx.try_recv(), Ok(9));
}

/// A receiver dropped while waiting drops its waker itself, on its own thread, even though the
/// sender (elsewhere) keeps the channel alive; the sender's drop then wakes nothing.
#[test]
fn a_dropped_receiver_releases_its_waker_at_once() {
    use std::sync::atomic::Ordering::SeqCst;
    let (tx, mut rx) = oneshot::channel::<u8>();
    let log = register(&mut rx);
    drop(rx);
    assert_eq!(std::sync::Arc::strong_count(&log), 1);
    assert_eq!(tx.send(1), Err(1));
    assert_eq!((log.by_value.load(SeqCst), log.by_ref.load(SeqCst)), (0, 0));
}

/// A receiver polled again with another waker gives the first one up at once.
#[test]
fn a_replaced_waker_is_released_and_the_new_one_woken() {
    use std::sync::atomic::Ordering::SeqCst;
    let (tx, mut rx) = oneshot::channel::<u8>();
    let first = register(&mut rx);
    let second = register(&mut rx);
    assert_eq!(std::sync::Arc::strong_count(&first), 1);
    tx.send(2).unwrap();
    assert_eq!(first.by_value.load(SeqCst) + first.by_ref.load(SeqCst), 0);
    assert_eq!(
        (second.by_value.load(SeqCst), second.by_ref.load(SeqCst)),
        (1, 0)
    );
    assert_eq!(rx.try_recv(), Ok(2));
}
