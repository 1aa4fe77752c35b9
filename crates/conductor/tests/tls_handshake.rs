//! TLS on loopback: `open_connection(ssl=)`, `start_server(ssl=)`, `start_tls`, SNI, ALPN,
//! client certificates, and handshake errors that say what was wrong.

mod support;

use std::io;
use std::time::Duration;

use conductor::net::{
    Server, ServerOptions, TcpListener, TcpStream, UnixStream, start_server_with,
};
use conductor::streams::{StreamReader, StreamWriter};
use conductor::tls::{TlsAcceptor, TlsConnector, open_connection, open_connection_with, start_tls};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use support::certs;

/// Runs `f` on a loop with the real clock, failing after 20 s (a hung handshake fails the test
/// instead of hanging it).
fn run<F: std::future::Future<Output = ()> + 'static>(f: F) {
    conductor::run(async move {
        conductor::timeout(Duration::from_secs(20), f)
            .await
            .expect("the test took longer than 20 s");
    });
}

async fn upper(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
    loop {
        let line = reader.readline().await.map_err(io::Error::other)?;
        if line.is_empty() {
            writer.close();
            return writer.wait_closed().await;
        }
        writer.write(&line.to_ascii_uppercase());
        writer.drain().await?;
    }
}

async fn tls_server(acceptor: TlsAcceptor) -> Server {
    start_server_with(upper, "127.0.0.1:0", &ServerOptions::new().ssl(acceptor))
        .await
        .unwrap()
}

/// An acceptor serving `cert` that asks clients for a certificate issued by `ca` (`required`:
/// refuses clients without one).
fn asking_for_client_certs(ca: &certs::Ca, cert: &certs::Cert, required: bool) -> TlsAcceptor {
    TlsAcceptor::builder(&cert.cert_pem, &cert.key_pem)
        .unwrap()
        .client_auth_pem(&ca.pem, required)
        .unwrap()
        .build()
        .unwrap()
}

fn trusting(pem: &str) -> TlsConnector {
    TlsConnector::builder()
        .add_root_pem(pem)
        .unwrap()
        .build()
        .unwrap()
}

#[test]
fn a_tls_server_and_client_exchange_lines() {
    let cert = certs::self_signed(&["localhost"]);
    run(async move {
        let server =
            tls_server(TlsAcceptor::from_pem(&cert.cert_pem, &cert.key_pem).unwrap()).await;
        let port = server.local_addr().unwrap().port();
        let (mut reader, mut writer) =
            open_connection(("localhost", port), &trusting(&cert.cert_pem))
                .await
                .unwrap();
        for word in ["hello\n", "tls\n"] {
            writer.write(word.as_bytes());
            writer.drain().await.unwrap();
            assert_eq!(
                reader.readline().await.unwrap(),
                word.to_uppercase().as_bytes()
            );
        }
        assert!(writer.get_extra_info().peername.is_some());
        writer.close();
        writer.wait_closed().await.unwrap();
        assert!(
            reader.read(10).await.unwrap().is_empty(),
            "the server closed after us"
        );
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn an_untrusted_certificate_fails_with_the_host_and_the_reason() {
    let cert = certs::self_signed(&["localhost"]);
    let other_ca = certs::Ca::new();
    run(async move {
        let server =
            tls_server(TlsAcceptor::from_pem(&cert.cert_pem, &cert.key_pem).unwrap()).await;
        let port = server.local_addr().unwrap().port();
        let err = open_connection(("localhost", port), &trusting(&other_ca.pem))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("TLS handshake with localhost failed"), "{msg}");
        assert!(msg.contains("UnknownIssuer"), "{msg}");
        assert!(
            msg.contains("not signed by a root this client trusts"),
            "{msg}"
        );
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let source = std::error::Error::source(err.get_ref().unwrap()).unwrap();
        assert!(matches!(
            source.downcast_ref::<conductor::tls::rustls::Error>(),
            Some(conductor::tls::rustls::Error::InvalidCertificate(_))
        ));
    });
}

#[test]
fn a_certificate_signed_by_another_key_of_a_trusted_name_fails_with_bad_signature() {
    // Two self-signed certificates share rcgen's subject: the trusted one is the issuer by
    // name, and the signature does not verify.
    let cert = certs::self_signed(&["localhost"]);
    let other = certs::self_signed(&["localhost"]);
    run(async move {
        let server =
            tls_server(TlsAcceptor::from_pem(&cert.cert_pem, &cert.key_pem).unwrap()).await;
        let port = server.local_addr().unwrap().port();
        let err = open_connection(("localhost", port), &trusting(&other.cert_pem))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("TLS handshake with localhost failed"), "{err}");
        assert!(err.contains("BadSignature"), "{err}");
        assert!(err.contains("does not verify"), "{err}");
    });
}

#[test]
fn a_certificate_for_another_name_fails_naming_the_host() {
    let cert = certs::self_signed(&["example.test"]);
    run(async move {
        let server =
            tls_server(TlsAcceptor::from_pem(&cert.cert_pem, &cert.key_pem).unwrap()).await;
        let port = server.local_addr().unwrap().port();
        let err = open_connection(("localhost", port), &trusting(&cert.cert_pem))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("TLS handshake with localhost failed"), "{msg}");
        assert!(msg.contains("does not name the host"), "{msg}");
        // The same certificate is fine under the name it lists (asyncio's server_hostname=).
        let (mut reader, mut writer) = open_connection_with(
            ("127.0.0.1", port),
            &trusting(&cert.cert_pem),
            "example.test",
        )
        .await
        .unwrap();
        writer.write(b"ok\n");
        assert_eq!(reader.readline().await.unwrap(), b"OK\n");
    });
}

