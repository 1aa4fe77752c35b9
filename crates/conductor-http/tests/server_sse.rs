//! Server-Sent Events and streamed bodies: each event reaches the client as it is produced.

mod support;

use std::time::Duration;

use conductor_http::Router;
use conductor_http::sse::{Event, sse_response};
use support::{connect, exec, listener, run};

fn events_app() -> Router {
    Router::new().get("/events", |_req| async {
        let ticks = futures_util::stream::unfold(1, |i| async move {
            if i > 3 {
                return None;
            }
            conductor::sleep(Duration::from_millis(50)).await;
            Some((
                Event::data(format!("tick {i}"))
                    .event("tick")
                    .id(i.to_string()),
                i + 1,
            ))
        });
        sse_response(ticks)
    })
}

#[test]
fn curl_receives_a_stream_of_server_sent_events() {
    run(30, async {
        let running = conductor_http::Server::new().start(listener().await, events_app());
        let url = format!("http://{}/events", running.local_addr().unwrap());
        let (out, err, ok) = exec("curl", &["-sN", "-i", &url], 20).await;
        assert!(ok, "{err}");
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("content-type: text/event-stream"), "{head}");
        assert!(
            head.contains("transfer-encoding: chunked"),
            "streamed: {head}"
        );
        assert_eq!(
            body,
            "event: tick\nid: 1\ndata: tick 1\n\nevent: tick\nid: 2\ndata: tick 2\n\nevent: tick\nid: 3\ndata: tick 3\n\n"
        );
    });
}

#[test]
fn events_arrive_one_by_one_not_at_the_end() {
    run(30, async {
        let app = Router::new().get("/slow", |_req| async {
            let ticks = futures_util::stream::unfold(0, |i| async move {
                (i < 2).then_some(())?;
                if i == 1 {
                    conductor::sleep(Duration::from_secs(60)).await; // the second never comes in time
                }
                Some((Event::data("first"), i + 1))
            });
            sse_response(ticks)
        });
        let running = conductor_http::Server::new().start(listener().await, app);
        let mut s = connect(&running).await;
        s.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0; 1024];
        while !String::from_utf8_lossy(&got).contains("data: first\n\n") {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
    });
}
