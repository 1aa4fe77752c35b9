//! Helpers of the server tests: a raw HTTP/1.1 client on conductor's sockets (for the paused
//! clock), real clients (curl, Python) as subprocesses, bounded in time.
#![allow(dead_code)]

pub mod chromium;

use std::net::SocketAddr;
use std::time::Duration;

use conductor::net::TcpStream;
use conductor::process::Command;
use conductor_http::{Body, Router, json_response, match_info, text_response};
use http::StatusCode;

/// A loop with the real clock, failing the test after `secs`.
pub fn run<F: std::future::Future<Output = ()> + 'static>(secs: u64, f: F) {
    conductor::run(async move {
        conductor::timeout(Duration::from_secs(secs), f)
            .await
            .unwrap_or_else(|_| panic!("the test took longer than {secs} s"));
    });
}

/// A loop with the paused clock.
pub fn paused<F: std::future::Future<Output = ()> + 'static>(f: F) {
    conductor::Runtime::builder()
        .paused_clock()
        .build()
        .unwrap()
        .block_on(f);
}

/// A listener on a free loopback port.
pub async fn listener() -> conductor::net::TcpListener {
    conductor::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
}

/// The app most tests serve: `/` (text), `/json` (JSON), `/echo` (POST: the body back),
/// `/users/{id}`, `/sleep/{ms}` (answers after that long).
pub fn app() -> Router {
    Router::new()
        .get("/", |_req| async { text_response(StatusCode::OK, "hello") })
        .get("/json", |_req| async {
            json_response(&serde_json::json!({"name": "conductor", "ok": true}))
        })
        .post("/echo", |req| async move {
            match req.into_body().bytes().await {
                Ok(b) => conductor_http::ResponseBody::full(b).into_response(),
                Err(e) => e.into_response(),
            }
        })
        .post("/json", |req| async move {
            match req.into_body().json::<serde_json::Value>().await {
                Ok(v) => json_response(&serde_json::json!({"got": v})),
                Err(e) => e.into_response(),
            }
        })
        .get("/users/{id}", |req| async move {
            let id = match_info(&req).get("id").unwrap_or_default().to_owned();
            json_response(&serde_json::json!({"id": id}))
        })
        .get("/sleep/{ms}", |req| async move {
            let ms: u64 = match_info(&req)
                .get("ms")
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            conductor::sleep(Duration::from_millis(ms)).await;
            text_response(StatusCode::OK, format!("slept {ms}"))
        })
}

/// Turns a body into a 200 response.
pub trait IntoResponse {
    fn into_response(self) -> conductor_http::HttpResponse;
}

impl IntoResponse for conductor_http::ResponseBody {
    fn into_response(self) -> conductor_http::HttpResponse {
        http::Response::new(self)
    }
}

/// Reads one HTTP/1.1 response (head and a `content-length` body) from `stream`; what was read
/// as text, or an empty string when the connection closed first.
pub async fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return String::from_utf8_lossy(&buf[..end + 4 + len]).into_owned();
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&buf).into_owned(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether the peer has closed `stream` (reads the end of the stream, or a reset).
pub async fn closed(stream: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(stream.read(&mut b).await, Ok(0) | Err(_))
}

/// A GET over a new connection; the response text.
pub async fn get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    read_response(&mut s).await
}

/// Runs a program to completion within `secs`; stdout, stderr, success.
pub async fn exec(program: &str, args: &[&str], secs: u64) -> (String, String, bool) {
    let out = conductor::timeout(
        Duration::from_secs(secs),
        Command::new(program).args(args).kill_on_drop(true).output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{program} took longer than {secs} s"))
    .unwrap_or_else(|e| panic!("{program} did not run: {e}"));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// Whether `program` runs here (`--version` succeeds).
pub fn have(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The request body type, for services written in tests.
pub type Req = http::Request<Body>;

/// A new connection to `running`.
pub async fn connect(running: &conductor_http::Running) -> TcpStream {
    TcpStream::connect(running.local_addr().unwrap())
        .await
        .unwrap()
}

/// A WebSocket endpoint that answers text with `echo: <text>` and binary with the same bytes.
pub async fn ws_echo(mut req: conductor_http::HttpRequest) -> conductor_http::HttpResponse {
    use conductor_http::ws::{self, Message};
    use futures_util::StreamExt;
    let (response, upgrade) = match ws::upgrade(&mut req) {
        Ok(pair) => pair,
        Err(refusal) => return refusal,
    };
    conductor::spawn(async move {
        let Ok(mut socket) = upgrade.await else {
            return;
        };
        while let Some(Ok(msg)) = socket.next().await {
            match msg {
                Message::Text(t) => {
                    let _ = socket.send(Message::text(format!("echo: {t}"))).await;
                }
                Message::Binary(b) => {
                    let _ = socket.send(Message::Binary(b)).await;
                }
                // Reading on after a Close lets tungstenite send its reply (close code 1000);
                // the stream then ends.
                _ => {}
            }
        }
    })
    .detach();
    response
}
