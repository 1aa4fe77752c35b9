//! The client over TLS, with a self-signed certificate made in the test: HTTP/2 when the server
//! offers it through ALPN (one connection multiplexed), HTTP/1.1 when the session asks, HTTP/2
//! by prior knowledge on cleartext, and a clear error for a certificate the client does not
//! trust.

#[path = "../../conductor/tests/support/certs.rs"]
mod certs;
#[path = "support/client.rs"]
mod client_support;
mod support;

use conductor::tls::{TlsAcceptor, TlsConnector};
use conductor_http::client::{ClientSession, ErrorKind};
use http::Version;
use support::run;

/// A TLS server for `localhost` offering h2 and http/1.1: its port, its accepted-connection
/// count, its certificate.
async fn tls_server() -> (
    u16,
    conductor_http::Running,
    std::rc::Rc<std::cell::Cell<usize>>,
    certs::Cert,
) {
    let cert = certs::self_signed(&["localhost"]);
    let acceptor = TlsAcceptor::builder(&cert.cert_pem, &cert.key_pem)
        .unwrap()
        .alpn_protocols(["h2", "http/1.1"])
        .build()
        .unwrap();
    let (listener, accepted) = client_support::Counting::bind().await;
    let running = conductor_http::Server::new()
        .tls(acceptor)
        .start(listener, client_support::app());
    let port = running.local_addr().unwrap().port();
    (port, running, accepted, cert)
}

fn trusting(cert: &certs::Cert) -> TlsConnector {
    TlsConnector::builder()
        .add_root_pem(&cert.cert_pem)
        .unwrap()
        .build()
        .unwrap()
}

#[test]
fn https_speaks_http2_through_alpn_and_multiplexes_one_connection() {
    run(30, async {
        let (port, _running, accepted, cert) = tls_server().await;
        let session = ClientSession::builder()
            .tls(trusting(&cert))
            .build()
            .unwrap();
        let base = format!("https://localhost:{port}");
        let resp = session.get(format!("{base}/json")).await.unwrap();
        assert_eq!(resp.version(), Version::HTTP_2);
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["name"], "conductor");

        let fetches = (0..5).map(|_| {
            let (session, url) = (session.clone(), format!("{base}/sleep/20"));
            async move { client_support::get_text(&session, url).await }
        });
        let got = conductor::gather(fetches).await.unwrap();
        assert!(got.iter().all(|t| t == "slept 20"));
        let payload = serde_json::json!({"over": "h2"});
        let v: serde_json::Value = session
            .post(format!("{base}/json"))
            .json(&payload)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["got"], payload);
        assert_eq!(accepted.get(), 1, "every request on one HTTP/2 connection");
        assert_eq!(session.pool_stats().open, 1);
    });
}

#[test]
fn https_speaks_http11_when_http2_is_off() {
    run(30, async {
        let (port, _running, accepted, cert) = tls_server().await;
        let session = ClientSession::builder()
            .tls(trusting(&cert))
            .http2(false)
            .build()
            .unwrap();
        for _ in 0..3 {
            let resp = session
                .get(format!("https://localhost:{port}/"))
                .await
                .unwrap();
            assert_eq!(resp.version(), Version::HTTP_11);
            assert_eq!(resp.text().await.unwrap(), "hello");
        }
        assert_eq!(accepted.get(), 1, "TLS keep-alive");
    });
}

#[test]
fn an_untrusted_certificate_is_a_tls_error_that_says_why() {
    run(30, async {
        let (port, _running, _, _) = tls_server().await;
        let url = format!("https://localhost:{port}/");
        // Trusting another certificate than the server's.
        let other = certs::self_signed(&["localhost"]);
        let session = ClientSession::builder()
            .tls(trusting(&other))
            .build()
            .unwrap();
        let err = session.get(&url).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
        assert!(err.is_tls());
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("GET {url}: TLS failed: ")),
            "{msg}"
        );
        assert!(msg.contains("certificate"), "{msg}");
        assert_eq!(session.pool_stats().open, 0);

        // A certificate for another name.
        let (port, _running, _, cert) = tls_server().await;
        let session = ClientSession::builder()
            .tls(trusting(&cert))
            .build()
            .unwrap();
        let err = session
            .get(format!("https://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(err.is_tls(), "{err:?}");
    });
}

#[test]
fn wss_speaks_http11_to_a_server_that_offers_h2() {
    run(30, async {
        let (port, _running, _accepted, cert) = tls_server().await;
        let session = ClientSession::builder()
            .tls(trusting(&cert))
            .build()
            .unwrap();
        // The session speaks HTTP/2 to this server; its WebSocket offers http/1.1 only.
        let resp = session
            .get(format!("https://localhost:{port}/json"))
            .await
            .unwrap();
        assert_eq!(resp.version(), Version::HTTP_2);
        resp.bytes().await.unwrap();
        let mut ws = session
            .ws_connect(format!("wss://localhost:{port}/ws"))
            .await
            .unwrap();
        ws.send_str("over TLS").await.unwrap();
        assert_eq!(ws.receive_str().await.unwrap(), "over TLS");
        ws.close().await.unwrap();
        assert_eq!(ws.close_code(), Some(1000));

        // An untrusted certificate: a TLS error naming the URL.
        let err = ClientSession::new()
            .ws_connect(format!("wss://localhost:{port}/ws"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls);
        assert!(err.to_string().contains("/ws"), "{err}");
    });
}

#[test]
fn http2_prior_knowledge_on_cleartext() {
    run(30, async {
        let (base, _running, accepted) = client_support::server().await;
        let session = ClientSession::builder()
            .http2_prior_knowledge()
            .build()
            .unwrap();
        for _ in 0..3 {
            let resp = session.get(format!("{base}/json")).await.unwrap();
            assert_eq!(resp.version(), Version::HTTP_2);
            resp.bytes().await.unwrap();
        }
        // A streamed upload goes as DATA frames.
        let pieces = ["{\"over\": ", "\"an h2 ", "stream\"}"]
            .map(|p| Ok::<_, std::io::Error>(bytes::Bytes::from_static(p.as_bytes())));
        let resp = session
            .post(format!("{base}/json"))
            .body_stream(futures_util::stream::iter(pieces))
            .await
            .unwrap();
        assert_eq!(resp.version(), Version::HTTP_2);
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["got"]["over"], "an h2 stream");
        assert_eq!(accepted.get(), 1);
    });
}