#[test]
fn sni_picks_the_certificate_and_the_server_sees_the_name() {
    let ca = certs::Ca::new();
    let default = ca.issue(&["localhost"]);
    let alpha = ca.issue(&["alpha.test"]);
    let beta = ca.issue(&["beta.test"]);
    run(async move {
        let acceptor = TlsAcceptor::builder(&default.cert_pem, &default.key_pem)
            .unwrap()
            .sni_cert_pem("alpha.test", &alpha.cert_pem, &alpha.key_pem)
            .unwrap()
            .sni_cert_pem("beta.test", &beta.cert_pem, &beta.key_pem)
            .unwrap()
            .build()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = conductor::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..3 {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut tls = acceptor.accept(tcp).await.unwrap();
                seen.push(tls.server_name().map(str::to_owned));
                tls.write_all(b"x").await.unwrap();
                tls.flush().await.unwrap();
            }
            seen
        });
        let client = trusting(&ca.pem);
        for name in ["alpha.test", "beta.test", "localhost"] {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut tls = client.connect(name, tcp).await.unwrap();
            let leaf = &tls.peer_certificates().unwrap()[0];
            let expected = match name {
                "alpha.test" => &alpha.cert_pem,
                "beta.test" => &beta.cert_pem,
                _ => &default.cert_pem,
            };
            assert_eq!(
                leaf.as_ref(),
                pem_der(expected),
                "the certificate for {name}"
            );
            let mut b = [0; 1];
            tls.read_exact(&mut b).await.unwrap();
        }
        let seen = server.await.unwrap();
        assert_eq!(
            seen,
            [
                Some("alpha.test".to_owned()),
                Some("beta.test".to_owned()),
                Some("localhost".to_owned())
            ]
        );
    });
}

