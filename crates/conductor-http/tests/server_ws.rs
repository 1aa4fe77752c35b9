//! WebSocket upgrade with Python's `websockets` as the client: text and binary echo, the close
//! code; and a request that is not a handshake.

mod support;

use conductor_http::handler_fn;
use support::{exec, get, listener, run, ws_echo as echo};

const CLIENT: &str = r#"
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        await ws.send("hello")
        print(await ws.recv())
        await ws.send(b"\x00\x01\x02")
        print(list(await ws.recv()))
    print("closed", ws.close_code)
asyncio.run(asyncio.wait_for(main(), 10))
"#;

#[test]
fn pythons_websockets_client_gets_its_messages_echoed() {
    run(60, async {
        let running = conductor_http::Server::new().start(listener().await, handler_fn(echo));
        let url = format!("ws://{}/ws", running.local_addr().unwrap());
        let (out, err, ok) = exec("python3", &["-c", CLIENT, &url], 40).await;
        assert!(ok, "{out}{err}");
        assert_eq!(out, "echo: hello\n[0, 1, 2]\nclosed 1000\n");
    });
}

#[test]
fn a_plain_request_to_a_websocket_route_gets_400() {
    run(30, async {
        let running = conductor_http::Server::new().start(listener().await, handler_fn(echo));
        let resp = get(running.local_addr().unwrap(), "/ws").await;
        assert!(resp.starts_with("HTTP/1.1 400 Bad Request"), "{resp}");
    });
}
