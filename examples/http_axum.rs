//! An axum app (default features off, `json` on) served by conductor-http unchanged: a text
//! route and a JSON echo with shared state, fetched by a client in the same program. axum
//! handlers must be `Send`: the `Arc` state is; `Rc` state would not be (see
//! `http_local_state` for handlers that hold it).
//!
//! ```python
//! import asyncio
//! from aiohttp import web, ClientSession
//!
//! async def index(request):
//!     return web.Response(text=request.app["greeting"])
//!
//! async def echo(request):
//!     payload = await request.json()
//!     return web.json_response({"echo": payload, "by": request.app["greeting"]})
//!
//! async def main():
//!     app = web.Application()
//!     app["greeting"] = "hello from axum"
//!     app.add_routes([web.get("/", index), web.post("/echo", echo)])
//!     runner = web.AppRunner(app)
//!     await runner.setup()
//!     site = web.TCPSite(runner, "127.0.0.1", 0)
//!     await site.start()
//!     port = site._server.sockets[0].getsockname()[1]
//!     async with ClientSession() as session:
//!         async with session.get(f"http://127.0.0.1:{port}/") as r:
//!             print(r.status, await r.text())
//!         async with session.post(f"http://127.0.0.1:{port}/echo", json={"key": "value"}) as r:
//!             data = await r.json()
//!             print(r.status, data["echo"]["key"], data["by"])
//!     await runner.cleanup()
//!
//! asyncio.run(main())
//! ```

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use examples::http_client::{get as fetch, request};

#[derive(Clone)]
struct AppState {
    greeting: Arc<str>,
}

fn app() -> axum::Router {
    axum::Router::new()
        .route(
            "/",
            get(|State(s): State<AppState>| async move { s.greeting.to_string() }),
        )
        .route(
            "/echo",
            post(
                |State(s): State<AppState>, Json(payload): Json<serde_json::Value>| async move {
                    Json(serde_json::json!({ "echo": payload, "by": &*s.greeting }))
                },
            ),
        )
        .with_state(AppState {
            greeting: "hello from axum".into(),
        })
}

#[conductor::main]
pub async fn main() {
    let listener = conductor::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let running = conductor_http::Server::new().start(listener, app());
    let addr = running.local_addr().unwrap();
    let (status, text) = fetch(addr, "/").await;
    println!("{status} {text}");
    let (status, body) = request(addr, "POST", "/echo", r#"{"key": "value"}"#).await;
    let data: serde_json::Value = serde_json::from_str(&body).unwrap();
    println!(
        "{status} {} {}",
        data["echo"]["key"].as_str().unwrap(),
        data["by"].as_str().unwrap()
    );
    running.shutdown(Duration::from_secs(5)).await;
}
