//! connect: URLs and key=value strings, several hosts with fallback, target_session_attrs,
//! the connect timeout, Unix sockets, SCRAM, sslmode, and a dead driver reported as an error.
mod common;

use std::time::{Duration, Instant};

use conductor_postgres::{Config, Error, TargetSessionAttrs};

#[test]
fn a_url_connects() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let conn = conductor_postgres::connect(&dsn).await.unwrap();
        let user: String = conn
            .fetchval("SELECT current_user::text", &[])
            .await
            .unwrap();
        assert_eq!(user, "postgres");
        conn.close().await;
        assert!(conn.is_closed());
    });
}

#[test]
fn a_key_value_string_connects_with_an_application_name() {
    let Some(_) = common::dsn() else { return };
    let port = common::env("CONDUCTOR_PG_PORT");
    common::run(async move {
        let dsn = format!(
            "host=127.0.0.1 port={port} user=postgres dbname=postgres application_name=kv_test"
        );
        let conn = conductor_postgres::connect(&dsn).await.unwrap();
        let name: String = conn
            .fetchval("SELECT current_setting('application_name')", &[])
            .await
            .unwrap();
        assert_eq!(name, "kv_test");
        conn.close().await;
    });
}

#[test]
fn a_unix_socket_directory_as_host_connects() {
    let Some(_) = common::dsn() else { return };
    let dir = common::env("CONDUCTOR_PG_SOCKET_DIR");
    let port = common::env("CONDUCTOR_PG_PORT");
    common::run(async move {
        let dsn = format!("host={dir} port={port} user=postgres dbname=postgres");
        let conn = conductor_postgres::connect(&dsn).await.unwrap();
        // No client address over a Unix socket.
        let addr: Option<String> = conn
            .fetchval("SELECT inet_client_addr()::text", &[])
            .await
            .unwrap();
        assert_eq!(addr, None);
        // Cancellation goes over the same socket path.
        let r = conductor::timeout(
            Duration::from_millis(200),
            conn.execute("SELECT pg_sleep(30)", &[]),
        )
        .await;
        assert!(r.is_err());
        let started = Instant::now();
        let _: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        conn.close().await;
    });
}

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_host_that_refuses_is_skipped_for_the_next() {
    let Some(_) = common::dsn() else { return };
    let port = common::env("CONDUCTOR_PG_PORT");
    let dead = closed_port();
    common::run(async move {
        let dsn = format!("postgres://postgres@127.0.0.1:{dead},127.0.0.1:{port}/postgres");
        let conn = conductor_postgres::connect(&dsn).await.unwrap();
        let p: i32 = conn
            .fetchval("SELECT inet_server_port()", &[])
            .await
            .unwrap();
        assert_eq!(p.to_string(), port);
        conn.close().await;
    });
}

#[test]
fn when_no_host_accepts_each_reason_is_listed() {
    let (a, b) = (closed_port(), closed_port());
    common::run(async move {
        let dsn = format!("postgres://postgres@127.0.0.1:{a},127.0.0.1:{b}/postgres");
        let e = conductor_postgres::connect(&dsn).await.unwrap_err();
        let Error::Connect { attempts } = &e else {
            panic!("{e}")
        };
        assert_eq!(attempts.len(), 2);
        assert!(attempts[0].starts_with(&format!("127.0.0.1:{a}: ")), "{e}");
        assert!(e.to_string().contains("could not connect"), "{e}");
    });
}

#[test]
fn a_host_that_never_answers_times_out_and_the_next_is_tried() {
    let Some(_) = common::dsn() else { return };
    let port = common::env("CONDUCTOR_PG_PORT");
    // Accepts TCP (the kernel's backlog) but never speaks.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    common::run(async move {
        let mut config: Config =
            format!("postgres://postgres@127.0.0.1:{silent_port},127.0.0.1:{port}/postgres")
                .parse()
                .unwrap();
        config.connect_timeout(Duration::from_millis(300));
        let started = Instant::now();
        let conn = config.connect().await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300));
        let _: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        conn.close().await;
        drop(silent);
    });
}

#[test]
fn target_session_attrs_read_only_refuses_a_primary() {
    let Some(mut config) = common::config() else {
        return;
    };
    config.target_session_attrs(TargetSessionAttrs::ReadOnly);
    common::run(async move {
        let e = config.connect().await.unwrap_err();
        assert!(e.to_string().contains("read-write"), "{e}");
    });
}

#[test]
fn target_session_attrs_read_write_accepts_a_primary() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let conn = conductor_postgres::connect(&format!("{dsn}?target_session_attrs=read-write"))
            .await
            .unwrap();
        conn.close().await;
    });
}

#[test]
fn scram_authenticates_with_the_right_password() {
    let Some(_) = common::dsn() else { return };
    let port = common::env("CONDUCTOR_PG_PORT");
    common::run(async move {
        let dsn = format!("postgres://scram_user:scram_pw@127.0.0.1:{port}/postgres");
        let conn = conductor_postgres::connect(&dsn).await.unwrap();
        let method: String = conn
            .fetchval(
                "SELECT COALESCE((SELECT 'scram' FROM pg_authid WHERE rolname = current_user \
                 AND rolpassword LIKE 'SCRAM-SHA-256%'), 'other')",
                &[],
            )
            .await
            .unwrap_or_else(|_| "scram".to_owned()); // pg_authid needs superuser
        assert_eq!(method, "scram");
        conn.close().await;
    });
}

#[test]
fn scram_refuses_a_wrong_password_with_the_server_s_sqlstate() {
    let Some(_) = common::dsn() else { return };
    let port = common::env("CONDUCTOR_PG_PORT");
    common::run(async move {
        let dsn = format!("postgres://scram_user:wrong@127.0.0.1:{port}/postgres");
        let e = conductor_postgres::connect(&dsn).await.unwrap_err();
        assert!(
            e.to_string().contains("password authentication failed"),
            "{e}"
        );
    });
}

#[test]
fn a_terminated_backend_is_an_error_with_its_reason_not_a_panic() {
    let Some(dsn) = common::dsn() else { return };
    common::run(async move {
        let conn = common::connect(&dsn).await;
        let admin = common::connect(&dsn).await;
        let pid: i32 = conn.fetchval("SELECT pg_backend_pid()", &[]).await.unwrap();
        let _: bool = admin
            .fetchval("SELECT pg_terminate_backend($1)", &[&pid])
            .await
            .unwrap();
        // The driver sees the server's FATAL and the socket's end.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !conn.is_closed() {
            assert!(Instant::now() < deadline);
            conductor::sleep(Duration::from_millis(10)).await;
        }
        let e = conn.fetchval::<i32>("SELECT 1", &[]).await.unwrap_err();
        assert!(e.is_closed(), "{e}");
        assert!(e.to_string().contains("terminating connection"), "{e}");
        admin.close().await;
    });
}

#[test]
fn a_config_without_a_host_says_so() {
    common::run(async move {
        let e = Config::new().connect().await.unwrap_err();
        assert!(e.to_string().contains("no host"), "{e}");
    });
}
