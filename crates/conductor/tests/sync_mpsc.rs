//! `mpsc`: bounded and unbounded channels, closed by ownership, receivers as streams.

mod support;

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::mpsc::{self, TryRecvError, TrySendError};
use conductor::{sleep, spawn, timeout, yield_now};
use support::next;

#[conductor::test(paused)]
async fn values_arrive_in_order_and_the_channel_closes_with_the_last_sender() {
    let (tx, mut rx) = mpsc::channel(4);
    let tx2 = tx.clone();
    spawn(async move {
        for i in 0..3 {
            tx.send(i).await.unwrap();
        }
    })
    .detach();
    spawn(async move {
        sleep(Duration::from_secs(1)).await;
        tx2.send(10).await.unwrap();
    })
    .detach();
    let mut got = Vec::new();
    while let Some(v) = rx.recv().await {
        got.push(v);
    }
    assert_eq!(got, [0, 1, 2, 10]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[conductor::test(paused)]
async fn send_waits_for_room_in_the_buffer() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(1).await.unwrap();
    assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
    assert_eq!(tx.capacity(), 0);
    let t0 = conductor::now();
    let sender = spawn(async move {
        tx.send(2).await.unwrap();
        conductor::now()
    });
    sleep(Duration::from_secs(2)).await;
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(sender.await.unwrap() - t0, Duration::from_secs(2));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);
}

#[conductor::test(paused)]
async fn dropping_the_receiver_fails_sends_and_drops_buffered_values() {
    let (tx, rx) = mpsc::channel(2);
    let value = Arc::new(());
    tx.send(value.clone()).await.unwrap();
    assert_eq!(Arc::strong_count(&value), 2);
    let tx2 = tx.clone();
    let closed = spawn(async move { tx2.closed().await });
    yield_now().await;
    drop(rx);
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "the buffered value was dropped"
    );
    assert!(tx.is_closed());
    assert!(tx.send(value.clone()).await.is_err());
    assert!(matches!(tx.try_send(value), Err(TrySendError::Closed(_))));
    closed.await.unwrap();
}

#[conductor::test(paused)]
async fn a_sender_waiting_for_room_is_woken_by_the_receivers_drop() {
    let (tx, rx) = mpsc::channel(1);
    tx.send(1).await.unwrap();
    let blocked = spawn(async move { tx.send(2).await.map_err(|e| e.0) });
    yield_now().await;
    drop(rx);
    assert_eq!(blocked.await.unwrap(), Err(2));
}

#[conductor::test(paused)]
async fn close_lets_the_receiver_drain() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    rx.close();
    assert!(tx.send(3).is_err());
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);
}

#[conductor::test(paused)]
async fn the_receiver_is_a_stream() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut got = Vec::new();
    while let Some(v) = next(&mut rx).await {
        got.push(v);
    }
    assert_eq!(got, [0, 1, 2]);
}

#[conductor::test(paused)]
async fn a_cancelled_recv_loses_no_value() {
    let (tx, mut rx) = mpsc::channel(1);
    assert!(timeout(Duration::from_secs(1), rx.recv()).await.is_err());
    tx.send("kept").await.unwrap();
    assert_eq!(rx.recv().await, Some("kept"));
}

#[conductor::test(paused)]
async fn a_cancelled_send_sends_nothing() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(1).await.unwrap();
    assert!(timeout(Duration::from_secs(1), tx.send(2)).await.is_err());
    drop(tx);
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, None);
}

#[test]
#[should_panic(expected = "at least one value")]
fn a_zero_buffer_is_refused() {
    let _ = mpsc::channel::<u8>(0);
}

#[test]
fn four_producer_loops_and_one_consumer() {
    let (tx, mut rx) = mpsc::channel::<u64>(64);
    let producers: Vec<_> = (0..4u64)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                conductor::run(async move {
                    for i in 0..2500 {
                        tx.send(p * 2500 + i).await.unwrap();
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let (count, sum) = conductor::run(async move {
        let (mut count, mut sum) = (0, 0);
        while let Some(v) = rx.recv().await {
            count += 1;
            sum += v;
        }
        (count, sum)
    });
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!((count, sum), (10_000, (0..10_000).sum::<u64>()));
}
