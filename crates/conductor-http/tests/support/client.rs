//! Helpers of the client tests: a server app with the routes the client needs, a listener that
//! counts the connections it accepts, and Python's aiohttp server as a subprocess.
#![allow(dead_code)]

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use conductor::net::{TcpListener, TcpStream};
use conductor_http::client::ClientSession;
use conductor_http::{ResponseBody, Router, json_response, match_info, text_response};
use http::StatusCode;

/// A listener that counts the connections it accepts.
pub struct Counting {
    inner: TcpListener,
    pub accepted: Rc<Cell<usize>>,
}

impl Counting {
    pub async fn bind() -> (Counting, Rc<Cell<usize>>) {
        let accepted = Rc::new(Cell::new(0));
        let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
        (
            Counting {
                inner,
                accepted: accepted.clone(),
            },
            accepted,
        )
    }
}

impl conductor_http::Listener for Counting {
    type Stream = TcpStream;

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<(TcpStream, Option<SocketAddr>)>> {
        let r = <TcpListener as conductor_http::Listener>::poll_accept(&self.inner, cx);
        if let Poll::Ready(Ok(_)) = &r {
            self.accepted.set(self.accepted.get() + 1);
        }
        r
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.local_addr().ok()
    }
}

/// The app of the client tests: `/` (text), `/json`, `POST /json` (`{"got": body}`),
/// `/inspect` (the request's path, query and headers as JSON), `/status/{code}`,
/// `/sleep/{ms}`, `/stream/{n}` (n chunks, 10 ms apart), `/stall` (a head, then a body that
/// never comes), `/empty` (204), `/ws` (a WebSocket echo).
pub fn app() -> Router {
    Router::new()
        .get("/", |_req| async { text_response(StatusCode::OK, "hello") })
        .get("/ws", |mut req| async move {
            use futures_util::StreamExt;
            let (response, upgrade) = match conductor_http::ws::upgrade(&mut req) {
                Ok(pair) => pair,
                Err(refusal) => return refusal,
            };
            conductor::spawn(async move {
                let Ok(mut socket) = upgrade.await else {
                    return;
                };
                while let Some(Ok(msg)) = socket.next().await {
                    if msg.is_text() || msg.is_binary() {
                        let _ = socket.send(msg).await;
                    }
                }
            })
            .detach();
            response
        })
        .get("/json", |_req| async {
            json_response(&serde_json::json!({"name": "conductor", "ok": true}))
        })
        .post("/json", |req| async move {
            match req.into_body().json::<serde_json::Value>().await {
                Ok(v) => json_response(&serde_json::json!({"got": v})),
                Err(e) => e.into_response(),
            }
        })
        .get("/inspect", |req| async move {
            let headers: serde_json::Map<String, serde_json::Value> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into()))
                .collect();
            json_response(&serde_json::json!({
                "path": req.uri().path(),
                "query": req.uri().query(),
                "headers": headers,
            }))
        })
        .get("/status/{code}", |req| async move {
            let code: u16 = match_info(&req).get("code").unwrap().parse().unwrap();
            text_response(StatusCode::from_u16(code).unwrap(), "status")
        })
        .get("/sleep/{ms}", |req| async move {
            let ms: u64 = match_info(&req).get("ms").unwrap().parse().unwrap();
            conductor::sleep(Duration::from_millis(ms)).await;
            text_response(StatusCode::OK, format!("slept {ms}"))
        })
        .get("/stream/{n}", |req| async move {
            let n: usize = match_info(&req).get("n").unwrap().parse().unwrap();
            let chunks = futures_lite::stream::unfold(0, move |i| async move {
                if i == n {
                    return None;
                }
                conductor::sleep(Duration::from_millis(10)).await;
                Some((Ok::<_, std::io::Error>(format!("chunk {i};")), i + 1))
            });
            http::Response::new(ResponseBody::stream(chunks))
        })
        .get("/stall", |_req| async {
            let never = futures_lite::stream::once_future(async {
                std::future::pending::<()>().await;
                Ok::<_, std::io::Error>("never")
            });
            let mut resp = http::Response::new(ResponseBody::stream(never));
            resp.headers_mut()
                .insert("content-type", "text/plain".parse().unwrap());
            resp
        })
        .get("/redirect/{n}", |req| async move {
            let n: u32 = match_info(&req).get("n").unwrap().parse().unwrap();
            match n {
                0 => text_response(StatusCode::OK, "arrived"),
                n => redirect(StatusCode::FOUND, &format!("/redirect/{}", n - 1)),
            }
        })
        .post("/see-other", |_req| async {
            redirect(StatusCode::SEE_OTHER, "/inspect")
        })
        .post("/temporary", |_req| async {
            redirect(StatusCode::TEMPORARY_REDIRECT, "/json")
        })
        .post("/form", |req| async move {
            let ctype = req
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = req.into_body().text().await.unwrap();
            json_response(&serde_json::json!({"content-type": ctype, "body": body}))
        })
        .get("/gzip", |_req| async {
            compressed("gzip", b"gzip ".repeat(1000))
        })
        .get("/deflate", |_req| async {
            compressed("deflate", b"deflate ".repeat(1000))
        })
        .get("/broken-gzip", |_req| async {
            // The first half of a gzip stream: it ends before the decoder does.
            let full = gzip(&b"cut short ".repeat(1000));
            let mut resp = http::Response::new(ResponseBody::full(full[..full.len() / 2].to_vec()));
            resp.headers_mut()
                .insert("content-encoding", "gzip".parse().unwrap());
            resp
        })
        .get("/empty", |_req| async {
            let mut resp = http::Response::new(ResponseBody::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            resp
        })
}

