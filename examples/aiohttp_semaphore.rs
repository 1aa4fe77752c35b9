//! The guides' performance comparison, async half: ten URLs that each answer after 1 s, fetched
//! through one `ClientSession` all at once (about 1 s), then with a `Semaphore(5)` around each
//! fetch (about 2 s: two rounds of five). The local server counts how many requests it serves
//! at once, which shows the cap. (The guide's sync version with `requests` takes 10 s and needs
//! no event loop; it is left out.) Times are printed in whole seconds: the guide's `.1f` would
//! differ by Python's own overhead on a loaded machine.
//!
//! ```python
//! import asyncio
//! import time
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
//! async def async_main(urls):
//!     start = time.time()
//!     async with aiohttp.ClientSession() as session:
//!         async def fetch(url):
//!             async with session.get(url) as r:
//!                 return r.status
//!         results = await asyncio.gather(*[fetch(url) for url in urls])
//!     print(f"Async elapsed: {time.time() - start:.0f}s")
//!
//! async def async_limited(urls):
//!     sem = asyncio.Semaphore(5)
//!     start = time.time()
//!     async with aiohttp.ClientSession() as session:
//!         async def fetch(url):
//!             async with sem:
//!                 async with session.get(url) as r:
//!                     return r.status
//!         results = await asyncio.gather(*[fetch(url) for url in urls])
//!     print(f"Rate-limited async elapsed: {time.time() - start:.0f}s")
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
//!     urls = [base + "/delay/1" for _ in range(10)]
//!     await async_main(urls)
//!     print(f"the server served {most} at once")
//!     most = 0
//!     await async_limited(urls)
//!     print(f"the server served {most} at once")
//!     await runner.cleanup()
//!
//! asyncio.run(main())
//! ```

use std::rc::Rc;
use std::time::Instant;

use conductor::Semaphore;
use conductor_http::client::{ClientError, ClientSession};
use examples::local_httpbin;

async fn async_main(urls: &[String]) {
    let start = Instant::now();
    let session = ClientSession::new();
    let fetches = urls.iter().map(|url| {
        let (session, url) = (session.clone(), url.clone());
        async move { Ok::<_, ClientError>(session.get(url).send().await?.status()) }
    });
    let _results = conductor::gather(fetches).await.unwrap();
    println!("Async elapsed: {:.0}s", start.elapsed().as_secs_f64());
}

async fn async_limited(urls: &[String]) {
    let sem = Rc::new(Semaphore::new(5));
    let start = Instant::now();
    let session = ClientSession::new();
    let fetches = urls.iter().map(|url| {
        let (session, url, sem) = (session.clone(), url.clone(), sem.clone());
        async move {
            let _permit = sem.acquire().await; // async with sem:
            Ok::<_, ClientError>(session.get(url).send().await?.status())
        }
    });
    let _results = conductor::gather(fetches).await.unwrap();
    println!(
        "Rate-limited async elapsed: {:.0}s",
        start.elapsed().as_secs_f64()
    );
}

#[conductor::main]
pub async fn main() {
    let server = local_httpbin::start().await;
    let urls: Vec<String> = (0..10)
        .map(|_| format!("{}/delay/1", server.base))
        .collect();
    async_main(&urls).await;
    println!("the server served {} at once", server.most_at_once());
    async_limited(&urls).await;
    println!("the server served {} at once", server.most_at_once());
    server.stop().await;
}
