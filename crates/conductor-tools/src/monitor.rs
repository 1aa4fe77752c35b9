//! `conductor-monitor PID --listen 127.0.0.1:PORT`: the live page of a running conductor
//! program (aiomonitor's and tokio-console's role), served by conductor-http, fed by the
//! program's debug endpoint.
//!
//! Out of process, by choice: the program needs nothing but `CONDUCTOR_DEBUG_ENDPOINT=1` (no
//! dependency on conductor-http, no code change); the page's HTTP connections, its JSON and its
//! stream run on the monitor's loop, not on the loop being watched, so they neither show among
//! its tasks nor load it; and a watched loop that is blocked still gets a page saying so (the
//! endpoint's own timeout), where a monitor inside the loop would hang with it.
//!
//! Routes: `/` the page; `/api/snapshot?offset=&limit=&name=` one snapshot (the endpoint's
//! `snapshot` JSON, `conductor::debug::LoopSnapshot::to_json`); `/events?...&interval_ms=` the
//! same as a stream of Server-Sent Events (`snapshot`, or `stalled` with the endpoint's error);
//! `POST /api/cancel/{id}` (with the [`CANCEL_HEADER`] header) the endpoint's `cancel ID`. Each endpoint request runs on the
//! monitor's thread pool (`to_thread`): the socket is blocking, the monitor's loop never is.

use std::time::Duration;

use conductor_http::http::{HeaderValue, StatusCode, header::CONTENT_TYPE};
use conductor_http::sse::{Event, sse_response};
use conductor_http::{HttpRequest, HttpResponse, Router, html_response, match_info, text_response};

/// The page: HTML, CSS and script in one file, no external resource.
pub const PAGE: &str = include_str!("monitor/page.html");

/// The fastest stream a page may ask for.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// One request to the endpoint of `pid`, off the loop.
async fn ask(pid: u32, line: String) -> Result<String, String> {
    let answer = conductor::to_thread(move || crate::request(pid, &line))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if answer.starts_with("error:") || answer.is_empty() {
        return Err(if answer.is_empty() {
            "error: the program's loop is not running".to_owned()
        } else {
            answer.trim_end().to_owned()
        });
    }
    Ok(answer)
}

/// A query parameter's value (`name=value`, percent-decoded for `+` and `%XX`).
fn param(req: &HttpRequest, name: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The endpoint's `snapshot` request for the page the query asks (names stop at a line end).
fn snapshot_line(req: &HttpRequest) -> String {
    let number = |name, default: usize| {
        param(req, name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let name: String = param(req, "name")
        .unwrap_or_default()
        .chars()
        .filter(|c| *c != '\n' && *c != '\r')
        .collect();
    format!(
        "snapshot {} {} {name}",
        number("offset", 0),
        number("limit", 50)
    )
}

fn json(status: StatusCode, body: String) -> HttpResponse {
    let mut resp = text_response(status, body);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

async fn one_snapshot(pid: u32, req: HttpRequest) -> HttpResponse {
    match ask(pid, snapshot_line(&req)).await {
        Ok(j) => json(StatusCode::OK, j),
        Err(e) => text_response(StatusCode::BAD_GATEWAY, e),
    }
}

fn stream(pid: u32, req: &HttpRequest) -> HttpResponse {
    let line = snapshot_line(req);
    let interval = param(req, "interval_ms")
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_millis(500), Duration::from_millis)
        .max(MIN_INTERVAL);
    let events = futures_util::stream::unfold(true, move |first| {
        let line = line.clone();
        async move {
            if !first {
                conductor::sleep(interval).await;
            }
            let event = match ask(pid, line).await {
                Ok(j) => Event::data(j.trim_end()).event("snapshot"),
                Err(e) => Event::data(e).event("stalled"),
            };
            Some((event, false))
        }
    });
    sse_response(events)
}

/// The header the page's cancel requests carry: a request with a custom header is one another
/// site's page cannot send to the monitor without the browser asking first (a CORS preflight,
/// which the monitor does not answer), so a page elsewhere cannot cancel tasks.
pub const CANCEL_HEADER: &str = "x-conductor-monitor";

async fn cancel(pid: u32, req: HttpRequest) -> HttpResponse {
    if !req.headers().contains_key(CANCEL_HEADER) {
        return text_response(
            StatusCode::FORBIDDEN,
            format!("cancel: send the {CANCEL_HEADER} header (the page does)"),
        );
    }
    let id = match_info(&req)
        .get("id")
        .and_then(|v| v.parse::<u64>().ok());
    let Some(id) = id else {
        return text_response(StatusCode::BAD_REQUEST, "cancel: the id is a number");
    };
    match ask(pid, format!("cancel {id}")).await {
        Ok(a) => text_response(StatusCode::OK, a.trim_end().to_owned()),
        Err(e) => text_response(StatusCode::NOT_FOUND, e),
    }
}

/// The monitor's routes for process `pid`.
///
/// ```
/// let app = conductor_tools::monitor::app(std::process::id());
/// # let _ = app;
/// assert!(conductor_tools::monitor::PAGE.contains("<title>conductor-monitor"));
/// ```
pub fn app(pid: u32) -> Router {
    Router::new()
        .get("/", |_req| async { html_response(PAGE) })
        .get("/api/snapshot", move |req| one_snapshot(pid, req))
        .get("/events", move |req| {
            let resp = stream(pid, &req);
            async move { resp }
        })
        .post("/api/cancel/{id}", move |req| cancel(pid, req))
}

/// `conductor-monitor`'s `main`: `conductor-monitor PID [--listen ADDR]` (default
/// `127.0.0.1:8765`); prints the page's address, serves until killed.
pub fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(pid) = args.first().and_then(|a| a.parse::<u32>().ok()) else {
        eprintln!("usage: conductor-monitor PID [--listen 127.0.0.1:PORT]");
        return std::process::ExitCode::from(2);
    };
    let listen = args
        .iter()
        .position(|a| a == "--listen")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8765".to_owned());
    if let Err(e) = crate::request(pid, "stats") {
        eprintln!("conductor-monitor: {e}");
        return std::process::ExitCode::FAILURE;
    }
    conductor::run(async move {
        let listener = match conductor::net::TcpListener::bind(listen.as_str()).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("conductor-monitor: cannot listen on {listen}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let running = conductor_http::Server::new().start(listener, app(pid));
        match running.local_addr() {
            Some(addr) => println!("conductor-monitor: http://{addr}/ watches process {pid}"),
            None => println!("conductor-monitor: watching process {pid}"),
        }
        std::future::pending::<()>().await;
        std::process::ExitCode::SUCCESS
    })
}
