//! HTTP/1.1 with real clients: curl (keep-alive, POST), and the raw protocol.

mod support;

use support::{app, exec, get, listener, run};

#[test]
fn curl_gets_text_and_json_over_one_keep_alive_connection() {
    run(30, async {
        let running = conductor_http::Server::new().start(listener().await, app());
        let base = format!("http://{}", running.local_addr().unwrap());
        let (out, err, ok) = exec(
            "curl",
            &[
                "-sv",
                &format!("{base}/"),
                "-o",
                "-",
                &format!("{base}/json"),
            ],
            20,
        )
        .await;
        assert!(ok, "{err}");
        assert_eq!(out, r#"hello{"name":"conductor","ok":true}"#);
        assert!(
            err.contains("Re-using existing connection"),
            "one connection for both: {err}"
        );
        assert!(err.contains("< content-type: application/json"), "{err}");
        running.shutdown(std::time::Duration::from_secs(1)).await;
    });
}

#[test]
fn curl_posts_a_body_and_gets_it_back() {
    run(30, async {
        let running = conductor_http::Server::new().start(listener().await, app());
        let url = format!("http://{}/echo", running.local_addr().unwrap());
        let (out, err, ok) = exec("curl", &["-s", "--data-binary", "ping pong", &url], 20).await;
        assert!(ok, "{err}");
        assert_eq!(out, "ping pong");
        let json_url = format!("http://{}/json", running.local_addr().unwrap());
        let (out, _, _) = exec(
            "curl",
            &[
                "-s",
                "-H",
                "content-type: application/json",
                "-d",
                r#"{"a":[1,2]}"#,
                &json_url,
            ],
            20,
        )
        .await;
        assert_eq!(out, r#"{"got":{"a":[1,2]}}"#);
    });
}

#[test]
fn unknown_paths_are_404_and_other_methods_405_with_allow() {
    run(30, async {
        let running = conductor_http::Server::new().start(listener().await, app());
        let addr = running.local_addr().unwrap();
        let resp = get(addr, "/nowhere").await;
        assert!(resp.starts_with("HTTP/1.1 404 Not Found\r\n"), "{resp}");
        let resp = get(addr, "/echo").await;
        assert!(
            resp.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{resp}"
        );
        assert!(resp.contains("allow: POST"), "{resp}");
        let resp = get(addr, "/users/42").await;
        assert!(resp.ends_with(r#"{"id":"42"}"#), "{resp}");
    });
}
