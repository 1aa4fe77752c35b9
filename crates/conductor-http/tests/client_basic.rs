//! The client against conductor's own server: GET text and JSON, POST JSON, base URL, default
//! headers, query strings, raise_for_status, streamed bodies, and errors that say what failed.

#[path = "support/client.rs"]
mod client_support;
mod support;

use std::time::Duration;

use client_support::{get_text, server};
use conductor_http::client::{ClientSession, ClientTimeout, ErrorKind, TimeoutKind};
use http::StatusCode;
use support::run;

#[test]
fn get_text_and_json_and_post_json() {
    run(30, async {
        let (base, _running, _) = server().await;
        let session = ClientSession::new();

        let resp = session.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.version(), http::Version::HTTP_11);
        assert_eq!(resp.text().await.unwrap(), "hello");

        let resp = session.get(format!("{base}/json")).await.unwrap();
        assert_eq!(resp.content_type(), Some("application/json"));
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v, serde_json::json!({"name": "conductor", "ok": true}));

        let payload = serde_json::json!({"key": "value", "name": "asyncio"});
        let resp = session
            .post(format!("{base}/json"))
            .json(&payload)
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v, serde_json::json!({"got": payload}));
    });
}

#[test]
fn base_url_default_headers_query_and_request_headers() {
    run(30, async {
        let (base, _running, _) = server().await;
        let session = ClientSession::builder()
            .base_url(format!("{base}/api/"))
            .header("x-default", "from-session")
            .header("x-replaced", "from-session")
            .build()
            .unwrap();
        let resp = session
            .get("/inspect")
            .query([("q", "a b&c"), ("n", "1")])
            .header("x-replaced", "from-request")
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["path"], "/inspect");
        assert_eq!(v["query"], "q=a+b%26c&n=1");
        let h = &v["headers"];
        assert_eq!(h["x-default"], "from-session");
        assert_eq!(h["x-replaced"], "from-request");
        assert!(
            h["user-agent"]
                .as_str()
                .unwrap()
                .starts_with("conductor-http/")
        );
        assert_eq!(h["host"], base.trim_start_matches("http://"));

        // A path relative to the base URL's directory.
        let err = session.get("missing").send().await.unwrap();
        assert_eq!(err.status(), StatusCode::NOT_FOUND);
        assert!(
            err.url().as_str().ends_with("/api/missing"),
            "{}",
            err.url()
        );
    });
}

#[test]
fn raise_for_status_names_the_status_and_the_url() {
    run(30, async {
        let (base, _running, _) = server().await;
        let session = ClientSession::new();
        let ok = session.get(format!("{base}/status/201")).await.unwrap();
        assert_eq!(ok.raise_for_status().unwrap().status(), 201);

        let url = format!("{base}/status/503");
        let err = session
            .get(&url)
            .await
            .unwrap()
            .raise_for_status()
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Status(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(
            err.to_string(),
            format!("GET {url}: the server answered 503 Service Unavailable (raise_for_status)")
        );

        // The session's setting, and a request's own.
        let strict = ClientSession::builder()
            .raise_for_status(true)
            .build()
            .unwrap();
        let err = strict.get(format!("{base}/status/404")).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        let resp = strict
            .get(format!("{base}/status/404"))
            .raise_for_status(false)
            .await
            .unwrap();
        assert_eq!(resp.status(), 404);
    });
}

#[test]
fn a_streamed_body_comes_in_chunks() {
    run(30, async {
        let (base, _running, _) = server().await;
        let session = ClientSession::new();
        let mut resp = session.get(format!("{base}/stream/3")).await.unwrap();
        let mut chunks = Vec::new();
        while let Some(c) = resp.chunk().await.unwrap() {
            chunks.push(String::from_utf8(c.to_vec()).unwrap());
        }
        // Sent 10 ms apart, so each arrives alone.
        assert_eq!(chunks, ["chunk 0;", "chunk 1;", "chunk 2;"]);

        use futures_lite::StreamExt;
        let resp = session.get(format!("{base}/stream/4")).await.unwrap();
        let all: Vec<_> = resp.into_stream().collect().await;
        let text: String = all
            .into_iter()
            .map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap())
            .collect();
        assert_eq!(text, "chunk 0;chunk 1;chunk 2;chunk 3;");
    });
}

