//! `broadcast`: every receiver sees every value; lagging receivers are told how many they missed.

mod support;

use std::time::Duration;

use conductor::sync::broadcast::{self, Lagged, RecvError, TryRecvError};
use conductor::{sleep, spawn, timeout, yield_now};
use support::next;

#[conductor::test(paused)]
async fn every_receiver_gets_every_value() {
    let (tx, rx) = broadcast::channel(8);
    let receivers: Vec<_> = [rx, tx.subscribe(), tx.subscribe()]
        .into_iter()
        .map(|mut rx| {
            spawn(async move {
                let mut got = Vec::new();
                while let Ok(v) = rx.recv().await {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    yield_now().await;
    for i in 0..3 {
        assert_eq!(tx.send(i), Ok(3));
        sleep(Duration::from_secs(1)).await;
    }
    drop(tx);
    for r in receivers {
        assert_eq!(r.await.unwrap(), [0, 1, 2]);
    }
}

#[conductor::test(paused)]
async fn a_new_subscriber_sees_only_later_values() {
    let (tx, mut rx) = broadcast::channel(8);
    tx.send(1).unwrap();
    let mut late = tx.subscribe();
    tx.send(2).unwrap();
    assert_eq!(rx.recv().await, Ok(1));
    assert_eq!(rx.recv().await, Ok(2));
    assert_eq!(late.recv().await, Ok(2));
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
}

#[conductor::test(paused)]
async fn a_lagging_receiver_learns_how_much_it_missed() {
    let (tx, mut rx) = broadcast::channel(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
    assert_eq!(rx.recv().await, Ok(3));
    assert_eq!(rx.recv().await, Ok(4));
    drop(tx);
    assert_eq!(rx.recv().await, Err(RecvError::Closed));
}

#[conductor::test(paused)]
async fn receivers_drain_after_the_senders_are_gone() {
    let (tx, mut rx) = broadcast::channel(4);
    tx.send('a').unwrap();
    drop(tx);
    assert_eq!(rx.recv().await, Ok('a'));
    assert_eq!(rx.recv().await, Err(RecvError::Closed));
}

#[conductor::test(paused)]
async fn sending_without_receivers_fails() {
    let (tx, rx) = broadcast::channel(4);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    assert_eq!(tx.send(1).unwrap_err().0, 1);
}

#[conductor::test(paused)]
async fn the_receiver_is_a_stream_with_lag_reports() {
    let (tx, mut rx) = broadcast::channel(1);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    drop(tx);
    assert_eq!(next(&mut rx).await, Some(Err(Lagged(1))));
    assert_eq!(next(&mut rx).await, Some(Ok(2)));
    assert_eq!(next(&mut rx).await, None);
}

#[conductor::test(paused)]
async fn a_cancelled_recv_skips_nothing() {
    let (tx, mut rx) = broadcast::channel(4);
    assert!(timeout(Duration::from_secs(1), rx.recv()).await.is_err());
    tx.send(7).unwrap();
    assert_eq!(rx.recv().await, Ok(7));
}
