//! Every limit against a hostile client: an oversized head (431), a body announced too large
//! (413, before reading it), a chunked body past the limit (413), slowloris (408), a silent
//! connection, an idle keep-alive, a slow handler (503), a panicking one (500), and the
//! connection limit (backpressure, and 503 for 10,000 idle keep-alive connections).
//!
//! The deadlines run on the real clock, short: over loopback sockets a paused clock may jump
//! to the next timer while the kernel still carries a connect or a write between the two
//! sides. Each check is a lower bound (a timer never fires early) and a generous upper one.

mod support;

use std::time::Duration;

use conductor::net::TcpStream;
use conductor_http::Server;
use support::{app, closed, connect, listener, read_response, run};

/// `elapsed` is at least `limit`, and not absurdly more.
fn about(elapsed: Duration, limit: Duration) {
    // Timers fire on the loop's 1 ms ticks.
    assert!(
        elapsed + Duration::from_millis(2) >= limit,
        "{elapsed:?} is before the {limit:?} limit"
    );
    assert!(
        elapsed < limit + Duration::from_secs(5),
        "{elapsed:?} is long after {limit:?}"
    );
}

#[test]
fn a_head_over_the_header_limit_gets_431() {
    run(30, async {
        let running = Server::new()
            .max_header_size(8 * 1024)
            .start(listener().await, app());
        let mut s = connect(&running).await;
        let big = "a".repeat(100 * 1024);
        let req = format!("GET / HTTP/1.1\r\nhost: x\r\nx-big: {big}\r\n\r\n");
        let _ = s.write_all(req.as_bytes()).await; // the server may close before reading it all
        let resp = read_response(&mut s).await;
        assert!(
            resp.starts_with("HTTP/1.1 431 Request Header Fields Too Large"),
            "{resp}"
        );
    });
}

/// The status of a `GET /` with `n` headers (host included).
async fn status_with_headers(running: &conductor_http::Running, n: usize) -> String {
    let mut s = connect(running).await;
    let extra: String = (1..n).map(|i| format!("x-h{i}: v\r\n")).collect();
    let req = format!("GET / HTTP/1.1\r\nhost: x\r\n{extra}\r\n");
    let _ = s.write_all(req.as_bytes()).await;
    let resp = read_response(&mut s).await;
    resp.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn more_headers_than_the_limit_get_431_by_default_and_when_set() {
    run(30, async {
        let by_default = Server::new().start(listener().await, app());
        assert_eq!(
            status_with_headers(&by_default, 100).await,
            "HTTP/1.1 200 OK"
        );
        assert_eq!(
            status_with_headers(&by_default, 101).await,
            "HTTP/1.1 431 Request Header Fields Too Large"
        );
        let five = Server::new().max_headers(5).start(listener().await, app());
        assert_eq!(status_with_headers(&five, 5).await, "HTTP/1.1 200 OK");
        assert_eq!(
            status_with_headers(&five, 6).await,
            "HTTP/1.1 431 Request Header Fields Too Large"
        );
        let many = Server::new()
            .max_headers(300)
            .start(listener().await, app());
        assert_eq!(status_with_headers(&many, 300).await, "HTTP/1.1 200 OK");
    });
}

#[test]
fn a_body_announced_over_the_limit_gets_413_before_it_is_read() {
    run(30, async {
        let running = Server::new()
            .max_body_size(1024)
            .start(listener().await, app());
        let mut s = connect(&running).await;
        // A 1 GB body is announced; only 64 KiB are ever sent.
        let head = "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000\r\n\r\n";
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&vec![b'x'; 64 * 1024]).await.unwrap();
        let resp = read_response(&mut s).await;
        assert!(resp.starts_with("HTTP/1.1 413 Payload Too Large"), "{resp}");
        assert!(resp.contains("connection: close"), "{resp}");
        assert!(
            resp.contains("over the server's limit of 1024 bytes"),
            "{resp}"
        );
        assert!(
            closed(&mut s).await,
            "the connection ends: the body is never read"
        );
    });
}

