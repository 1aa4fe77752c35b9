//! A TCP server that shuts down gracefully on Ctrl-C (SIGINT) or SIGTERM: it stops accepting,
//! gives the requests in flight a grace period, cancels the ones still running, and reports the
//! conventional exit status (130 after SIGINT, 143 after SIGTERM).
//!
//! Run as is, it plays both sides: three clients send requests of 100 ms, 200 ms and 5 s, the
//! program sends itself SIGINT after 50 ms, and the grace period is 500 ms. Run with `--serve`,
//! it serves until you press Ctrl-C and exits with the status the report gives:
//!
//! ```sh
//! cargo run --example graceful_server -- --serve   # then: printf 'sleep 3000\n' | nc 127.0.0.1 <port>
//! ```
//!
//! (No Python program beside it: asyncio's version needs `loop.add_signal_handler` and a
//! server's `close`/`wait_closed`, which `conductor::signal::graceful_shutdown` packages.)

use std::time::Duration;

use conductor::net::{TcpListener, TcpStream};
use conductor::signal::{ShutdownReport, SignalKind, graceful_shutdown, raise_signal};

const GRACE: Duration = Duration::from_millis(500);

/// One request: a line `sleep <ms>`, answered `done after <ms> ms` once the "work" is done.
async fn handle(stream: TcpStream) {
    let (mut reader, mut writer) = stream.into_streams();
    let Ok(line) = reader.readline().await else {
        return;
    };
    let ms: u64 = String::from_utf8_lossy(&line)
        .trim()
        .strip_prefix("sleep ")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let work = conductor::sleep(Duration::from_millis(ms));
    if let Err(cancelled) = conductor::catch_cancel(work).await {
        println!("server: the {ms} ms request is cancelled at the deadline");
        cancelled.reraise::<()>().await; // the connection closes as the task ends
    }
    writer.write(format!("done after {ms} ms\n").as_bytes());
    let _ = writer.wait_closed().await;
}

/// Serves on `listener` until a signal; every request is tracked for the shutdown.
async fn serve(listener: TcpListener) -> ShutdownReport {
    let shutdown = graceful_shutdown(GRACE, move |in_flight| async move {
        let accept = async {
            loop {
                if let Ok((stream, _)) = listener.accept().await {
                    in_flight.spawn(handle(stream)).detach();
                }
            }
        };
        if conductor::catch_cancel(accept).await.is_err() {
            println!(
                "server: signal received, no longer accepting; {} requests in flight",
                in_flight.len()
            );
        }
        // The listener is dropped here: new connections are refused from now on.
    });
    shutdown
        .expect("installing the SIGINT/SIGTERM handlers")
        .await
}

async fn client(port: u16, name: &str, ms: u64) {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut reader, mut writer) = stream.into_streams();
    writer.write(format!("sleep {ms}\n").as_bytes());
    writer.drain().await.unwrap();
    match reader.readline().await {
        Ok(reply) if !reply.is_empty() => {
            println!("client {name}: {}", String::from_utf8_lossy(&reply).trim())
        }
        _ => println!("client {name}: connection closed without a reply"),
    }
}

#[conductor::main]
pub async fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    if std::env::args().any(|a| a == "--serve") {
        println!("serving on 127.0.0.1:{port}; Ctrl-C to stop");
        let report = serve(listener).await;
        println!("{report:?}");
        report.exit();
    }

    let clients = [("A", 100), ("B", 200), ("C", 5000)]
        .map(|(name, ms)| conductor::spawn(client(port, name, ms)));
    // "Ctrl-C" after 50 ms. `serve` has installed the SIGINT handler by then (at its first
    // poll, just below), so the signal does not kill the process.
    conductor::call_later(Duration::from_millis(50), || {
        raise_signal(SignalKind::interrupt()).unwrap();
    });
    let report = serve(listener).await;
    for c in clients {
        c.await.unwrap();
    }
    println!(
        "shutdown after {}: {} finished, {} cancelled, deadline hit: {}; exit status {}",
        report.signal.map_or("no signal".into(), |s| s.to_string()),
        report.finished,
        report.cancelled,
        report.deadline_hit,
        report.exit_code()
    );
    match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(_) => println!("a new client: accepted (unexpected)"),
        Err(e) => println!("a new client: {:?}", e.kind()),
    }
}