fn pem_der(pem: &str) -> Vec<u8> {
    use conductor::tls::rustls::pki_types::pem::PemObject;
    conductor::tls::rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

#[test]
fn alpn_picks_the_servers_preferred_shared_protocol() {
    let cert = certs::self_signed(&["localhost"]);
    run(async move {
        let acceptor = TlsAcceptor::builder(&cert.cert_pem, &cert.key_pem)
            .unwrap()
            .alpn_protocols(["h2", "http/1.1"])
            .build()
            .unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        let server = conductor::spawn(async move {
            let tls = acceptor.accept(a).await.unwrap();
            tls.alpn_protocol().map(<[u8]>::to_vec)
        });
        let client = TlsConnector::builder()
            .add_root_pem(&cert.cert_pem)
            .unwrap()
            .alpn_protocols(["http/1.1", "h2"])
            .build()
            .unwrap();
        let tls = client.connect("localhost", b).await.unwrap();
        // rustls servers choose by their own order of preference.
        assert_eq!(tls.alpn_protocol(), Some(&b"h2"[..]));
        assert_eq!(server.await.unwrap().as_deref(), Some(&b"h2"[..]));
    });
}

#[test]
fn alpn_without_a_shared_protocol_fails_saying_so() {
    let cert = certs::self_signed(&["localhost"]);
    run(async move {
        let acceptor = TlsAcceptor::builder(&cert.cert_pem, &cert.key_pem)
            .unwrap()
            .alpn_protocols(["h2"])
            .build()
            .unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        let server = conductor::spawn(async move { acceptor.accept(a).await.map(|_| ()) });
        let client = TlsConnector::builder()
            .add_root_pem(&cert.cert_pem)
            .unwrap()
            .alpn_protocols(["imap"])
            .build()
            .unwrap();
        let client_err = client.connect("localhost", b).await.unwrap_err();
        let server_err = server.await.unwrap().unwrap_err();
        assert!(
            server_err.to_string().contains("share no ALPN protocol"),
            "{server_err}"
        );
        assert!(
            client_err
                .to_string()
                .contains("TLS handshake with localhost failed"),
            "{client_err}"
        );
    });
}

#[test]
fn a_required_client_certificate_is_checked() {
    let ca = certs::Ca::new();
    let server_cert = ca.issue(&["localhost"]);
    let client_cert = ca.issue(&["client.test"]);
    run(async move {
        let acceptor = asking_for_client_certs(&ca, &server_cert, true);
        let server = tls_server(acceptor).await;
        let port = server.local_addr().unwrap().port();

        let with_cert = TlsConnector::builder()
            .add_root_pem(&ca.pem)
            .unwrap()
            .client_cert_pem(&client_cert.cert_pem, &client_cert.key_pem)
            .unwrap()
            .build()
            .unwrap();
        let (mut reader, mut writer) = open_connection(("localhost", port), &with_cert)
            .await
            .unwrap();
        writer.write(b"me\n");
        assert_eq!(reader.readline().await.unwrap(), b"ME\n");

        // TLS 1.3: the client learns of the refusal at its first read.
        let without = trusting(&ca.pem);
        let refused = async {
            let (mut reader, mut writer) = open_connection(("localhost", port), &without).await?;
            writer.write(b"me\n");
            writer.drain().await?;
            reader.readline().await.map_err(io::Error::other)
        };
        let err = refused.await.unwrap_err().to_string();
        assert!(
            err.contains("CertificateRequired") || err.contains("certificate"),
            "{err}"
        );
    });
}

#[test]
fn an_optional_client_certificate_is_reported_when_given() {
    let ca = certs::Ca::new();
    let server_cert = ca.issue(&["localhost"]);
    let client_cert = ca.issue(&["client.test"]);
    run(async move {
        let acceptor = asking_for_client_certs(&ca, &server_cert, false);
        for give in [true, false] {
            let (a, b) = UnixStream::pair().unwrap();
            let acc = acceptor.clone();
            let server = conductor::spawn(async move {
                let mut tls = acc.accept(a).await.unwrap();
                let mut byte = [0; 1];
                tls.read_exact(&mut byte).await.unwrap();
                tls.peer_certificates().map(<[_]>::len)
            });
            let mut builder = TlsConnector::builder().add_root_pem(&ca.pem).unwrap();
            if give {
                builder = builder
                    .client_cert_pem(&client_cert.cert_pem, &client_cert.key_pem)
                    .unwrap();
            }
            let mut tls = builder
                .build()
                .unwrap()
                .connect("localhost", b)
                .await
                .unwrap();
            tls.write_all(b"!").await.unwrap();
            tls.flush().await.unwrap();
            assert_eq!(server.await.unwrap(), give.then_some(1));
        }
    });
}

#[test]
fn start_tls_upgrades_streams_after_a_cleartext_exchange() {
    let cert = certs::self_signed(&["localhost"]);
    run(async move {
        let acceptor = TlsAcceptor::from_pem(&cert.cert_pem, &cert.key_pem).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = conductor::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut hello = [0; 9];
            tcp.read_exact(&mut hello).await.unwrap();
            assert_eq!(&hello, b"STARTTLS\n");
            // The answer and the handshake's first bytes leave together: the client's reader
            // buffers some of the handshake with the cleartext line.
            tcp.write_all(b"GO AHEAD\n").await.unwrap();
            let (mut reader, mut writer) = acceptor.accept(tcp).await.unwrap().into_streams();
            let line = reader.readline().await.unwrap();
            writer.write(&line.to_ascii_uppercase());
            writer.drain().await.unwrap();
        });
        let (mut reader, mut writer) = conductor::open_connection(addr).await.unwrap();
        writer.write(b"STARTTLS\n");
        assert_eq!(reader.readline().await.unwrap(), b"GO AHEAD\n");
        let (mut reader, mut writer) =
            start_tls(reader, writer, &trusting(&cert.cert_pem), "localhost")
                .await
                .unwrap();
        writer.write(b"secret\n");
        writer.drain().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"SECRET\n");
        server.await.unwrap();
    });
}

