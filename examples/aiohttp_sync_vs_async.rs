//! The guides' "Performance Comparison": the same five URLs, each answering after 1 s, fetched
//! one after another as blocking code does (the guide's `requests.get` in a loop: about 5 s),
//! then all at once through one `ClientSession` (about 1 s), five times faster. The guide's
//! httpbin.org is a local server started here, and it counts how many requests it serves at
//! once. The sync half runs on a thread of its own (`to_thread`), because the server shares the
//! program's loop: a blocking loop on it would stall the server too. There, each request waits
//! for the one before, as `requests` does (a loop of its own on that thread, one request at a
//! time). Five URLs rather than the guide's ten keep the tour short; times are in whole seconds.
//!
//! ```python
//! import asyncio
//! import time
//! import urllib.request
//! import aiohttp
//! from aiohttp import web
//!
//! busy = most = 0
//!
//! async def delay(request):  # a local stand-in for https://httpbin.org/delay/1
//!     global busy, most
//!     busy += 1
//!     most = max(most, busy)
//!     await asyncio.sleep(float(request.match_info["s"]))
//!     busy -= 1
//!     return web.Response(text="delayed")
//!
//! def sync_main(urls):  # the guide's requests.get loop (urllib here: the standard library)
//!     start = time.time()
//!     statuses = []
//!     for url in urls:
//!         with urllib.request.urlopen(url) as r:
//!             statuses.append(r.status)
//!     elapsed = time.time() - start
//!     print(f"Sync elapsed: {elapsed:.0f}s")
//!     return elapsed
//!
//! async def async_main(urls):
//!     start = time.time()
//!     async with aiohttp.ClientSession() as session:
//!         async def fetch(url):
//!             async with session.get(url) as r:
//!                 return r.status
//!         statuses = await asyncio.gather(*[fetch(url) for url in urls])
//!     elapsed = time.time() - start
//!     print(f"Async elapsed: {elapsed:.0f}s")
//!     return elapsed
//!
//! async def main():
//!     global most
//!     app = web.Application()
//!     app.add_routes([web.get("/delay/{s}", delay)])
//!     runner = web.AppRunner(app)
//!     await runner.setup()
//!     site = web.TCPSite(runner, "127.0.0.1", 0)
//!     await site.start()
//!     base = "http://127.0.0.1:%d" % site._server.sockets[0].getsockname()[1]
//!     urls = [base + "/delay/1" for _ in range(5)]
//!     sync = await asyncio.to_thread(sync_main, urls)
//!     print(f"the server served {most} at once")
//!     most = 0
//!     concurrent = await async_main(urls)
//!     print(f"the server served {most} at once")
//!     print(f"async was about {sync / concurrent:.0f}x faster")
//!     await runner.cleanup()
//!
//! asyncio.run(main())
//! ```

use std::time::Instant;

use conductor_http::client::{ClientError, ClientSession};
use examples::local_httpbin;

/// The blocking version: each request waits for the one before (on its own thread).
fn sync_main(urls: Vec<String>) -> f64 {
    let start = Instant::now();
    conductor::run(async move {
        let session = ClientSession::new();
        for url in &urls {
            let resp = session
                .get(url)
                .send()
                .await
                .expect("the local server answers");
            resp.bytes().await.expect("the body comes");
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    println!("Sync elapsed: {elapsed:.0}s");
    elapsed
}

async fn async_main(urls: &[String]) -> f64 {
    let start = Instant::now();
    let session = ClientSession::new();
    let fetches = urls.iter().map(|url| {
        let (session, url) = (session.clone(), url.clone());
        async move { Ok::<_, ClientError>(session.get(url).send().await?.status()) }
    });
    let _statuses = conductor::gather(fetches).await.unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    println!("Async elapsed: {elapsed:.0}s");
    elapsed
}

#[conductor::main]
pub async fn main() {
    let server = local_httpbin::start().await;
    let urls: Vec<String> = (0..5).map(|_| format!("{}/delay/1", server.base)).collect();
    let sync = {
        let urls = urls.clone();
        conductor::to_thread(move || sync_main(urls))
            .await
            .expect("the sync half ran")
    };
    println!("the server served {} at once", server.most_at_once());
    let concurrent = async_main(&urls).await;
    println!("the server served {} at once", server.most_at_once());
    println!("async was about {:.0}x faster", sync / concurrent);
    server.stop().await;
}
