//! Helpers shared by the example programs.

use std::time::Instant;

/// Seconds since `start`, as the guides print them (`Elapsed: 1.0s`).
pub fn elapsed(start: Instant) -> String {
    format!("{:.1}s", start.elapsed().as_secs_f64())
}

/// The PostgreSQL server of the database examples: `CONDUCTOR_PG_DSN` (what
/// `scripts/pg-cluster.sh start` exports), else `DATABASE_URL`. `None`, after saying so, when
/// neither is set or the server does not answer within two seconds: the tour goes on.
pub async fn postgres_config() -> Option<conductor_postgres::Config> {
    let dsn = std::env::var("CONDUCTOR_PG_DSN")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok();
    let Some(dsn) = dsn else {
        println!(
            "skipped: no PostgreSQL server (set CONDUCTOR_PG_DSN, or run \
             `eval \"$(scripts/pg-cluster.sh start)\"`)"
        );
        return None;
    };
    let mut config: conductor_postgres::Config = match dsn.parse() {
        Ok(c) => c,
        Err(e) => {
            println!("skipped: {e}");
            return None;
        }
    };
    config.connect_timeout(std::time::Duration::from_secs(2));
    match config.connect().await {
        Ok(probe) => {
            probe.close().await;
            Some(config)
        }
        Err(e) => {
            println!("skipped: no PostgreSQL server reachable ({e})");
            None
        }
    }
}

/// A small HTTP client for the server examples: one request through conductor-http's
/// `ClientSession` (the client examples use the session directly).
pub mod http_client {
    use conductor_http::client::ClientSession;

    /// `method path` on `addr` with `body` (sent as JSON): the status and the body as text.
    pub async fn request(
        addr: std::net::SocketAddr,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, String) {
        let method = method.parse().expect("an HTTP method");
        let resp = ClientSession::new()
            .request(method, format!("http://{addr}{path}"))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("a response");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("the body"))
    }

    /// A GET of `path`.
    pub async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
        request(addr, "GET", path, "").await
    }
}

/// A local stand-in for the web services the guides' aiohttp programs call (api.github.com's
/// user, httpbin.org's `/delay/{s}` and `/post`), so that the examples need no internet:
/// conductor-http's server on a free loopback port, counting how many requests it serves at
/// once.
pub mod local_httpbin {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use conductor_http::{Router, Running, Server, json_response, match_info, text_response};
    use http::StatusCode;

    /// The running server.
    pub struct LocalHttpbin {
        running: Running,
        /// `http://127.0.0.1:PORT`.
        pub base: String,
        most: Rc<Cell<usize>>,
    }

    /// Starts it: `GET /users/{login}` (a GitHub user), `GET /delay/{s}` (answers after `s`
    /// seconds), `POST /post` (`{"json": body}`).
    pub async fn start() -> LocalHttpbin {
        let busy = Rc::new(Cell::new(0usize));
        let most = Rc::new(Cell::new(0usize));
        let (b, m) = (busy.clone(), most.clone());
        let app = Router::new()
            .get("/users/{login}", |req| async move {
                let login = match_info(&req).get("login").unwrap_or("").to_owned();
                json_response(&serde_json::json!({"login": login, "name": "The Octocat"}))
            })
            .get("/delay/{s}", move |req| {
                let (busy, most) = (b.clone(), m.clone());
                async move {
                    let s: f64 = match_info(&req)
                        .get("s")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0.0);
                    busy.set(busy.get() + 1);
                    most.set(most.get().max(busy.get()));
                    conductor::sleep(Duration::from_secs_f64(s)).await;
                    busy.set(busy.get() - 1);
                    text_response(StatusCode::OK, format!("delayed {s}"))
                }
            })
            .post("/post", |req| async move {
                match req.into_body().json::<serde_json::Value>().await {
                    Ok(v) => json_response(&serde_json::json!({"json": v})),
                    Err(e) => e.into_response(),
                }
            });
        let listener = conductor::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let running = Server::new().start(listener, app);
        let base = format!("http://{}", running.local_addr().expect("a TCP address"));
        LocalHttpbin {
            running,
            base,
            most,
        }
    }

    impl LocalHttpbin {
        /// The most `/delay` requests it served at once, and starts counting again.
        pub fn most_at_once(&self) -> usize {
            self.most.replace(0)
        }

        /// Stops it gracefully.
        pub async fn stop(self) {
            self.running.shutdown(Duration::from_secs(5)).await;
        }
    }
}
