//! Graceful shutdown: accepting stops, in-flight requests finish, idle keep-alive connections
//! close at once, and what outlives the grace period is cancelled.

mod support;

use std::time::{Duration, Instant};

use conductor::net::TcpStream;
use conductor_http::Server;
use support::{app, closed, listener, read_response, run};

#[test]
fn shutdown_lets_in_flight_requests_finish_and_closes_idle_connections() {
    run(30, async {
        let running = Server::new().start(listener().await, app());
        let addr = running.local_addr().unwrap();
        // An idle keep-alive connection, after one request.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        assert!(read_response(&mut idle).await.ends_with("hello"));
        // A request in flight for 1.5 s.
        let busy = conductor::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /sleep/1500 HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            let resp = read_response(&mut s).await;
            (resp, closed(&mut s).await)
        });
        conductor::sleep(Duration::from_millis(100)).await; // the request has arrived
        let shutdown = conductor::spawn(running.shutdown(Duration::from_secs(10)));
        assert!(closed(&mut idle).await, "the idle connection closes");
        assert!(
            !busy.done(),
            "at once, while the busy request is still in flight"
        );
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no longer accepting"
        );
        let (resp, closed_after) = busy.await.unwrap();
        assert!(
            resp.ends_with("slept 1500"),
            "the in-flight request finished: {resp}"
        );
        assert!(closed_after, "then its connection closed");
        let stats = shutdown.await.unwrap();
        assert_eq!((stats.finished, stats.cancelled), (2, 0));
    });
}

#[test]
fn requests_past_the_grace_period_are_cancelled() {
    run(30, async {
        let running = Server::new().start(listener().await, app());
        let addr = running.local_addr().unwrap();
        let busy = conductor::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /sleep/20000 HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            read_response(&mut s).await
        });
        conductor::sleep(Duration::from_millis(100)).await;
        let start = Instant::now();
        let stats = running.shutdown(Duration::from_millis(300)).await;
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert_eq!((stats.finished, stats.cancelled), (0, 1));
        assert_eq!(
            busy.await.unwrap(),
            "",
            "the connection closed without a response"
        );
    });
}

#[test]
fn cancelling_serve_drains_like_a_shutdown() {
    run(30, async {
        let listener = listener().await;
        let addr = listener.local_addr().unwrap();
        let serving = conductor::spawn(Server::new().serve(listener, app()));
        let busy = conductor::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /sleep/300 HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            read_response(&mut s).await
        });
        conductor::sleep(Duration::from_millis(100)).await;
        serving.cancel();
        let _ = serving.await;
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no longer accepting"
        );
        let resp = busy.await.unwrap();
        assert!(resp.ends_with("slept 300"), "{resp}");
        assert!(
            resp.contains("connection: close"),
            "told the client it is the last: {resp}"
        );
    });
}
