//! aiohttp.web's hello world, with a JSON route and a path parameter: the server is started on
//! a free local port, fetched by a client in the same program, then shut down gracefully.
//! `cargo run --example http_hello -- --serve` serves on 127.0.0.1:8080 until Ctrl-C instead.
//!
//! ```python
//! import asyncio
//! from aiohttp import web, ClientSession
//!
//! async def hello(request):
//!     return web.Response(text="Hello, world")
//!
//! async def user(request):
//!     return web.json_response({"name": request.match_info["name"], "id": 1})
//!
//! async def main():
//!     app = web.Application()
//!     app.add_routes([web.get("/", hello), web.get("/users/{name}", user)])
//!     runner = web.AppRunner(app)
//!     await runner.setup()
//!     site = web.TCPSite(runner, "127.0.0.1", 0)
//!     await site.start()
//!     port = site._server.sockets[0].getsockname()[1]
//!     async with ClientSession() as session:
//!         async with session.get(f"http://127.0.0.1:{port}/") as r:
//!             print(r.status, await r.text())
//!         async with session.get(f"http://127.0.0.1:{port}/users/octocat") as r:
//!             data = await r.json()
//!             print(r.status, r.content_type, data["name"], data["id"])
//!         async with session.get(f"http://127.0.0.1:{port}/nowhere") as r:
//!             print(r.status)
//!     await runner.cleanup()
//!     print("server stopped")
//!
//! asyncio.run(main())
//! ```

use std::time::Duration;

use conductor_http::{Router, Server, json_response, match_info, text_response};
use examples::http_client::get;
use http::StatusCode;

fn app() -> Router {
    Router::new()
        .get("/", |_req| async {
            text_response(StatusCode::OK, "Hello, world")
        })
        .get("/users/{name}", |req| async move {
            let name = match_info(&req).get("name").unwrap_or("nobody").to_owned();
            json_response(&serde_json::json!({ "name": name, "id": 1 }))
        })
}

#[conductor::main]
pub async fn main() {
    if std::env::args().any(|a| a == "--serve") {
        return serve_until_ctrl_c().await;
    }
    let listener = conductor::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let running = Server::new().start(listener, app());
    let addr = running.local_addr().unwrap();
    let (status, text) = get(addr, "/").await;
    println!("{status} {text}");
    let (status, body) = get(addr, "/users/octocat").await;
    let data: serde_json::Value = serde_json::from_str(&body).unwrap();
    println!(
        "{status} application/json {} {}",
        data["name"].as_str().unwrap(),
        data["id"]
    );
    let (status, _) = get(addr, "/nowhere").await;
    println!("{status}");
    running.shutdown(Duration::from_secs(5)).await;
    println!("server stopped");
}

async fn serve_until_ctrl_c() {
    let listener = conductor::net::TcpListener::bind("127.0.0.1:8080")
        .await
        .unwrap();
    println!("serving on http://{}", listener.local_addr().unwrap());
    let report = conductor::signal::graceful_shutdown(
        Duration::from_secs(10),
        move |in_flight| async move {
            let _ = Server::new()
                .in_flight(in_flight)
                .serve(listener, app())
                .await;
        },
    )
    .unwrap()
    .await;
    println!(
        "stopped by {:?}: {} finished, {} cancelled",
        report.signal, report.finished, report.cancelled
    );
}