#[test]
fn a_client_that_never_handshakes_is_dropped_after_the_handshake_timeout() {
    let cert = certs::self_signed(&["localhost"]);
    conductor::Runtime::builder()
        .paused_clock()
        .build()
        .unwrap()
        .block_on(async move {
            let acceptor = TlsAcceptor::from_pem(&cert.cert_pem, &cert.key_pem).unwrap();
            let options = ServerOptions::new()
                .ssl(acceptor)
                .ssl_handshake_timeout(Duration::from_secs(5));
            let server = start_server_with(upper, "127.0.0.1:0", &options)
                .await
                .unwrap();
            let mut silent = TcpStream::connect(server.local_addr().unwrap())
                .await
                .unwrap();
            let start = conductor::now();
            let mut buf = [0; 16];
            let n = silent.read(&mut buf).await.unwrap_or(0);
            assert_eq!(n, 0, "the server closed the connection");
            assert_eq!(conductor::now() - start, Duration::from_secs(5));
            assert_eq!(server.connections(), 0);
        });
}

#[test]
fn a_server_without_certificates_and_a_connector_without_roots_are_refused() {
    let err = TlsConnector::builder().build().unwrap_err();
    assert!(err.to_string().contains("trusts no root"), "{err}");
    let err = TlsAcceptor::builder_sni_only().build().unwrap_err();
    assert!(err.to_string().contains("no certificate"), "{err}");
    let err = TlsAcceptor::from_pem("not pem", "not pem").err().unwrap();
    assert!(err.to_string().contains("no certificate found"), "{err}");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn webpki_roots_do_not_trust_a_self_signed_certificate() {
    let cert = certs::self_signed(&["localhost"]);
    run(async move {
        let server =
            tls_server(TlsAcceptor::from_pem(&cert.cert_pem, &cert.key_pem).unwrap()).await;
        let port = server.local_addr().unwrap().port();
        let webpki = TlsConnector::builder().with_webpki_roots().build().unwrap();
        let err = open_connection(("localhost", port), &webpki)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    });
}

#[test]
fn system_roots_load_or_say_how_to_get_them() {
    match TlsConnector::new() {
        Ok(c) => assert!(format!("{c:?}").contains("TlsConnector")),
        Err(e) => {
            assert_eq!(e.kind(), io::ErrorKind::NotFound);
            assert!(e.to_string().contains("ca-certificates"), "{e}");
        }
    }
}
