//! The WebSocket client (`ClientSession::ws_connect`) against conductor's own server and
//! Python's aiohttp server: text, binary and JSON messages, ping/pong, subprotocols, close
//! codes both ways, a refused handshake, and the heartbeat (a missed pong on the paused clock,
//! a kept-alive connection on the real one).

#[path = "support/client.rs"]
mod client_support;
mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use client_support::{AIOHTTP_PRELUDE, python_server};
use conductor_http::client::{ClientSession, ErrorKind, TimeoutKind};
use conductor_http::ws::{self, CloseFrame, Message};
use conductor_http::{HttpRequest, Server, handler_fn};
use futures_util::StreamExt;
use support::{listener, paused, run};

/// conductor's WebSocket server: `/echo` (text and binary back, pings counted), `/silent`
/// (reads nothing, so answers no ping), `/close` (closes with 4000 "bye" on the first
/// message); anything else is a plain request (400).
async fn ws_server(pings: Rc<Cell<usize>>) -> (String, conductor_http::Running) {
    let app = handler_fn(move |mut req: HttpRequest| {
        let pings = pings.clone();
        async move {
            let path = req.uri().path().to_owned();
            let (response, upgrade) = match ws::upgrade(&mut req) {
                Ok(pair) => pair,
                Err(refusal) => return refusal,
            };
            conductor::spawn(async move {
                let Ok(mut socket) = upgrade.await else {
                    return;
                };
                match path.as_str() {
                    "/silent" => conductor::sleep(Duration::from_secs(3600)).await,
                    "/close" => {
                        let _ = socket.next().await;
                        let frame = CloseFrame {
                            code: 4000.into(),
                            reason: "bye".into(),
                        };
                        let _ = socket.close(Some(frame)).await;
                        while let Some(Ok(_)) = socket.next().await {}
                    }
                    _ => {
                        while let Some(Ok(msg)) = socket.next().await {
                            match msg {
                                Message::Ping(_) => pings.set(pings.get() + 1),
                                m @ (Message::Text(_) | Message::Binary(_)) => {
                                    let _ = socket.send(m).await;
                                }
                                _ => {}
                            }
                        }
                    }
                }
            })
            .detach();
            response
        }
    });
    let running = Server::new().start(listener().await, app);
    let base = format!("ws://{}", running.local_addr().unwrap());
    (base, running)
}

#[test]
fn text_binary_json_and_a_clean_close_against_conductors_server() {
    run(20, async {
        let (base, _running) = ws_server(Rc::default()).await;
        let session = ClientSession::new();
        let mut ws = session.ws_connect(format!("{base}/echo")).await.unwrap();
        assert!(!ws.closed());
        assert_eq!(ws.close_code(), None);

        ws.send_str("hello").await.unwrap();
        assert_eq!(ws.receive_str().await.unwrap(), "hello");
        ws.send_bytes(vec![0u8, 1, 2]).await.unwrap();
        match ws.receive().await {
            Some(Ok(Message::Binary(b))) => assert_eq!(&b[..], &[0, 1, 2]),
            other => panic!("expected the binary echo, got {other:?}"),
        }
        ws.send_json(&serde_json::json!({"n": 1})).await.unwrap();
        let v: serde_json::Value = ws.receive_json().await.unwrap();
        assert_eq!(v["n"], 1);

        // With autoping the pong of our ping never comes out of receive: the echo does.
        ws.ping("are you there").await.unwrap();
        ws.send_str("after the ping").await.unwrap();
        assert_eq!(ws.receive_str().await.unwrap(), "after the ping");

        ws.close().await.unwrap();
        assert!(ws.closed());
        assert_eq!(ws.close_code(), Some(1000));
        assert!(ws.receive().await.is_none());
        let err = ws.send_str("too late").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert!(err.to_string().contains("/echo"), "{err}");
    });
}

#[test]
fn without_autoping_the_pong_is_a_message() {
    run(20, async {
        let (base, _running) = ws_server(Rc::default()).await;
        let session = ClientSession::new();
        let mut ws = session
            .ws_connect(format!("{base}/echo"))
            .autoping(false)
            .await
            .unwrap();
        ws.ping("payload").await.unwrap();
        match ws.receive().await {
            Some(Ok(Message::Pong(p))) => assert_eq!(&p[..], b"payload"),
            other => panic!("expected the pong, got {other:?}"),
        }
        ws.close().await.unwrap();
    });
}

#[test]
fn the_servers_close_code_is_the_close_code() {
    run(20, async {
        let (base, _running) = ws_server(Rc::default()).await;
        let session = ClientSession::new();
        let mut ws = session.ws_connect(format!("{base}/close")).await.unwrap();
        ws.send_str("close, please").await.unwrap();
        match ws.receive().await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 4000);
                assert_eq!(frame.reason.as_str(), "bye");
            }
            other => panic!("expected the server's Close frame, got {other:?}"),
        }
        assert_eq!(ws.close_code(), Some(4000));
        assert!(
            ws.receive().await.is_none(),
            "the stream ends after the close"
        );
        assert!(ws.closed());
    });
}

#[test]
fn a_refused_handshake_names_the_url_and_the_status() {
    run(20, async {
        let app = handler_fn(|_req: HttpRequest| async {
            conductor_http::status_response(http::StatusCode::NOT_FOUND)
        });
        let running = Server::new().start(listener().await, app);
        let url = format!("ws://{}/nowhere", running.local_addr().unwrap());
        let err = ClientSession::new().ws_connect(&url).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WebSocket);
        assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
        let msg = err.to_string();
        assert!(msg.contains("/nowhere") && msg.contains("404"), "{msg}");

        let refused = ClientSession::new()
            .ws_connect("ws://127.0.0.1:1/")
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Connect);
        let bad = ClientSession::new()
            .ws_connect("ftp://x/")
            .await
            .unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::InvalidUrl);
    });
}

