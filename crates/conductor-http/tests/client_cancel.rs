//! Cancellation: a cancelled or timed-out request, an unread body, a request cancelled while
//! it waits for the pool: each releases its place (its connection closed when its state is
//! unknown) and the next request works.

#[path = "support/client.rs"]
mod client_support;
mod support;

use std::time::Duration;

use client_support::{eventually, get_text, server, spawn_get_text};
use conductor_http::client::{ClientSession, ClientTimeout, ErrorKind, TimeoutKind};
use support::run;

fn one_connection() -> ClientSession {
    ClientSession::builder().limit_per_host(1).build().unwrap()
}

#[test]
fn a_cancelled_request_closes_its_connection_and_the_next_request_works() {
    run(30, async {
        let (base, running, accepted) = server().await;
        let session = one_connection();
        let task = conductor::spawn({
            let (session, base) = (session.clone(), base.clone());
            async move { session.get(format!("{base}/sleep/10000")).await.map(|_| ()) }
        });
        assert!(eventually(|| running.connections() == 1).await);
        task.task_ref().cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(session.pool_stats().open, 0, "its place is free at once");
        assert!(
            eventually(|| running.connections() == 0).await,
            "and the socket closed"
        );
        let text = get_text(&session, format!("{base}/")).await;
        assert_eq!(text, "hello");
        assert_eq!(accepted.get(), 2);
    });
}

#[test]
fn a_timed_out_request_releases_its_connection() {
    run(30, async {
        let (base, _running, accepted) = server().await;
        let session = one_connection();
        let err = session
            .get(format!("{base}/sleep/10000"))
            .timeout(ClientTimeout::total(Duration::from_millis(50)))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(TimeoutKind::Total(Duration::from_millis(50)))
        );
        assert_eq!(session.pool_stats().open, 0);
        // An outer timeout (asyncio.wait_for around the request) does the same.
        let outer = conductor::timeout(
            Duration::from_millis(50),
            session.get(format!("{base}/sleep/10000")).send(),
        )
        .await;
        assert!(outer.is_err());
        assert_eq!(session.pool_stats().open, 0);
        let text = get_text(&session, format!("{base}/")).await;
        assert_eq!(text, "hello");
        assert_eq!(accepted.get(), 3);
    });
}

#[test]
fn a_response_dropped_unread_closes_its_connection_and_a_read_one_is_reused() {
    run(30, async {
        let (base, _running, accepted) = server().await;
        let session = one_connection();
        let resp = session.get(format!("{base}/stream/3")).await.unwrap();
        assert_eq!(resp.status(), 200);
        drop(resp); // the body is still coming: the connection cannot be reused
        assert_eq!(session.pool_stats().open, 0);
        for _ in 0..3 {
            session
                .get(format!("{base}/stream/2"))
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        }
        assert_eq!(accepted.get(), 2, "one closed, one reused three times");
        assert_eq!(session.pool_stats().idle, 1);
    });
}

#[test]
fn a_request_cancelled_while_waiting_for_the_pool_leaves_no_trace() {
    run(30, async {
        let (base, _running, accepted) = server().await;
        let session = one_connection();
        let first = spawn_get_text(&session, format!("{base}/sleep/100"));
        let waiting = conductor::spawn({
            let (session, base) = (session.clone(), base.clone());
            async move { session.get(format!("{base}/")).await.map(|_| ()) }
        });
        assert!(eventually(|| session.pool_stats().waiting == 1).await);
        waiting.task_ref().cancel();
        assert!(waiting.await.unwrap_err().is_cancelled());
        assert_eq!(first.await.unwrap(), "slept 100");
        // The waiter's cancelled place was skipped: the connection went back to the pool.
        let stats = session.pool_stats();
        assert_eq!((stats.open, stats.idle), (1, 1));
        let text = get_text(&session, format!("{base}/")).await;
        assert_eq!(text, "hello");
        assert_eq!(accepted.get(), 1);
        assert_eq!(session.pool_stats().waiting, 0);
    });
}

#[test]
fn the_connect_timeout_covers_waiting_for_the_pool() {
    run(30, async {
        let (base, _running, _) = server().await;
        let session = one_connection();
        let busy = spawn_get_text(&session, format!("{base}/sleep/300"));
        assert!(eventually(|| session.pool_stats().open == 1).await);
        let t = ClientTimeout {
            connect: Some(Duration::from_millis(50)),
            ..ClientTimeout::NONE
        };
        let err = session
            .get(format!("{base}/"))
            .timeout(t)
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(TimeoutKind::Connect(Duration::from_millis(50)))
        );
        assert!(err.to_string().contains("the pool's limits"), "{err}");
        assert_eq!(busy.await.unwrap(), "slept 300");
    });
}
