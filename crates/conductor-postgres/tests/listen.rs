//! LISTEN/NOTIFY as a Stream.
mod common;

use std::time::Duration;

use futures_util::StreamExt;

#[test]
fn notifications_arrive_in_order_on_their_channel_only() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let listener_conn = common::connect(&dsn).await;
        let sender = common::connect(&dsn).await;
        let mut jobs = listener_conn.listen("jobs").await.unwrap();
        let mut other = listener_conn.listen("Other Channel").await.unwrap();
        for i in 0..3 {
            sender.notify("jobs", &format!("job {i}")).await.unwrap();
        }
        sender.notify("Other Channel", "x").await.unwrap();
        for i in 0..3 {
            let n = conductor::timeout(Duration::from_secs(5), jobs.next())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(n.channel(), "jobs");
            assert_eq!(n.payload(), format!("job {i}"));
        }
        let n = conductor::timeout(Duration::from_secs(5), other.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.payload(), "x");
        listener_conn.close().await;
        sender.close().await;
    });
}

#[test]
fn a_notification_inside_a_transaction_arrives_at_commit() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let l = common::connect(&dsn).await;
        let s = common::connect(&dsn).await;
        let mut events = l.listen("tx_events").await.unwrap();
        let tx = s.transaction().await.unwrap();
        tx.notify("tx_events", "later").await.unwrap();
        assert!(
            conductor::timeout(Duration::from_millis(200), events.next())
                .await
                .is_err()
        );
        tx.commit().await.unwrap();
        let n = conductor::timeout(Duration::from_secs(5), events.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.payload(), "later");
        l.close().await;
        s.close().await;
    });
}

#[test]
fn dropping_the_listener_unlistens() {
    common::with_conn(|conn| async move {
        let events = conn.listen("gone").await.unwrap();
        let listening = || async {
            conn.fetchval::<i64>(
                "SELECT count(*) FROM pg_listening_channels() c WHERE c = 'gone'",
                &[],
            )
            .await
            .unwrap()
        };
        assert_eq!(listening().await, 1);
        drop(events);
        assert_eq!(listening().await, 0);
    });
}

#[test]
fn the_stream_ends_when_the_connection_closes() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let conn = common::connect(&dsn).await;
        let mut events = conn.listen("closing").await.unwrap();
        conn.close().await;
        let end = conductor::timeout(Duration::from_secs(5), events.next())
            .await
            .unwrap();
        assert!(end.is_none());
    });
}