#[test]
fn head_and_no_content_responses_free_their_connection_at_once() {
    run(30, async {
        let (base, _running, accepted) = server().await;
        let session = ClientSession::new();
        let resp = session.get(format!("{base}/empty")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            session.pool_stats().idle,
            1,
            "back in the pool, body unread"
        );
        drop(resp);
        let resp = session.head(format!("{base}/json")).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(session.pool_stats().idle, 1);
        assert_eq!(resp.bytes().await.unwrap().len(), 0);
        assert_eq!(accepted.get(), 1);
    });
}

#[test]
fn connect_errors_name_the_url_and_say_connect() {
    run(30, async {
        // A port nobody listens on: bind one, then close it.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}/x");
        let err = ClientSession::new().get(&url).await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert_eq!(err.url(), url);
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("GET {url}: could not connect: ")),
            "{msg}"
        );
        assert!(msg.contains("refused"), "{msg}");

        let err = ClientSession::new()
            .get("http://no-such-host.invalid/")
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(err.to_string().contains("could not resolve"), "{err}");
    });
}

#[test]
fn invalid_urls_and_headers_fail_before_anything_is_sent() {
    run(30, async {
        let session = ClientSession::new();
        for (url, why) in [
            ("/relative", "needs the session's base_url"),
            ("ftp://example.com/", "is not http or https"),
            ("http://", "empty host"),
        ] {
            let err = session.get(url).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidUrl, "{url}");
            assert!(err.to_string().contains(why), "{url}: {err}");
        }
        let err = session
            .get("http://127.0.0.1:9/")
            .header("bad header", "x")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("invalid header name"), "{err}");
        assert_eq!(session.pool_stats().open, 0);
    });
}

#[test]
fn sock_read_and_total_timeouts_say_which() {
    run(30, async {
        let (base, _running, _) = server().await;
        let session = ClientSession::new();
        // No response head within sock_read.
        let t = ClientTimeout {
            sock_read: Some(Duration::from_millis(100)),
            ..ClientTimeout::NONE
        };
        let err = session
            .get(format!("{base}/sleep/5000"))
            .timeout(t)
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(TimeoutKind::SockRead(Duration::from_millis(100)))
        );
        assert!(
            err.to_string().contains("ClientTimeout::sock_read"),
            "{err}"
        );

        // A head, then a body that never comes: total covers the body.
        let resp = session
            .get(format!("{base}/stall"))
            .timeout(ClientTimeout::total(Duration::from_millis(200)))
            .await
            .unwrap();
        let err = resp.text().await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(TimeoutKind::Total(Duration::from_millis(200)))
        );
        // Both connections were closed, not pooled: their state was unknown.
        assert!(client_support::eventually(|| session.pool_stats().open == 0).await);
    });
}

#[test]
fn a_closed_session_refuses_requests() {
    run(30, async {
        let (base, _running, _) = server().await;
        let session = ClientSession::new();
        get_text(&session, format!("{base}/")).await;
        assert_eq!(session.pool_stats().idle, 1);
        session.close();
        let stats = session.pool_stats();
        assert_eq!((stats.open, stats.idle, stats.waiting), (0, 0, 0));
        let err = session.get(format!("{base}/")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert!(
            err.to_string().contains("the ClientSession is closed"),
            "{err}"
        );
    });
}

#[test]
fn gzip_and_deflate_bodies_are_decoded_as_they_come() {
    run(30, async {
        let (base, _running, accepted) = server().await;
        let session = ClientSession::new();
        let text = get_text(&session, format!("{base}/gzip")).await;
        assert_eq!(text, "gzip ".repeat(1000));
        let text = get_text(&session, format!("{base}/deflate")).await;
        assert_eq!(text, "deflate ".repeat(1000));
        assert_eq!(
            accepted.get(),
            1,
            "decoded to the end, the connection was reused"
        );

        let v: serde_json::Value = session
            .get(format!("{base}/inspect"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["headers"]["accept-encoding"], "gzip, deflate, br");

        let err = session
            .get(format!("{base}/broken-gzip"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Body);
        assert!(
            err.to_string().contains("the compressed body is broken"),
            "{err}"
        );
    });
}
