//! `start_server`, `open_connection` and `Server`: serving many clients, closing, cancelling,
//! and errors that concern one connection only.

mod support;

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use conductor::Runtime;
use conductor::net::{Server, TcpStream, open_connection, start_server};
use conductor::streams::{ReadError, StreamReader, StreamWriter};

async fn echo(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
    loop {
        let line = reader.readline().await?;
        if line.is_empty() {
            writer.close();
            return writer.wait_closed().await;
        }
        writer.write(&line);
        writer.drain().await?;
    }
}

async fn echo_server() -> Server {
    start_server(echo, "127.0.0.1:0").await.unwrap()
}

#[conductor::test(paused)]
async fn an_echo_server_serves_many_clients_at_once() {
    let server = echo_server().await;
    let addr = server.local_addr().unwrap();
    let clients = (0..50).map(|c| async move {
        let (mut reader, mut writer) = open_connection(addr).await.unwrap();
        for i in 0..20 {
            let line = format!("client {c} line {i}\n");
            writer.write(line.as_bytes());
            writer.drain().await.unwrap();
            assert_eq!(reader.readline().await.unwrap(), line.as_bytes());
        }
        writer.close();
        writer.wait_closed().await.unwrap();
        assert_eq!(reader.read(1).await.unwrap(), b"");
    });
    conductor::gather(clients).await.unwrap();
    server.close();
    server.wait_closed().await;
    assert_eq!(server.connections(), 0);
}