#[test]
fn a_chunked_body_past_the_limit_fails_with_413() {
    run(30, async {
        let running = Server::new()
            .max_body_size(1024)
            .start(listener().await, app());
        let mut s = connect(&running).await;
        let mut req =
            b"POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..10 {
            req.extend_from_slice(b"400\r\n");
            req.extend_from_slice(&[b'y'; 1024]);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
        let _ = s.write_all(&req).await;
        let resp = read_response(&mut s).await;
        assert!(resp.starts_with("HTTP/1.1 413 Payload Too Large"), "{resp}");
        assert!(
            resp.contains("larger than the server's limit of 1024 bytes"),
            "{resp}"
        );
    });
}

#[test]
fn slowloris_gets_408_when_the_head_is_not_whole_in_time() {
    run(30, async {
        let running = Server::new()
            .header_read_timeout(Duration::from_secs(1))
            .start(listener().await, app());
        let s = connect(&running).await;
        let (mut read, mut write) = s.into_split();
        let start = std::time::Instant::now();
        let drip = conductor::spawn(async move {
            use futures_lite::AsyncWriteExt;
            // One byte every 100 ms: never a whole head.
            for b in b"GET / HTTP/1.1\r\nhost: x\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
                if write.write_all(&[*b]).await.is_err() {
                    return;
                }
                conductor::sleep(Duration::from_millis(100)).await;
            }
        });
        let mut resp = Vec::new();
        let mut buf = [0; 512];
        loop {
            use futures_lite::AsyncReadExt;
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => resp.extend_from_slice(&buf[..n]),
            }
        }
        let resp = String::from_utf8_lossy(&resp);
        assert!(
            resp.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{resp}"
        );
        about(start.elapsed(), Duration::from_secs(1));
        assert_eq!(running.header_timeouts(), 1);
        drip.cancel();
    });
}

#[test]
fn a_connection_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    run(30, async {
        let running = Server::new()
            .header_read_timeout(Duration::from_millis(500))
            .start(listener().await, app());
        let start = std::time::Instant::now();
        let mut s = connect(&running).await;
        let mut b = [0; 64];
        assert_eq!(
            s.read(&mut b).await.unwrap_or(0),
            0,
            "closed without a response"
        );
        about(start.elapsed(), Duration::from_millis(500));
        assert_eq!(running.header_timeouts(), 0, "nothing was begun: no 408");
    });
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    run(30, async {
        let running = Server::new()
            .keep_alive_timeout(Duration::from_millis(800))
            .start(listener().await, app());
        let mut s = connect(&running).await;
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        assert!(read_response(&mut s).await.starts_with("HTTP/1.1 200 OK"));
        conductor::sleep(Duration::from_millis(500)).await; // idle, but under the limit
        // The idle time counts from the last response, which comes after this instant.
        let before_last = std::time::Instant::now();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        assert!(
            read_response(&mut s).await.starts_with("HTTP/1.1 200 OK"),
            "still open"
        );
        assert!(closed(&mut s).await);
        about(before_last.elapsed(), Duration::from_millis(800));
        assert_eq!(running.connections(), 0);
    });
}

#[test]
fn a_handler_slower_than_the_request_timeout_gets_503() {
    run(30, async {
        let running = Server::new()
            .request_timeout(Duration::from_millis(500))
            .start(listener().await, app());
        let addr = running.local_addr().unwrap();
        let start = std::time::Instant::now();
        let resp = support::get(addr, "/sleep/20000").await;
        assert!(
            resp.starts_with("HTTP/1.1 503 Service Unavailable"),
            "{resp}"
        );
        about(start.elapsed(), Duration::from_millis(500));
        let resp = support::get(addr, "/sleep/10").await;
        assert!(resp.ends_with("slept 10"), "under the limit: {resp}");
    });
}

