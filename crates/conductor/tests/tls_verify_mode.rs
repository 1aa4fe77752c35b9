//! Python's weaker client checks: `check_hostname = False` still verifies the chain, and
//! `verify_mode = CERT_NONE` verifies nothing but the handshake.

#[path = "support/certs.rs"]
mod certs;

use std::io;
use std::time::Duration;

use conductor::net::{Server, ServerOptions, start_server_with};
use conductor::streams::{StreamReader, StreamWriter};
use conductor::tls::{TlsAcceptor, TlsConnector, VerifyMode, open_connection};

fn run<F: std::future::Future<Output = ()> + 'static>(f: F) {
    conductor::run(async move {
        conductor::timeout(Duration::from_secs(20), f)
            .await
            .expect("the test took longer than 20 s");
    });
}

async fn echo(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
    let line = reader.readline().await.map_err(io::Error::other)?;
    writer.write(&line);
    writer.drain().await
}

/// A TLS echo server whose certificate names only `localhost`.
async fn server_for_localhost(cert: &certs::Cert) -> (Server, u16) {
    let acceptor = TlsAcceptor::from_pem(&cert.cert_pem, &cert.key_pem).unwrap();
    let server = start_server_with(echo, "127.0.0.1:0", &ServerOptions::new().ssl(acceptor))
        .await
        .unwrap();
    let port = server.local_addr().unwrap().port();
    (server, port)
}

/// Connects to 127.0.0.1 by its address, which the certificate does not name, and echoes a
/// line.
async fn echo_by_address(port: u16, connector: &TlsConnector) -> io::Result<Vec<u8>> {
    let (mut reader, mut writer) = open_connection(("127.0.0.1", port), connector).await?;
    writer.write(b"ping\n");
    writer.drain().await?;
    reader.readline().await.map_err(io::Error::other)
}

#[test]
fn check_hostname_false_accepts_a_trusted_certificate_for_another_name() {
    let cert = certs::self_signed(&["localhost"]);
    run(async move {
        let (_server, port) = server_for_localhost(&cert).await;
        let strict = TlsConnector::builder()
            .add_root_pem(&cert.cert_pem)
            .unwrap()
            .build()
            .unwrap();
        let err = echo_by_address(port, &strict)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid for name"), "{err}");

        let no_name = TlsConnector::builder()
            .add_root_pem(&cert.cert_pem)
            .unwrap()
            .check_hostname(false)
            .build()
            .unwrap();
        assert_eq!(echo_by_address(port, &no_name).await.unwrap(), b"ping\n");
    });
}

#[test]
fn check_hostname_false_still_refuses_an_untrusted_certificate() {
    let cert = certs::self_signed(&["localhost"]);
    let other_ca = certs::Ca::new();
    run(async move {
        let (_server, port) = server_for_localhost(&cert).await;
        let no_name = TlsConnector::builder()
            .add_root_pem(&other_ca.pem)
            .unwrap()
            .check_hostname(false)
            .build()
            .unwrap();
        let err = echo_by_address(port, &no_name)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("UnknownIssuer"), "{err}");
    });
}

#[test]
fn cert_none_needs_no_root_and_accepts_any_certificate() {
    let cert = certs::self_signed(&["localhost"]);
    run(async move {
        let (_server, port) = server_for_localhost(&cert).await;
        assert!(
            TlsConnector::builder().build().is_err(),
            "verifying with no root is refused"
        );
        let any = TlsConnector::builder()
            .verify_mode(VerifyMode::CertNone)
            .build()
            .unwrap();
        assert_eq!(echo_by_address(port, &any).await.unwrap(), b"ping\n");
    });
}
