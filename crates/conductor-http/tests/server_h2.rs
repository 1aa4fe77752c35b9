//! HTTP/2: prior knowledge on cleartext, ALPN over TLS (curl with a certificate made in the
//! test), and HTTP/1.1 over TLS when the client asks for it.

mod support;

// The certificates conductor's own TLS tests make (one copy for both crates).
#[path = "../../conductor/tests/support/certs.rs"]
mod certs;

use conductor::tls::TlsAcceptor;
use support::{app, connect, exec, listener, run};

#[test]
fn curl_with_http2_prior_knowledge_speaks_http2_on_cleartext() {
    run(30, async {
        let running = conductor_http::Server::new().start(listener().await, app());
        let base = format!("http://{}", running.local_addr().unwrap());
        // One URL per curl: curl 7.88 fails to reuse a prior-knowledge connection (exit 16,
        // before sending anything); multiplexing is tested with hyper's client below.
        for (path, body) in [
            ("/json", r#"{"name":"conductor","ok":true}"#),
            ("/users/7", r#"{"id":"7"}"#),
        ] {
            let (out, err, ok) = exec(
                "curl",
                &[
                    "-s",
                    "--http2-prior-knowledge",
                    "-w",
                    " %{http_version}",
                    &format!("{base}{path}"),
                ],
                20,
            )
            .await;
            assert!(ok, "{err}");
            assert_eq!(out, format!("{body} 2"));
        }
        // The same port still serves HTTP/1.1.
        let (out, _, _) = exec(
            "curl",
            &["-s", "-w", " %{http_version}", &format!("{base}/")],
            20,
        )
        .await;
        assert_eq!(out, "hello 1.1");
    });
}

#[test]
fn http2_multiplexes_requests_on_one_connection() {
    use http_body_util::BodyExt;
    run(30, async {
        let running = conductor_http::Server::new().start(listener().await, app());
        let tcp = connect(&running).await;
        let (sender, conn) = hyper::client::conn::http2::handshake(
            conductor_http::rt::LocalExecutor,
            conductor_http::rt::HyperIo::new(tcp),
        )
        .await
        .unwrap();
        conductor::spawn(conn).detach();
        let done = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let start = std::time::Instant::now();
        // Sent in this order on one connection; HTTP/1.1 would answer in the same order.
        let requests = ["/sleep/1200", "/sleep/400", "/json"].map(|path| {
            let mut sender = sender.clone();
            let done = done.clone();
            conductor::spawn(async move {
                let req = http::Request::get(format!("http://localhost{path}"))
                    .body(http_body_util::Empty::<bytes::Bytes>::new())
                    .unwrap();
                let resp = sender.send_request(req).await.unwrap();
                assert_eq!(resp.version(), http::Version::HTTP_2);
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                done.borrow_mut()
                    .push(String::from_utf8(body.to_vec()).unwrap());
            })
        });
        for r in requests {
            r.await.unwrap();
        }
        assert_eq!(
            *done.borrow(),
            [
                r#"{"name":"conductor","ok":true}"#,
                "slept 400",
                "slept 1200"
            ],
            "answered as each finished"
        );
        assert!(
            start.elapsed() < std::time::Duration::from_millis(1600),
            "the longest, not the sum"
        );
    });
}

fn tls_server_files(cert: &certs::Cert) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("conductor-http-h2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), &cert.cert_pem).unwrap();
    dir.join("ca.pem")
}

#[test]
fn curl_over_tls_negotiates_http2_by_alpn_or_http11_when_asked() {
    let cert = certs::self_signed(&["localhost"]);
    let ca = tls_server_files(&cert);
    run(30, async move {
        let acceptor = TlsAcceptor::builder(&cert.cert_pem, &cert.key_pem)
            .unwrap()
            .alpn_protocols(["h2", "http/1.1"])
            .build()
            .unwrap();
        let running = conductor_http::Server::new()
            .tls(acceptor)
            .start(listener().await, app());
        let port = running.local_addr().unwrap().port();
        let url = format!("https://localhost:{port}/json");
        let ca = ca.to_str().unwrap();
        let (out, err, ok) = exec(
            "curl",
            &["-s", "--cacert", ca, "-w", " %{http_version}", &url],
            20,
        )
        .await;
        assert!(ok, "{err}");
        assert_eq!(out, r#"{"name":"conductor","ok":true} 2"#);
        let (out, err, ok) = exec(
            "curl",
            &[
                "-s",
                "--http1.1",
                "--cacert",
                ca,
                "-w",
                " %{http_version}",
                &url,
            ],
            20,
        )
        .await;
        assert!(ok, "{err}");
        assert_eq!(out, r#"{"name":"conductor","ok":true} 1.1"#);
        // Without the CA, curl refuses the self-signed certificate.
        let (_, _, ok) = exec("curl", &["-s", &url], 20).await;
        assert!(!ok);
    });
}
