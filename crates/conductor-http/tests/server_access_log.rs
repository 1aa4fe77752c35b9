//! Access logging (aiohttp's `aiohttp.access` logger): one `tracing` event per request at INFO,
//! target `conductor_http::access`, with the peer, method, path, status and duration; nothing
//! when no subscriber listens at that level.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::{app, get, listener, run};

/// What the subscriber wrote, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn serve_two_requests() {
    run(30, async {
        let running = conductor_http::Server::new().start(listener().await, app());
        let addr = running.local_addr().unwrap();
        assert!(get(addr, "/").await.starts_with("HTTP/1.1 200"));
        assert!(get(addr, "/missing?x=1").await.starts_with("HTTP/1.1 404"));
    });
}

/// What a `fmt` subscriber at `level` wrote while two requests were served.
fn served_under(level: tracing::Level) -> String {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(level)
        .finish();
    tracing::subscriber::with_default(subscriber, serve_two_requests);
    out.text()
}

#[test]
fn each_request_is_one_info_event_with_peer_method_path_status_and_duration() {
    let text = served_under(tracing::Level::INFO);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("conductor_http::access"))
        .collect();
    assert_eq!(lines.len(), 2, "one event per request: {text}");
    assert!(lines[0].contains(" INFO "), "{}", lines[0]);
    assert!(lines[0].contains("127.0.0.1:"), "the peer: {}", lines[0]);
    assert!(lines[0].contains("GET / 200"), "{}", lines[0]);
    assert!(lines[1].contains("GET /missing?x=1 404"), "{}", lines[1]);
    for l in &lines {
        assert!(l.contains("elapsed_us="), "the duration: {l}");
        assert!(l.contains("version=HTTP/1.1"), "{l}");
    }
}

#[test]
fn without_a_subscriber_at_info_nothing_is_logged() {
    let text = served_under(tracing::Level::WARN);
    assert!(!text.contains("conductor_http::access"), "{text}");
}
