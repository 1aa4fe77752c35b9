//! conductor's client against Python's aiohttp server (a subprocess on a free port, bounded in
//! time): the guides' GET of a JSON user, POST JSON, query strings, three delayed URLs fetched
//! concurrently, a chunked body, keep-alive reuse seen from the server, limit_per_host.

#[path = "support/client.rs"]
mod client_support;
mod support;

use std::time::Duration;

use client_support::{get_text, python_server};
use conductor_http::client::ClientSession;
use support::run;

const SERVER: &str = r#"
import asyncio, sys
from aiohttp import web

peers = set()

async def user(request):
    peers.add(request.transport.get_extra_info("peername"))
    return web.json_response({"login": request.match_info["name"], "name": "The Octocat"})

async def post(request):
    peers.add(request.transport.get_extra_info("peername"))
    return web.json_response({"json": await request.json(), "query": dict(request.query)})

async def delay(request):
    peers.add(request.transport.get_extra_info("peername"))
    await asyncio.sleep(float(request.match_info["s"]))
    return web.Response(text="delayed " + request.match_info["s"])

async def chunked(request):
    resp = web.StreamResponse()
    await resp.prepare(request)
    for i in range(3):
        await resp.write(f"part {i};".encode())
        await asyncio.sleep(0.01)
    await resp.write_eof()
    return resp

async def compressed(request):
    resp = web.Response(text="squeezed " * 1000)
    resp.enable_compression()
    return resp

async def connections(request):
    return web.json_response(len(peers))

async def reset(request):
    peers.clear()
    return web.Response(text="ok")

async def main():
    app = web.Application()
    app.add_routes([web.get("/users/{name}", user), web.post("/post", post),
                    web.get("/delay/{s}", delay), web.get("/chunked", chunked), web.get("/compressed", compressed),
                    web.get("/connections", connections), web.post("/reset", reset)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"#;

#[test]
fn the_guides_requests_against_pythons_aiohttp_server() {
    run(60, async {
        let (_child, base) = python_server(SERVER).await;
        let session = ClientSession::builder().base_url(&base).build().unwrap();

        let user: serde_json::Value = session
            .get("/users/octocat")
            .await
            .unwrap()
            .raise_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(user["name"], "The Octocat");

        let payload = serde_json::json!({"key": "value", "name": "asyncio"});
        let v: serde_json::Value = session
            .post("/post")
            .query([("page", "2")])
            .json(&payload)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"json": payload, "query": {"page": "2"}})
        );

        // Three delayed URLs at once take about the longest delay, not the sum.
        let start = conductor::now();
        let fetches = ["0.3", "0.6", "0.3"].map(|s| {
            let (session, url) = (session.clone(), format!("/delay/{s}"));
            async move { get_text(&session, url).await }
        });
        let got = conductor::gather(fetches).await.unwrap();
        assert_eq!(got, ["delayed 0.3", "delayed 0.6", "delayed 0.3"]);
        let took = conductor::now() - start;
        assert!(
            took < Duration::from_millis(1100),
            "{took:?}: not concurrent"
        );

        let mut resp = session.get("/chunked").await.unwrap();
        let mut parts = Vec::new();
        while let Some(c) = resp.chunk().await.unwrap() {
            parts.push(String::from_utf8(c.to_vec()).unwrap());
        }
        assert_eq!(parts.concat(), "part 0;part 1;part 2;");

        // aiohttp compresses when asked (accept-encoding: gzip, deflate, br, a default
        // header; it offers br when Python's Brotli is installed).
        let resp = session.get("/compressed").await.unwrap();
        let encoding = resp.headers()["content-encoding"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            ["gzip", "deflate", "br"].contains(&encoding.as_str()),
            "{encoding}"
        );
        assert_eq!(resp.text().await.unwrap(), "squeezed ".repeat(1000));
    });
}

#[test]
fn keep_alive_and_limit_per_host_seen_by_pythons_aiohttp_server() {
    run(60, async {
        let (_child, base) = python_server(SERVER).await;
        let session = ClientSession::builder()
            .base_url(&base)
            .limit_per_host(2)
            .build()
            .unwrap();
        for _ in 0..5 {
            session
                .get("/users/a")
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        }
        let seen: usize = session
            .get("/connections")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(seen, 1, "five requests, one keep-alive connection");

        session.post("/reset").await.unwrap().bytes().await.unwrap();
        let fetches = (0..8).map(|_| {
            let session = session.clone();
            async move { get_text(&session, "/delay/0.05").await }
        });
        conductor::gather(fetches).await.unwrap();
        let seen: usize = session
            .get("/connections")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            seen, 2,
            "eight concurrent requests over limit_per_host=2 connections"
        );
    });
}