#[test]
fn a_panicking_handler_gets_500_and_the_connection_goes_on() {
    run(30, async {
        let app = conductor_http::Router::new()
            .get("/panic", |_req| async { panic!("the handler broke") })
            .get("/", |_req| async {
                conductor_http::text_response(http::StatusCode::OK, "fine")
            });
        let running = Server::new().start(listener().await, app);
        let mut s = connect(&running).await;
        s.write_all(b"GET /panic HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let resp = read_response(&mut s).await;
        assert!(
            resp.starts_with("HTTP/1.1 500 Internal Server Error"),
            "{resp}"
        );
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        assert!(read_response(&mut s).await.ends_with("fine"));
    });
}

#[test]
fn at_the_connection_limit_accepting_waits_for_a_free_place() {
    run(30, async {
        let running = Server::new()
            .max_connections(5)
            .start(listener().await, app());
        let addr = running.local_addr().unwrap();
        let mut served = Vec::new();
        for _ in 0..5 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            assert!(read_response(&mut s).await.ends_with("hello"));
            served.push(s); // kept open: keep-alive
        }
        // The sixth connects (the kernel's backlog) but is not served while five are open.
        let mut sixth = TcpStream::connect(addr).await.unwrap();
        sixth
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let waited =
            conductor::timeout(Duration::from_millis(300), read_response(&mut sixth)).await;
        assert!(waited.is_err(), "not served at the limit");
        assert_eq!(running.connections(), 5);
        drop(served.pop());
        let resp = conductor::timeout(Duration::from_secs(10), read_response(&mut sixth))
            .await
            .unwrap();
        assert!(
            resp.ends_with("hello"),
            "served once a place was free: {resp}"
        );
        assert!(running.connections() <= 5);
    });
}

/// Raises the soft limit on open files to the hard one (10,000 client sockets plus the
/// server's).
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local rlimit.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    lim.rlim_cur
}

#[test]
fn ten_thousand_idle_keep_alive_connections_stay_within_the_connection_limit() {
    const CLIENTS: usize = 10_000;
    const LIMIT: usize = 256;
    let fds = raise_fd_limit();
    if fds < (CLIENTS + LIMIT + 512) as u64 {
        eprintln!("SKIPPED: the open-file limit is {fds}, under {CLIENTS} connections");
        return;
    }
    run(120, async {
        let running = Server::new()
            .max_connections(LIMIT)
            .reject_when_full(true)
            .start(listener().await, app());
        let addr = running.local_addr().unwrap();
        let mut open = Vec::with_capacity(CLIENTS);
        let (mut ok, mut busy) = (0, 0);
        for batch in 0..CLIENTS / 500 {
            let clients = (0..500).map(|_| {
                conductor::spawn(async move {
                    let mut s = TcpStream::connect(addr).await.ok()?;
                    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
                        .await
                        .ok()?;
                    let resp = read_response(&mut s).await;
                    Some((resp, s))
                })
            });
            for c in clients.collect::<Vec<_>>() {
                match c.await.unwrap() {
                    Some((resp, s)) if resp.starts_with("HTTP/1.1 200") => {
                        ok += 1;
                        open.push(s); // stays open and idle
                    }
                    Some((resp, _)) if resp.starts_with("HTTP/1.1 503") => busy += 1,
                    Some((resp, _)) => panic!("batch {batch}: unexpected {resp:?}"),
                    None => busy += 1, // refused before a response: also over the limit
                }
            }
            assert!(
                running.connections() <= LIMIT,
                "{} open",
                running.connections()
            );
        }
        assert_eq!(ok, LIMIT, "exactly the limit is served and kept");
        assert_eq!(ok + busy, CLIENTS);
        assert_eq!(running.connections(), LIMIT);
        drop(open);
        let stats = running.shutdown(Duration::from_secs(5)).await;
        assert_eq!(stats.cancelled, 0);
    });
}
