//! The guides' "POST Request" with aiohttp: `session.post(url, json=payload)`, then the JSON
//! answer. httpbin.org's `/post` is a local server here that answers `{"json": <the body>}`;
//! the result is printed as compact JSON (Python's `json.dumps` with the same separators), not
//! as a Python dict.
//!
//! ```python
//! import asyncio
//! import json
//! import aiohttp
//! from aiohttp import web
//!
//! async def post(request):  # a local stand-in for https://httpbin.org/post
//!     return web.json_response({"json": await request.json()})
//!
//! async def post_data(session, url, payload):
//!     async with session.post(url, json=payload) as resp:
//!         return await resp.json()
//!
//! async def main():
//!     app = web.Application()
//!     app.add_routes([web.post("/post", post)])
//!     runner = web.AppRunner(app)
//!     await runner.setup()
//!     site = web.TCPSite(runner, "127.0.0.1", 0)
//!     await site.start()
//!     base = "http://127.0.0.1:%d" % site._server.sockets[0].getsockname()[1]
//!     async with aiohttp.ClientSession() as session:
//!         result = await post_data(
//!             session,
//!             base + "/post",
//!             {"key": "value", "name": "asyncio"}
//!         )
//!         print(json.dumps(result, separators=(",", ":")))
//!     await runner.cleanup()
//!
//! asyncio.run(main())
//! ```

use conductor_http::client::{ClientError, ClientSession};
use examples::local_httpbin;
use serde_json::{Value, json};

async fn post_data(
    session: &ClientSession,
    url: &str,
    payload: &Value,
) -> Result<Value, ClientError> {
    session.post(url).json(payload).send().await?.json().await
}

#[conductor::main]
pub async fn main() {
    let server = local_httpbin::start().await;
    let session = ClientSession::new();
    let result = post_data(
        &session,
        &format!("{}/post", server.base),
        &json!({"key": "value", "name": "asyncio"}),
    )
    .await
    .unwrap();
    println!("{result}");
    server.stop().await;
}
