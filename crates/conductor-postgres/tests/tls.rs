//! TLS by libpq's rules against the test server, whose certificate (issued by the CA at
//! `CONDUCTOR_PG_CA`) names `localhost` only: every sslmode, sslrootcert, SCRAM over TLS, the
//! pool, and the errors of a certificate that does not verify.

mod common;

use conductor_postgres::{Config, Connection, Error, SslMode};

/// The test server's DSN with `host` in place of 127.0.0.1 and `options` appended.
fn dsn_with(host: &str, options: &str) -> Option<String> {
    let dsn = common::dsn()?;
    let dsn = dsn.replace("127.0.0.1", host);
    Some(format!("{dsn}?{options}"))
}

fn ca() -> String {
    common::env("CONDUCTOR_PG_CA")
}

async fn uses_tls(conn: &Connection) -> bool {
    conn.fetchval(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        &[],
    )
    .await
    .unwrap()
}

#[test]
fn require_and_prefer_encrypt_without_checking_the_certificate() {
    let Some(require) = dsn_with("127.0.0.1", "sslmode=require") else {
        return;
    };
    let prefer = dsn_with("127.0.0.1", "sslmode=prefer").unwrap();
    let disable = dsn_with("127.0.0.1", "sslmode=disable").unwrap();
    common::run(async move {
        for (dsn, tls) in [(require, true), (prefer, true), (disable, false)] {
            let conn = common::connect(&dsn).await;
            assert_eq!(uses_tls(&conn).await, tls, "{dsn}");
            conn.close().await;
        }
    });
}

#[test]
fn verify_full_checks_the_chain_and_the_name() {
    let Some(by_name) = dsn_with(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", ca()),
    ) else {
        return;
    };
    let by_address = dsn_with(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={}", ca()),
    )
    .unwrap();
    common::run(async move {
        let conn = common::connect(&by_name).await;
        assert!(uses_tls(&conn).await);
        conn.close().await;

        let e = conductor_postgres::connect(&by_address).await.unwrap_err();
        assert!(matches!(e, Error::Connect { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("TLS handshake with 127.0.0.1 failed"), "{msg}");
        assert!(msg.contains("not valid for name"), "{msg}");
    });
}

#[test]
fn verify_ca_checks_the_chain_only() {
    let Some(by_address) = dsn_with(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={}", ca()),
    ) else {
        return;
    };
    common::run(async move {
        let conn = common::connect(&by_address).await;
        assert!(uses_tls(&conn).await);
        conn.close().await;
    });
}

#[test]
fn a_root_that_did_not_issue_the_certificate_is_refused_by_verify_ca_and_require() {
    let Some(base) = common::dsn() else { return };
    let other = rcgen::generate_simple_self_signed(vec!["other CA".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("conductor-pg-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let other_pem = dir.join("other.pem");
    std::fs::write(&other_pem, other.cert.pem()).unwrap();
    common::run(async move {
        for mode in ["verify-ca", "require"] {
            let mut config: Config = base.parse().unwrap();
            config
                .sslmode(if mode == "require" {
                    SslMode::Require
                } else {
                    SslMode::VerifyCa
                })
                .sslrootcert(other_pem.to_str().unwrap());
            let e = config.connect().await.unwrap_err().to_string();
            assert!(e.contains("UnknownIssuer"), "{mode}: {e}");
        }
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verify_full_without_roots_says_how_to_give_them() {
    if std::path::Path::new(&std::env::var("HOME").unwrap_or_default())
        .join(".postgresql/root.crt")
        .exists()
    {
        eprintln!("skipped: ~/.postgresql/root.crt exists, which libpq's rule uses");
        return;
    }
    common::run(async move {
        let e = conductor_postgres::connect("postgres://u@localhost/db?sslmode=verify-full")
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("sslrootcert=/path/to/ca.pem"), "{msg}");
        assert!(msg.contains("sslrootcert=system"), "{msg}");
    });
}

#[test]
fn a_missing_root_file_is_named() {
    common::run(async move {
        let e = conductor_postgres::connect(
            "host=localhost sslmode=verify-ca sslrootcert=/nonexistent/ca.pem",
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    });
}

#[test]
fn scram_authenticates_over_tls() {
    let Some(base) = common::dsn() else { return };
    let port = common::env("CONDUCTOR_PG_PORT");
    let ca = ca();
    drop(base);
    common::run(async move {
        let dsn = format!(
            "host=localhost port={port} user=scram_user password=scram_pw dbname=postgres \
             sslmode=verify-full sslrootcert={ca}"
        );
        let conn = common::connect(&dsn).await;
        assert!(uses_tls(&conn).await);
        let me: String = conn
            .fetchval("SELECT current_user::text", &[])
            .await
            .unwrap();
        assert_eq!(me, "scram_user");
        conn.close().await;
    });
}

#[test]
fn a_pool_connects_over_verified_tls() {
    let Some(dsn) = dsn_with(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", ca()),
    ) else {
        return;
    };
    common::run(async move {
        let pool = conductor_postgres::Pool::builder(dsn.parse().unwrap())
            .min_size(2)
            .max_size(2)
            .build()
            .await
            .unwrap();
        let a = pool.acquire().await.unwrap();
        let b = pool.acquire().await.unwrap();
        assert!(uses_tls(&a).await && uses_tls(&b).await);
        drop((a, b));
        pool.close().await;
    });
}

#[test]
fn a_connector_of_ones_own_is_used_as_given() {
    let Some(base) = common::dsn() else { return };
    let pem = std::fs::read(ca()).unwrap();
    common::run(async move {
        let mut config: Config = base.replace("127.0.0.1", "localhost").parse().unwrap();
        let connector = conductor::tls::TlsConnector::builder()
            .add_root_pem(pem)
            .unwrap()
            .build()
            .unwrap();
        config.sslmode(SslMode::Require).tls_connector(connector);
        let conn = config.connect().await.unwrap();
        assert!(uses_tls(&conn).await);
        conn.close().await;
    });
}
