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

/// A small HTTP/1.1 client for the HTTP examples (hyper's client on conductor, through
/// conductor-http's `rt` glue), until conductor-http has its own `ClientSession`.
pub mod http_client {
    use bytes::Bytes;
    use conductor_http::rt::{HyperIo, LocalExecutor};
    use http_body_util::{BodyExt, Full};

    /// `method path` on `addr` with `body`: the status and the body as text.
    pub async fn request(
        addr: std::net::SocketAddr,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, String) {
        let tcp = conductor::net::TcpStream::connect(addr)
            .await
            .expect("the server runs");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(HyperIo::new(tcp))
            .await
            .expect("an HTTP/1.1 connection");
        let _ = LocalExecutor; // HTTP/1 needs no executor; HTTP/2 would take this one
        conductor::spawn(conn).detach();
        let req = http::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("a valid request");
        let resp = sender.send_request(req).await.expect("a response");
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .expect("the body")
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A GET of `path`.
    pub async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
        request(addr, "GET", path, "").await
    }
}
