//! An axum `Router` (default features off, `json` on) served unchanged, with state, JSON in and
//! out, axum's 413 for a body past the server's limit, and the rule for `!Send` work: hand it to
//! a task of the loop and await a `Send` answer.

mod support;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use support::{exec, listener, run};

#[derive(Clone)]
struct AppState {
    greeting: Arc<str>,
}

fn axum_app() -> axum::Router {
    axum::Router::new()
        .route("/", get(|State(s): State<AppState>| async move { s.greeting.to_string() }))
        .route(
            "/json",
            post(|Json(v): Json<serde_json::Value>| async move { Json(serde_json::json!({"echo": v})) }),
        )
        .route("/bytes", post(|body: bytes::Bytes| async move { format!("{} bytes", body.len()) }))
        .route(
            "/local",
            get(|| async {
                // !Send work (an Rc, a conductor socket) runs as a task of the loop; the
                // handler awaits a Send channel.
                let (tx, rx) = conductor::sync::oneshot::channel();
                conductor::spawn(async move {
                    let counter = std::rc::Rc::new(std::cell::Cell::new(40));
                    let socket = conductor::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                    let port = socket.local_addr().unwrap().port();
                    counter.set(counter.get() + 2);
                    let _ = tx.send(format!("{} from a !Send task (udp port {})", counter.get(), port > 0));
                })
                .detach();
                rx.await.unwrap_or_default()
            }),
        )
        .with_state(AppState {
            greeting: "hello from axum".into(),
        })
}

#[test]
fn an_axum_router_runs_unchanged_with_curl() {
    run(30, async {
        let running = conductor_http::Server::new()
            .max_body_size(1024)
            .start(listener().await, axum_app());
        let base = format!("http://{}", running.local_addr().unwrap());
        let (out, err, ok) = exec("curl", &["-s", &format!("{base}/")], 20).await;
        assert!(ok, "{err}");
        assert_eq!(out, "hello from axum");
        let (out, _, _) = exec(
            "curl",
            &[
                "-s",
                "-H",
                "content-type: application/json",
                "-d",
                r#"{"x":1}"#,
                &format!("{base}/json"),
            ],
            20,
        )
        .await;
        assert_eq!(out, r#"{"echo":{"x":1}}"#);
        let (out, _, _) = exec("curl", &["-s", &format!("{base}/local")], 20).await;
        assert_eq!(out, "42 from a !Send task (udp port true)");
        let (out, _, _) = exec("curl", &["-s", "-d", "abc", &format!("{base}/bytes")], 20).await;
        assert_eq!(out, "3 bytes");
    });
}

#[test]
fn axum_answers_413_for_a_chunked_body_past_the_servers_limit() {
    run(30, async {
        let running = conductor_http::Server::new()
            .max_body_size(1024)
            .start(listener().await, axum_app());
        let url = format!("http://{}/bytes", running.local_addr().unwrap());
        let big = "z".repeat(4096);
        let (out, err, ok) = exec(
            "curl",
            &[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                "transfer-encoding: chunked",
                "--data-binary",
                &big,
                &url,
            ],
            20,
        )
        .await;
        assert!(ok, "{err}");
        assert_eq!(out, "413");
    });
}