#[test]
fn a_missed_pong_closes_with_1006_after_heartbeat_and_a_half() {
    paused(async {
        let (base, _running) = ws_server(Rc::default()).await;
        let session = ClientSession::new();
        let mut ws = session
            .ws_connect(format!("{base}/silent"))
            .heartbeat(Duration::from_secs(10))
            .await
            .unwrap();
        let start = conductor::now();
        let err = match ws.receive().await {
            Some(Err(e)) => e,
            other => panic!("expected the heartbeat's error, got {other:?}"),
        };
        // The ping after 10 s of silence, then 5 s (half the heartbeat) for its pong.
        assert_eq!(conductor::now() - start, Duration::from_secs(15));
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(TimeoutKind::Heartbeat(Duration::from_secs(10)))
        );
        assert!(err.is_timeout());
        assert!(err.to_string().contains("heartbeat"), "{err}");
        assert_eq!(ws.close_code(), Some(1006));
        assert!(ws.closed());
        assert!(ws.receive().await.is_none());
    });
}

#[test]
fn the_heartbeat_pings_a_live_server_and_keeps_the_connection() {
    run(30, async {
        let pings = Rc::new(Cell::new(0));
        let (base, _running) = ws_server(pings.clone()).await;
        let session = ClientSession::new();
        let mut ws = session
            .ws_connect(format!("{base}/echo"))
            .heartbeat(Duration::from_millis(400))
            .await
            .unwrap();
        // 2 s of silence from the user: the heartbeat pings every 400 ms and the server's
        // pongs (tungstenite answers them) keep the connection open.
        let quiet = conductor::timeout(Duration::from_secs(2), ws.receive()).await;
        assert!(quiet.is_err(), "no message came: {quiet:?}");
        assert!(!ws.closed());
        assert!(pings.get() >= 2, "the server saw {} pings", pings.get());
        ws.send_str("still here").await.unwrap();
        assert_eq!(ws.receive_str().await.unwrap(), "still here");
        ws.close().await.unwrap();
        assert_eq!(ws.close_code(), Some(1000));
    });
}

const AIOHTTP_WS: &str = r#"
async def ws_handler(request):
    ws = web.WebSocketResponse(protocols=["chat", "superchat"])
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            if msg.data == "close":
                await ws.close(code=4001, message=b"asked to")
            else:
                await ws.send_str("echo: " + msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data[::-1])
    return ws

async def main():
    app = web.Application()
    app.add_routes([web.get("/ws", ws_handler)])
    await serve(app)

asyncio.run(main())
"#;

#[test]
fn against_pythons_aiohttp_server() {
    run(60, async {
        let (_child, base) = python_server(&format!("{AIOHTTP_PRELUDE}{AIOHTTP_WS}")).await;
        let url = format!("{}/ws", base.replacen("http", "ws", 1));
        let session = ClientSession::new();

        let mut ws = session
            .ws_connect(&url)
            .protocols(["superchat"])
            .heartbeat(Duration::from_millis(400))
            .await
            .unwrap();
        assert_eq!(ws.protocol(), Some("superchat"));
        ws.send_str("hello").await.unwrap();
        assert_eq!(ws.receive_str().await.unwrap(), "echo: hello");
        ws.send_bytes(vec![1u8, 2, 3]).await.unwrap();
        match ws.receive().await {
            Some(Ok(Message::Binary(b))) => assert_eq!(&b[..], &[3, 2, 1]),
            other => panic!("expected the reversed bytes, got {other:?}"),
        }
        // aiohttp answers the heartbeat's pings: 1.5 s of quiet keeps the connection.
        let quiet = conductor::timeout(Duration::from_millis(1500), ws.receive()).await;
        assert!(quiet.is_err(), "no message came: {quiet:?}");
        assert!(!ws.closed());
        // The server closes with its own code.
        ws.send_str("close").await.unwrap();
        match ws.receive().await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 4001);
                assert_eq!(frame.reason.as_str(), "asked to");
            }
            other => panic!("expected aiohttp's Close frame, got {other:?}"),
        }
        assert_eq!(ws.close_code(), Some(4001));
        assert!(ws.receive().await.is_none());

        // The client closes: aiohttp answers with 1000.
        let mut ws = session.ws_connect(&url).await.unwrap();
        assert_eq!(ws.protocol(), None);
        ws.send_str("one").await.unwrap();
        assert_eq!(ws.receive_str().await.unwrap(), "echo: one");
        ws.close_with(1000, "done").await.unwrap();
        assert_eq!(ws.close_code(), Some(1000));

        // A relative URL joins the base URL.
        let session = ClientSession::builder().base_url(&base).build().unwrap();
        let mut ws = session.ws_connect("/ws").await.unwrap();
        ws.send_str("relative").await.unwrap();
        assert_eq!(ws.receive_str().await.unwrap(), "echo: relative");
        ws.close().await.unwrap();
    });
}

#[test]
fn the_socket_is_a_stream_of_messages() {
    run(20, async {
        let (base, _running) = ws_server(Rc::default()).await;
        let mut ws = ClientSession::new()
            .ws_connect(format!("{base}/echo"))
            .await
            .unwrap();
        for i in 0..3 {
            ws.send_str(format!("m{i}")).await.unwrap();
        }
        let got: Vec<String> = (&mut ws)
            .take(3)
            .map(|m| m.unwrap().into_text().unwrap().as_str().to_owned())
            .collect()
            .await;
        assert_eq!(got, ["m0", "m1", "m2"]);
        ws.close().await.unwrap();
    });
}