#[conductor::test(paused)]
async fn close_stops_accepting_at_once_and_wait_closed_waits_for_the_handlers() {
    let finished = Rc::new(Cell::new(false));
    let server = start_server(
        {
            let finished = finished.clone();
            move |_reader, _writer| {
                let finished = finished.clone();
                async move {
                    conductor::sleep(Duration::from_secs(5)).await;
                    finished.set(true);
                }
            }
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();
    let _client = TcpStream::connect(addr).await.unwrap();
    while server.connections() == 0 {
        conductor::yield_now().await;
    }
    assert!(server.is_serving());
    server.close();
    assert!(!server.is_serving());
    let err = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    assert!(!finished.get());
    server.wait_closed().await;
    assert!(
        finished.get(),
        "wait_closed returned before the handler finished"
    );
}

#[conductor::test(paused)]
async fn cancelling_serve_forever_closes_the_server() {
    let server = echo_server().await;
    let addr = server.local_addr().unwrap();
    let serving = conductor::spawn({
        let server = server.clone();
        async move { server.serve_forever().await }
    });
    conductor::sleep(Duration::from_secs(1)).await;
    assert!(!serving.is_done());
    serving.cancel();
    assert!(serving.await.unwrap_err().is_cancelled());
    assert!(!server.is_serving());
    assert!(TcpStream::connect(addr).await.is_err());
}

/// Serves a handler that echoes one line, then waits for another and, cancelled there, says
/// goodbye. Once it waits, `stop` runs; returns the lines the client reads until the end of the
/// stream, and whether the goodbye's `drain` failed.
async fn stop_a_waiting_handler(stop: impl FnOnce(&Server)) -> (Vec<Vec<u8>>, bool) {
    let goodbye_failed = Rc::new(Cell::new(false));
    let flag = goodbye_failed.clone();
    let server = start_server(
        move |mut reader: StreamReader, mut writer: StreamWriter| {
            let flag = flag.clone();
            async move {
                let hello = reader.readline().await.unwrap();
                writer.write(&hello);
                if conductor::catch_cancel(reader.readline()).await.is_err() {
                    writer.write(b"server closing\n");
                    flag.set(writer.drain().await.is_err());
                }
            }
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let (mut reader, mut writer) = open_connection(server.local_addr().unwrap()).await.unwrap();
    writer.write(b"hello\n");
    assert_eq!(reader.readline().await.unwrap(), b"hello\n");
    server.close();
    stop(&server);
    server.wait_closed().await;
    assert_eq!(server.connections(), 0);
    let mut lines = Vec::new();
    loop {
        let line = reader.readline().await.unwrap();
        if line.is_empty() {
            return (lines, goodbye_failed.get());
        }
        lines.push(line);
    }
}

#[conductor::test(paused)]
async fn close_clients_cancels_the_handlers_which_may_say_goodbye() {
    let (lines, failed) = stop_a_waiting_handler(Server::close_clients).await;
    assert_eq!(lines, [b"server closing\n"]);
    assert!(!failed);
}

#[conductor::test(paused)]
async fn abort_clients_closes_the_connections_at_once_and_no_goodbye_gets_through() {
    let (lines, failed) = stop_a_waiting_handler(Server::abort_clients).await;
    assert!(lines.is_empty(), "{lines:?}");
    assert!(failed, "the goodbye's drain reported the closed socket");
}

#[conductor::test(paused)]
async fn a_peer_reset_fails_its_own_connection_only() {
    let errors = Rc::new(Cell::new(0));
    let server = start_server(
        {
            let errors = errors.clone();
            move |reader, writer| {
                let errors = errors.clone();
                async move {
                    let r = echo(reader, writer).await;
                    if let Err(e) = &r {
                        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");
                        errors.set(errors.get() + 1);
                    }
                }
            }
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();

    let (mut reader, mut writer) = open_connection(addr).await.unwrap();
    // A client that sends half a line, then resets its connection.
    let mut rude = TcpStream::connect(addr).await.unwrap();
    rude.write_all(b"no newline, and then a reset")
        .await
        .unwrap();
    rude.set_linger(Some(Duration::ZERO)).unwrap();
    drop(rude);
    for _ in 0..10_000 {
        if errors.get() > 0 {
            break;
        }
        conductor::sleep(Duration::from_millis(1)).await;
    }

    writer.write(b"still there?\n");
    assert_eq!(reader.readline().await.unwrap(), b"still there?\n");
    assert!(server.is_serving());
    assert_eq!(errors.get(), 1);
}

#[conductor::test(paused)]
async fn a_handler_error_is_reported_and_the_server_goes_on() {
    let server = start_server(
        |mut reader: StreamReader, mut writer: StreamWriter| async move {
            let line = reader.readuntil(b"\n").await?;
            if line == b"fail\n" {
                return Err(ReadError::LimitOverrun { consumed: 0 });
            }
            writer.write(b"ok\n");
            writer.drain().await?;
            Ok(())
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();
    for line in [&b"fail\n"[..], b"fine\n"] {
        let (mut reader, mut writer) = open_connection(addr).await.unwrap();
        writer.write(line);
        let reply = reader.readline().await.unwrap();
        assert_eq!(reply, if line == b"fail\n" { &b""[..] } else { b"ok\n" });
    }
}

#[conductor::test(paused)]
async fn a_readuntil_limit_overrun_over_the_network_keeps_the_data() {
    let server = start_server(
        |_reader, mut writer: StreamWriter| async move {
            writer.write(&vec![b'a'; 100_000]);
            writer.write(b"\nafter\n");
            writer.drain().await.unwrap();
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let (mut reader, _w) = open_connection(server.local_addr().unwrap()).await.unwrap();
    match reader.readuntil(b"\n").await {
        Err(ReadError::LimitOverrun { consumed }) => assert!(consumed > 65536),
        other => panic!("expected LimitOverrun, got {other:?}"),
    }
    let mut total = 0;
    while total < 100_000 {
        total += reader.read(100_000 - total).await.unwrap().len();
    }
    assert_eq!(reader.readline().await.unwrap(), b"\n");
    assert_eq!(reader.readline().await.unwrap(), b"after\n");
}

#[conductor::test(paused)]
async fn sockets_lists_the_listening_addresses() {
    let server = echo_server().await;
    let sockets = server.sockets();
    assert_eq!(sockets.len(), 1);
    assert_eq!(sockets[0].as_inet(), Some(server.local_addr().unwrap()));
    assert!(format!("{server:?}").contains("serving: true"));
}

/// A loop (real clock, so that a timeout bounds network waits) whose exception handler records
/// each report's message, whether it names the peer, and the error.
fn recording() -> (Runtime, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = log.clone();
    let rt = Runtime::builder()
        .exception_handler(move |ctx| {
            let peer = ctx.detail("peer").is_some();
            let err = ctx.error().map(ToString::to_string).unwrap_or_default();
            l.lock()
                .unwrap()
                .push(format!("{} / peer: {peer} / {err}", ctx.message()));
        })
        .build()
        .unwrap();
    (rt, log)
}

/// Connects, sends a line, and returns the reply (empty when the server closed the connection).
async fn ask(addr: std::net::SocketAddr) -> Vec<u8> {
    let (mut reader, mut writer) = open_connection(addr).await.unwrap();
    writer.write(b"hello\n");
    writer.drain().await.unwrap();
    reader.readline().await.unwrap()
}

#[test]
fn a_handler_that_panics_before_its_future_does_not_stop_the_server() {
    let (rt, log) = recording();
    rt.block_on(async {
        let calls = Rc::new(Cell::new(0));
        let server = start_server(
            move |reader, writer| {
                calls.set(calls.get() + 1);
                if calls.get() == 1 {
                    panic!("the handler's synchronous part failed");
                }
                echo(reader, writer)
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        assert_eq!(ask(addr).await, b"", "the failed connection is closed");
        let second = conductor::timeout(Duration::from_secs(10), ask(addr)).await;
        assert_eq!(
            second.expect("the second connection was never served"),
            b"hello\n"
        );
        assert!(server.is_serving());
    });
    assert_eq!(
        *log.lock().unwrap(),
        [
            "Unhandled error in connection handler / peer: true / panic: the handler's synchronous part failed"
        ]
    );
}

#[test]
fn a_handler_future_that_panics_or_fails_is_reported_and_the_server_goes_on() {
    let (rt, log) = recording();
    rt.block_on(async {
        let server = start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                let line = reader.readline().await?;
                match &line[..] {
                    b"panic\n" => panic!("the handler's future failed"),
                    b"fail\n" => Err(io::Error::other("refused")),
                    _ => {
                        writer.write(b"ok\n");
                        writer.drain().await
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        for line in [&b"panic\n"[..], b"fail\n", b"fine\n"] {
            let (mut reader, mut writer) = open_connection(addr).await.unwrap();
            writer.write(line);
            let reply = conductor::timeout(Duration::from_secs(10), reader.readline())
                .await
                .expect("the server answers")
                .unwrap();
            assert_eq!(reply, if line == b"fine\n" { &b"ok\n"[..] } else { b"" });
        }
        assert!(server.is_serving());
        assert_eq!(server.connections(), 0);
    });
    assert_eq!(
        *log.lock().unwrap(),
        [
            "Unhandled error in connection handler / peer: true / panic: the handler's future failed",
            "Unhandled error in connection handler / peer: true / error: refused",
        ]
    );
}

#[conductor::test(paused)]
async fn is_serving_is_false_once_the_accept_loop_is_gone() {
    let server = echo_server().await;
    let addr = server.local_addr().unwrap();
    conductor::yield_now().await;
    let accept = conductor::all_tasks()
        .into_iter()
        .find(|t| t.name() == "Server accept")
        .expect("the accept task runs");
    accept.cancel();
    conductor::yield_now().await;
    conductor::yield_now().await;
    assert!(accept.is_done());
    assert!(!server.is_serving());
    // Nobody accepts any more, so the listening socket is closed too.
    assert!(TcpStream::connect(addr).await.is_err());
    conductor::timeout(Duration::from_secs(10), server.wait_closed())
        .await
        .expect("wait_closed sees the server closed");
}
