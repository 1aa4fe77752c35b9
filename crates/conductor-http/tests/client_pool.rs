//! The client's connection pool: keep-alive reuse, `limit_per_host` and `limit` counted on the
//! server, idle expiry, and a keep-alive connection the server closed while idle.

#[path = "support/client.rs"]
mod client_support;
mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use client_support::{eventually, get_text, server, server_with};
use conductor_http::client::ClientSession;
use support::{paused, run};

#[test]
fn sequential_requests_reuse_one_keep_alive_connection() {
    run(30, async {
        let (base, _running, accepted) = server().await;
        let session = ClientSession::new();
        for _ in 0..10 {
            let text = get_text(&session, format!("{base}/")).await;
            assert_eq!(text, "hello");
        }
        assert_eq!(accepted.get(), 1);
        let stats = session.pool_stats();
        assert_eq!((stats.open, stats.idle, stats.waiting), (1, 1, 0));
    });
}

#[test]
fn limit_per_host_caps_the_connections_the_server_sees() {
    run(30, async {
        let (base, running, accepted) = server().await;
        let session = ClientSession::builder().limit_per_host(2).build().unwrap();
        let most = Rc::new(Cell::new(0));
        let fetches = (0..10).map(|_| {
            let (session, base, most) = (session.clone(), base.clone(), most.clone());
            async move {
                let resp = session.get(format!("{base}/sleep/20")).await.unwrap();
                most.set(most.get().max(session.pool_stats().open));
                resp.text().await.unwrap()
            }
        });
        let got = conductor::gather(fetches).await.unwrap();
        assert!(got.iter().all(|t| t == "slept 20"));
        assert_eq!(accepted.get(), 2, "ten requests over two connections");
        assert_eq!(most.get(), 2);
        assert!(running.connections() <= 2);
    });
}

#[test]
fn limit_counts_every_host_and_evicts_idle_connections_of_others() {
    run(30, async {
        let (base_a, _a, accepted_a) = server().await;
        let (base_b, _b, accepted_b) = server().await;
        let session = ClientSession::builder().limit(1).build().unwrap();
        get_text(&session, format!("{base_a}/")).await;
        assert_eq!(session.pool_stats().idle, 1);
        // B needs the only place: A's idle connection is closed for it.
        get_text(&session, format!("{base_b}/")).await;
        assert_eq!(session.pool_stats().open, 1);
        // Two at once across hosts: one waits for the other.
        let fetch = |base: &String| {
            let (session, url) = (session.clone(), format!("{base}/sleep/20"));
            async move { get_text(&session, url).await }
        };
        let got = conductor::gather([fetch(&base_a), fetch(&base_b)])
            .await
            .unwrap();
        assert_eq!(got, ["slept 20", "slept 20"]);
        assert_eq!(session.pool_stats().open, 1);
        assert_eq!((accepted_a.get(), accepted_b.get()), (2, 2));
    });
}

#[test]
fn idle_connections_close_after_keepalive_timeout() {
    paused(async {
        let (base, running, accepted) = server().await;
        let session = ClientSession::builder()
            .keepalive_timeout(Duration::from_secs(15))
            .build()
            .unwrap();
        get_text(&session, format!("{base}/")).await;
        assert_eq!(session.pool_stats().idle, 1);
        conductor::sleep(Duration::from_secs(14)).await;
        assert_eq!(session.pool_stats().idle, 1, "not yet");
        conductor::sleep(Duration::from_secs(2)).await;
        let stats = session.pool_stats();
        assert_eq!((stats.open, stats.idle), (0, 0));
        // The server saw the connection close.
        assert!(eventually(|| running.connections() == 0).await);
        get_text(&session, format!("{base}/")).await;
        assert_eq!(accepted.get(), 2);
    });
}

#[test]
fn a_connection_the_server_closed_while_idle_is_replaced_transparently() {
    paused(async {
        let (base, running, accepted) =
            server_with(conductor_http::Server::new().keep_alive_timeout(Duration::from_secs(1)))
                .await;
        let session = ClientSession::new(); // keeps idle connections 15 s
        get_text(&session, format!("{base}/")).await;
        conductor::sleep(Duration::from_secs(3)).await;
        assert!(
            eventually(|| running.connections() == 0).await,
            "the server closed it"
        );
        let text = get_text(&session, format!("{base}/")).await;
        assert_eq!(text, "hello");
        assert_eq!(accepted.get(), 2);
        assert_eq!(session.pool_stats().open, 1);
    });
}
