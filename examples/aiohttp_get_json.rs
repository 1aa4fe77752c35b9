//! The guides' "Basic GET Request" with aiohttp: one `ClientSession`, a GET, the JSON body.
//! The guide fetches `https://api.github.com/users/octocat`; here a local server started by the
//! program answers the same path, so that no internet is needed.
//!
//! ```python
//! import asyncio
//! import aiohttp
//! from aiohttp import web
//!
//! async def user(request):  # a local stand-in for https://api.github.com/users/{login}
//!     return web.json_response({"login": request.match_info["login"], "name": "The Octocat"})
//!
//! async def fetch(session, url):
//!     async with session.get(url) as response:
//!         return await response.json()
//!
//! async def main():
//!     app = web.Application()
//!     app.add_routes([web.get("/users/{login}", user)])
//!     runner = web.AppRunner(app)
//!     await runner.setup()
//!     site = web.TCPSite(runner, "127.0.0.1", 0)
//!     await site.start()
//!     base = "http://127.0.0.1:%d" % site._server.sockets[0].getsockname()[1]
//!     async with aiohttp.ClientSession() as session:
//!         data = await fetch(session, base + "/users/octocat")
//!         print(data["name"])
//!     await runner.cleanup()
//!
//! asyncio.run(main())
//! ```

use conductor_http::client::{ClientError, ClientSession};
use examples::local_httpbin;

async fn fetch(session: &ClientSession, url: &str) -> Result<serde_json::Value, ClientError> {
    session.get(url).send().await?.json().await
}

#[conductor::main]
pub async fn main() {
    let server = local_httpbin::start().await;
    let session = ClientSession::new();
    let data = fetch(&session, &format!("{}/users/octocat", server.base))
        .await
        .unwrap();
    println!("{}", data["name"].as_str().unwrap());
    server.stop().await;
}
