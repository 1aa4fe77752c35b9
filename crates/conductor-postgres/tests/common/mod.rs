//! The test server: `.ci/run` (and `scripts/pg-cluster.sh start` on a developer's machine)
//! starts a throwaway cluster and exports `CONDUCTOR_PG_DSN`. Without it the tests print why
//! and return, except under CI (`CI` set), where a missing server fails them loudly.
#![allow(dead_code)]

use conductor_postgres::{Config, Connection};

pub fn dsn() -> Option<String> {
    match std::env::var("CONDUCTOR_PG_DSN") {
        Ok(dsn) if !dsn.is_empty() => Some(dsn),
        _ if std::env::var_os("CI").is_some() => panic!(
            "CONDUCTOR_PG_DSN is not set under CI: .ci/run must start the test cluster \
             (scripts/pg-cluster.sh start)"
        ),
        _ => {
            eprintln!(
                "skipped: no PostgreSQL (run `eval \"$(scripts/pg-cluster.sh start)\"` first)"
            );
            None
        }
    }
}

pub fn config() -> Option<Config> {
    dsn().map(|d| d.parse().expect("CONDUCTOR_PG_DSN parses"))
}

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by scripts/pg-cluster.sh"))
}

pub async fn connect(dsn: &str) -> Connection {
    conductor_postgres::connect(dsn)
        .await
        .expect("the test server accepts connections")
}

/// A table name of this test's own, so that tests running at once do not meet.
pub fn table(name: &str) -> String {
    format!("t_{name}_{}", std::process::id())
}

/// Runs a test body on a conductor loop (the real clock: the server is real).
pub fn run<F: std::future::Future<Output = ()> + 'static>(f: F) {
    conductor::run(f);
}

/// Runs `f` with a connection to the test server, closed afterwards; returns at once (saying
/// why) without a server outside CI.
pub fn with_conn<F, Fut>(f: F)
where
    F: FnOnce(Connection) -> Fut + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let Some(dsn) = dsn() else { return };
    run(async move {
        let conn = connect(&dsn).await;
        f(conn.clone()).await;
        conn.close().await;
    });
}

/// Runs `f` with a connection and a table of this process's own (`table(name)`) made with
/// `columns`; drops the table and closes the connection afterwards.
pub fn with_table<F, Fut>(name: &str, columns: &str, f: F)
where
    F: FnOnce(Connection, String) -> Fut + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (t, columns) = (table(name), columns.to_string());
    with_conn(move |conn| async move {
        conn.execute_script(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} ({columns})"
        ))
        .await
        .unwrap();
        f(conn.clone(), t.clone()).await;
        conn.execute_script(&format!("DROP TABLE {t}"))
            .await
            .unwrap();
    });
}

/// Runs `f` with the test server's configuration; returns at once (saying why) without a
/// server outside CI.
pub fn with_config<F, Fut>(f: F)
where
    F: FnOnce(Config) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let Some(config) = config() else { return };
    run(f(config));
}
