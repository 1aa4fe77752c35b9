//! `watch`: the latest value, change notification, close semantics, a stream of changes.

mod support;

use std::time::Duration;

use conductor::sync::watch::{self, RecvError};
use conductor::{sleep, spawn, timeout, yield_now};
use support::next;

#[conductor::test(paused)]
async fn receivers_see_the_latest_value_and_wait_for_changes() {
    let (tx, mut rx) = watch::channel(0);
    assert_eq!(*rx.borrow(), 0);
    assert_eq!(rx.has_changed(), Ok(false));
    let mut rx2 = rx.clone();
    let waiter = spawn(async move {
        rx2.changed().await.unwrap();
        *rx2.borrow_and_update()
    });
    yield_now().await;
    sleep(Duration::from_secs(1)).await;
    tx.send(1).unwrap();
    tx.send(2).unwrap(); // only the latest is kept
    assert_eq!(waiter.await.unwrap(), 2);
    assert_eq!(rx.has_changed(), Ok(true));
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow_and_update(), 2);
    assert!(timeout(Duration::from_secs(1), rx.changed()).await.is_err());
}

#[conductor::test(paused)]
async fn dropping_the_sender_ends_the_receivers_after_the_last_change() {
    let (tx, mut rx) = watch::channel("a");
    tx.send("b").unwrap();
    drop(tx);
    assert_eq!(rx.changed().await, Ok(()));
    assert_eq!(*rx.borrow_and_update(), "b");
    assert_eq!(rx.changed().await, Err(RecvError));
    assert_eq!(rx.has_changed(), Err(RecvError));
}

#[conductor::test(paused)]
async fn a_waiting_receiver_is_woken_by_the_senders_drop() {
    let (tx, mut rx) = watch::channel(());
    let waiter = spawn(async move { rx.changed().await });
    yield_now().await;
    drop(tx);
    assert_eq!(waiter.await.unwrap(), Err(RecvError));
}

#[conductor::test(paused)]
async fn send_fails_without_receivers_but_send_replace_stores() {
    let (tx, rx) = watch::channel(1);
    let t0 = conductor::now();
    let closed = spawn(async move {
        let tx = tx;
        tx.closed().await;
        assert_eq!(tx.send(2).unwrap_err().0, 2);
        assert_eq!(tx.send_replace(3), 1);
        assert!(tx.is_closed());
        let value = *tx.borrow();
        (conductor::now(), value)
    });
    sleep(Duration::from_secs(1)).await;
    drop(rx);
    let (at, value) = closed.await.unwrap();
    assert_eq!((at - t0, value), (Duration::from_secs(1), 3));
}

#[conductor::test(paused)]
async fn send_modify_changes_in_place() {
    let (tx, mut rx) = watch::channel(vec![1]);
    tx.send_modify(|v| v.push(2));
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow_and_update(), [1, 2]);
    let late = tx.subscribe();
    assert_eq!(late.has_changed(), Ok(false));
}

#[conductor::test(paused)]
async fn the_receiver_is_a_stream_of_changes() {
    let (tx, mut rx) = watch::channel(0);
    let producer = spawn(async move {
        for i in 1..=3 {
            sleep(Duration::from_secs(1)).await;
            tx.send(i).unwrap();
        }
    });
    let mut seen = Vec::new();
    while let Some(v) = next(&mut rx).await {
        seen.push(v);
    }
    producer.await.unwrap();
    assert_eq!(seen, [1, 2, 3]);
}
