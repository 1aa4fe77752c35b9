//! Handlers with `!Send` state, first class: a visit counter in an `Rc<Cell>` and a log in an
//! `Rc<RefCell>`, shared by every request of the loop without a lock (asyncio's model: one
//! thread, no data races). Three visits, then the log.
//!
//! ```python
//! import asyncio
//! from aiohttp import web, ClientSession
//!
//! async def main():
//!     visits = 0
//!     log = []
//!     async def visit(request):
//!         nonlocal visits
//!         visits += 1
//!         await asyncio.sleep(0.01)  # state held across an await
//!         log.append(request.match_info["who"])
//!         return web.Response(text=f"visit {visits} by {request.match_info['who']}")
//!     app = web.Application()
//!     app.add_routes([web.get("/visit/{who}", visit)])
//!     runner = web.AppRunner(app)
//!     await runner.setup()
//!     site = web.TCPSite(runner, "127.0.0.1", 0)
//!     await site.start()
//!     port = site._server.sockets[0].getsockname()[1]
//!     async with ClientSession() as session:
//!         for who in ["ada", "grace", "alan"]:
//!             async with session.get(f"http://127.0.0.1:{port}/visit/{who}") as r:
//!                 print(await r.text())
//!     await runner.cleanup()
//!     print("log:", ", ".join(log))
//!
//! asyncio.run(main())
//! ```

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use conductor_http::{Router, Server, match_info, text_response};
use examples::http_client::get;
use http::StatusCode;

#[conductor::main]
pub async fn main() {
    let visits = Rc::new(Cell::new(0));
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let app = Router::new().get("/visit/{who}", {
        let (visits, log) = (visits.clone(), log.clone());
        move |req| {
            let (visits, log) = (visits.clone(), log.clone());
            async move {
                visits.set(visits.get() + 1);
                let n = visits.get();
                conductor::sleep(Duration::from_millis(10)).await; // state held across an await
                let who = match_info(&req).get("who").unwrap_or("?").to_owned();
                log.borrow_mut().push(who.clone());
                text_response(StatusCode::OK, format!("visit {n} by {who}"))
            }
        }
    });
    let listener = conductor::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let running = Server::new().start(listener, app);
    let addr = running.local_addr().unwrap();
    for who in ["ada", "grace", "alan"] {
        println!("{}", get(addr, &format!("/visit/{who}")).await.1);
    }
    running.shutdown(Duration::from_secs(5)).await;
    println!("log: {}", log.borrow().join(", "));
}