/// `plain`, compressed with `encoding` (gzip or deflate).
fn compressed(encoding: &str, plain: Vec<u8>) -> conductor_http::HttpResponse {
    use std::io::Write;
    let body = match encoding {
        "gzip" => gzip(&plain),
        _ => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&plain).unwrap();
            e.finish().unwrap()
        }
    };
    let mut resp = http::Response::new(ResponseBody::full(body));
    resp.headers_mut()
        .insert("content-encoding", encoding.parse().unwrap());
    resp
}

fn gzip(plain: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(plain).unwrap();
    e.finish().unwrap()
}

fn redirect(status: StatusCode, to: &str) -> conductor_http::HttpResponse {
    let mut resp = text_response(status, "moved");
    resp.headers_mut().insert("location", to.parse().unwrap());
    resp
}

/// conductor's server on a counting listener: the base URL (`http://127.0.0.1:port`), the
/// server, and the count of accepted connections.
pub async fn server() -> (String, conductor_http::Running, Rc<Cell<usize>>) {
    server_with(conductor_http::Server::new()).await
}

pub async fn server_with(
    server: conductor_http::Server,
) -> (String, conductor_http::Running, Rc<Cell<usize>>) {
    let (listener, accepted) = Counting::bind().await;
    let running = server.start(listener, app());
    let base = format!("http://{}", running.local_addr().unwrap());
    (base, running, accepted)
}

/// Waits (a few loop turns at most, each a millisecond) until `cond` holds; whether it did.
pub async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if cond() {
            return true;
        }
        conductor::sleep(Duration::from_millis(1)).await;
    }
    cond()
}

/// Starts a Python server from `script`, which prints its port on its first line of output;
/// the child (killed when dropped) and its base URL `http://127.0.0.1:port`. Panics with the
/// install command when python3 or aiohttp is missing.
pub async fn python_server(script: &str) -> (conductor::process::Child, String) {
    use conductor::process::{Command, Stdio};
    use futures_lite::AsyncReadExt;
    assert!(
        python_has("aiohttp"),
        "python3 with aiohttp is needed (pip install aiohttp)"
    );
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs");
    let mut out = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 64];
    let read = async {
        while !line.contains(&b'\n') {
            let n = out.read(&mut b).await.unwrap();
            assert!(n > 0, "the Python server exited before printing its port");
            line.extend_from_slice(&b[..n]);
        }
    };
    conductor::timeout(Duration::from_secs(20), read)
        .await
        .expect("the Python server started within 20 s");
    let port: u16 = String::from_utf8_lossy(&line).trim().parse().unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

/// Whether python3 can import `module`.
pub fn python_has(module: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success())
}

/// The start of an aiohttp.web server script: imports, and `serve(app)`, which starts `app`
/// on a free port, prints the port and serves for 60 s.
pub const AIOHTTP_PRELUDE: &str = r#"
import asyncio, json, sys
from aiohttp import web, WSMsgType

async def serve(app):
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(60)
"#;

/// GETs `url` and reads the body as text; any error fails the test.
pub async fn get_text(session: &ClientSession, url: impl AsRef<str>) -> String {
    let url = url.as_ref();
    let resp = session
        .get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    resp.text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}, body: {e}"))
}

/// [`get_text`] in a task of its own, on a clone of `session`.
pub fn spawn_get_text(session: &ClientSession, url: String) -> conductor::Task<String> {
    let session = session.clone();
    conductor::spawn(async move { get_text(&session, url).await })
}
