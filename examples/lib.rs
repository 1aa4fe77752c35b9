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
