//! `!Send` handlers are first class: `Rc<RefCell<_>>` state and conductor's own sockets held
//! across awaits, in a Router and in `serve_per_core` (one service per loop).

mod support;

use std::cell::RefCell;
use std::rc::Rc;

use conductor_http::{Server, handler_fn, serve_per_core, text_response};
use http::StatusCode;
use support::{get, listener, run};

#[test]
fn a_handler_holds_rc_state_and_a_conductor_socket_across_awaits() {
    run(30, async {
        let log: Rc<RefCell<Vec<String>>> = Rc::default();
        let state = log.clone();
        let app = handler_fn(move |req| {
            let state = state.clone();
            async move {
                // A conductor UDP socket (!Send) used across an await, and the Rc'd log.
                let a = conductor::net::UdpSocket::bind("127.0.0.1:0")
                    .await
                    .unwrap();
                let b = conductor::net::UdpSocket::bind("127.0.0.1:0")
                    .await
                    .unwrap();
                a.send_to(req.uri().path().as_bytes(), b.local_addr().unwrap())
                    .await
                    .unwrap();
                let mut buf = [0; 64];
                let (n, _) = b.recv_from(&mut buf).await.unwrap();
                let path = String::from_utf8_lossy(&buf[..n]).into_owned();
                state.borrow_mut().push(path.clone());
                text_response(StatusCode::OK, format!("{} seen", state.borrow().len()))
            }
        });
        let running = Server::new().start(listener().await, app);
        let addr = running.local_addr().unwrap();
        assert!(get(addr, "/a").await.ends_with("1 seen"));
        assert!(get(addr, "/b").await.ends_with("2 seen"));
        assert_eq!(*log.borrow(), ["/a", "/b"]);
    });
}

#[test]
fn serve_per_core_builds_one_not_send_service_per_loop() {
    let server = serve_per_core(2, "127.0.0.1:0".parse().unwrap(), Server::new(), || {
        let hits = Rc::new(std::cell::Cell::new(0u32));
        handler_fn(move |_req| {
            hits.set(hits.get() + 1);
            let n = hits.get();
            async move { text_response(StatusCode::OK, format!("hit {n}")) }
        })
    })
    .unwrap();
    let addr = server.local_addr();
    for _ in 0..20 {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        assert!(
            resp.starts_with("HTTP/1.1 200 OK") && resp.contains("hit "),
            "{resp}"
        );
    }
    server.shutdown();
}
