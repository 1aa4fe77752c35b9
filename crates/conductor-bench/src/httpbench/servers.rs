//! The servers, one per row, each in a child process pinned to CPU 0: the same two routes
//! everywhere, `/` (`Hello, World!`, text/plain) and `/json` (a 1 KiB JSON document serialised
//! per request), HTTP/1.1 keep-alive.
//!
//! - `conductor`: conductor-http's `Server` (everything it adds: HTTP/1-or-2 detection, the
//!   limits, graceful drain) with a `handler_fn`;
//! - `hyper-tokio`: hyper's `http1::Builder::serve_connection` with `service_fn`, one task per
//!   connection, on tokio's current_thread runtime (hyper-util's `TokioIo`);
//! - `axum-tokio`: an axum `Router` through `axum::serve` on tokio's current_thread runtime;
//! - `actix-web`: actix-web's `HttpServer` with one worker (`workers(1)`), `web::get` routes;
//! - `aiohttp`: aiohttp.web on asyncio's default loop (`aiohttp_server.py`, run by `python3`;
//!   skipped, saying how to install it, without aiohttp). The target: at least 5x its
//!   requests per second.

use std::convert::Infallible;

use bytes::Bytes;
use serde::Serialize;

use super::{control, sys};

pub const RUNTIMES: &[&str] = &[
    "conductor",
    "hyper-tokio",
    "axum-tokio",
    "actix-web",
    "aiohttp",
];

/// The aiohttp server, embedded so that the benchmark runs from anywhere.
const AIOHTTP_SCRIPT: &str = include_str!("aiohttp_server.py");

/// The rows served by Python.
pub fn is_python(runtime: &str) -> bool {
    runtime == "aiohttp"
}

/// The server child of `runtime`: this binary with `--serve RUNTIME`, or python3.
pub fn start(runtime: &str) -> control::Server {
    if is_python(runtime) {
        let mut c = std::process::Command::new("python3");
        c.args(["-c", AIOHTTP_SCRIPT]);
        control::Server::start_command(runtime, c)
    } else {
        control::Server::start(runtime)
    }
}

/// Why the Python row cannot run here, with what to do, or `None` when it can.
pub fn python_missing() -> Option<String> {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import aiohttp"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (!ok).then(|| "aiohttp is not installed for python3: `pip install aiohttp` adds the row".into())
}

#[derive(Serialize)]
struct Item {
    id: u32,
    name: &'static str,
    price_cents: u32,
    in_stock: bool,
}

#[derive(Serialize)]
pub struct Payload {
    status: &'static str,
    count: usize,
    items: Vec<Item>,
}

/// The JSON route's document: about 1 KiB once serialised.
pub fn payload() -> Payload {
    let items: Vec<Item> = (0..12)
        .map(|i| Item {
            id: 1000 + i,
            name: "conductor benchmark item",
            price_cents: 1999 + i * 7,
            in_stock: i % 3 != 0,
        })
        .collect();
    Payload {
        status: "ok",
        count: items.len(),
        items,
    }
}

const HELLO: &str = "Hello, World!";

/// The child's main: serve `runtime` on 127.0.0.1, print the address, answer `stats`.
pub fn serve(runtime: &str) {
    let _ = sys::pin_to_cpu(0);
    sys::raise_nofile();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    listener.set_nonblocking(true).unwrap();
    println!("{}", listener.local_addr().unwrap());
    std::thread::spawn(|| {
        control::answer(|| {
            let (user, system) = sys::cpu_times();
            control::Stats {
                user,
                system,
                ..Default::default()
            }
        });
        std::process::exit(0);
    });
    match runtime {
        "conductor" => conductor_server(listener),
        "hyper-tokio" => hyper_server(listener),
        "axum-tokio" => axum_server(listener),
        "actix-web" => actix_server(listener),
        other => panic!("no HTTP server for {other:?}"),
    }
}

fn conductor_server(listener: std::net::TcpListener) {
    use conductor_http::{ResponseBody, Server, handler_fn, json_response};
    use http::header::{CONTENT_TYPE, HeaderValue};
    conductor::run(async move {
        let listener = conductor::net::TcpListener::from_std(listener).unwrap();
        let app = handler_fn(|req| async move {
            if req.uri().path() == "/json" {
                json_response(&payload())
            } else {
                // As the hyper row builds it: static bytes, one header.
                let mut resp =
                    http::Response::new(ResponseBody::full(Bytes::from_static(HELLO.as_bytes())));
                resp.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                resp
            }
        });
        let _ = Server::new().serve(listener, app).await;
    });
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn hyper_server(listener: std::net::TcpListener) {
    use http_body_util::Full;
    use hyper::header::{CONTENT_TYPE, HeaderValue};
    tokio_runtime().block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |req: hyper::Request<hyper::body::Incoming>| async move {
                        let (body, ty) = if req.uri().path() == "/json" {
                            (
                                Bytes::from(serde_json::to_vec(&payload()).unwrap()),
                                "application/json",
                            )
                        } else {
                            (
                                Bytes::from_static(HELLO.as_bytes()),
                                "text/plain; charset=utf-8",
                            )
                        };
                        let mut resp = hyper::Response::new(Full::new(body));
                        resp.headers_mut()
                            .insert(CONTENT_TYPE, HeaderValue::from_static(ty));
                        Ok::<_, Infallible>(resp)
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

fn axum_server(listener: std::net::TcpListener) {
    use axum::routing::get;
    tokio_runtime().block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let app = axum::Router::new()
            .route("/", get(|| async { HELLO }))
            .route("/json", get(|| async { axum::Json(payload()) }));
        let _ = axum::serve(listener, app).await;
    });
}

fn actix_server(listener: std::net::TcpListener) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| {
            App::new()
                .route(
                    "/",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .content_type("text/plain; charset=utf-8")
                            .body(HELLO)
                    }),
                )
                .route(
                    "/json",
                    web::get().to(|| async { HttpResponse::Ok().json(payload()) }),
                )
        })
        .workers(1)
        .listen(listener)
        .expect("actix-web takes the listener")
        .run()
        .await
        .expect("actix-web serves");
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_json_document_is_about_a_kibibyte() {
        let n = serde_json::to_vec(&super::payload()).unwrap().len();
        assert!((900..1200).contains(&n), "{n} bytes");
    }
}
