//! `conductor::signal::graceful_shutdown` driving the server: on SIGINT the accept loop stops,
//! the connection in flight finishes within the grace period, and the exit status is 130.

mod support;

use std::time::Duration;

use conductor::net::TcpStream;
use conductor_http::Server;
use support::{app, listener, read_response, run};

#[test]
fn sigint_drains_the_server_within_the_grace_period() {
    run(30, async {
        let listener = listener().await;
        let addr = listener.local_addr().unwrap();
        let shutdown = conductor::signal::graceful_shutdown(
            Duration::from_secs(10),
            move |in_flight| async move {
                Server::new()
                    .in_flight(in_flight)
                    .serve(listener, app())
                    .await
                    .unwrap();
            },
        )
        .unwrap();
        let report = conductor::spawn(shutdown);
        let busy = conductor::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /sleep/400 HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            read_response(&mut s).await
        });
        conductor::sleep(Duration::from_millis(100)).await;
        conductor::signal::raise_signal(conductor::signal::SignalKind::interrupt()).unwrap();
        let report = report.await.unwrap();
        let resp = busy.await.unwrap();
        assert!(
            resp.ends_with("slept 400"),
            "the request in flight finished: {resp}"
        );
        assert_eq!(
            (report.finished, report.cancelled, report.deadline_hit),
            (1, 0, false)
        );
        assert_eq!(report.exit_code(), 130);
    });
}
