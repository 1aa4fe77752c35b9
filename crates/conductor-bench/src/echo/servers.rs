//! One echo server per runtime, each written the way that runtime's users write it: accept in a
//! loop, one task per connection, read into a buffer and write it all back. Besides: the floor
//! (`c_floor.rs`, bare epoll), conductor's per-core mode (`per_core.rs`) and the Python rows
//! (`python.rs`, run by `python3` rather than here).
//!
//! Every handler first waits for the connection to become readable and only then allocates its
//! 64 KiB buffer, so that an idle connection costs what the runtime needs (task, socket,
//! registration) and not a buffer: that is what the idle-memory cell compares. (tokio's
//! `readable()` completes at once on a freshly accepted socket, so its handler peeks instead:
//! before that, every idle tokio connection allocated its buffer and the cell said 12-19 KB.)

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{c_floor, per_core, python};

/// Connections accepted so far (reported to the benchmark through the control channel).
pub static ACCEPTED: AtomicUsize = AtomicUsize::new(0);

/// The read buffer of a connection.
pub const BUF: usize = 64 * 1024;

/// The servers, by the names the command line uses (`--runtime all`).
pub const RUNTIMES: &[&str] = &[
    "c-floor",
    "conductor",
    "conductor-streams",
    "conductor-per-core",
    "tokio",
    "smol",
    "monoio",
    "uvloop",
    "asyncio",
];

/// Those run without `--runtime`: all but asyncio, which no target of the issue names (it is
/// uvloop's baseline) while every row adds most of a minute to the run.
pub fn default_runtimes() -> impl Iterator<Item = &'static str> {
    RUNTIMES.iter().copied().filter(|r| *r != "asyncio")
}

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    per_core: Option<conductor::net::PerCoreServer>,
}

impl Running {
    /// Connections accepted by each loop (empty for the single-loop servers).
    pub fn loop_counts(&self) -> Vec<u64> {
        self.per_core
            .as_ref()
            .map_or_else(Vec::new, |s| s.connections_per_loop())
    }
}

/// Starts the server of `runtime` (a Rust one) on 127.0.0.1, on a thread of its own (several
/// for the per-core row); it runs until the process exits.
pub fn start(runtime: &str) -> Running {
    assert!(
        RUNTIMES.contains(&runtime) && !python::is_python(runtime),
        "unknown runtime {runtime:?}; expected one of {RUNTIMES:?} (the Python ones run in python3)"
    );
    if runtime == "conductor-per-core" {
        let server = per_core::start();
        return Running {
            addr: server.local_addr(),
            per_core: Some(server),
        };
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let runtime = runtime.to_owned();
    std::thread::Builder::new()
        .name("server".into())
        .spawn(move || serve(&runtime, listener))
        .unwrap();
    Running {
        addr,
        per_core: None,
    }
}

/// Runs the echo server of `runtime` on `listener` on this thread, forever.
fn serve(runtime: &str, listener: std::net::TcpListener) {
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    match runtime {
        "c-floor" => c_floor::serve(listener),
        "conductor" => conductor_server(listener, false),
        "conductor-streams" => conductor_server(listener, true),
        "tokio" => tokio_server(listener),
        "smol" => smol_server(listener),
        "monoio" => monoio_server(listener),
        other => unreachable!("{other}"),
    }
}

/// Counts one accepted connection.
pub fn accepted() {
    ACCEPTED.fetch_add(1, Ordering::Relaxed);
}

fn conductor_server(listener: std::net::TcpListener, streams: bool) {
    let rt = conductor::Runtime::new().expect("conductor runtime");
    rt.block_on(async move {
        let listener = conductor::net::TcpListener::from_std(listener).unwrap();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            accepted();
            let _ = stream.set_nodelay(true);
            if streams {
                conductor::spawn(conductor_streams_echo(stream)).detach();
            } else {
                conductor::spawn(conductor_echo(stream)).detach();
            }
        }
    });
}

async fn conductor_echo(mut stream: conductor::net::TcpStream) {
    if stream.readable().await.is_err() {
        return;
    }
    let mut buf = vec![0u8; BUF];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn conductor_streams_echo(stream: conductor::net::TcpStream) {
    let (reader, writer) = stream.into_streams();
    streams_echo(reader, writer).await;
}

/// asyncio's streams: `data = await reader.read(n); writer.write(data); await writer.drain()`.
/// (No wait for readability first: an idle reader holds no buffer by itself.)
pub async fn streams_echo(
    mut reader: conductor::streams::StreamReader,
    mut writer: conductor::streams::StreamWriter,
) {
    loop {
        match reader.read(BUF).await {
            Ok(data) if !data.is_empty() => {
                writer.write(&data);
                if writer.drain().await.is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}

fn tokio_server(listener: std::net::TcpListener) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            accepted();
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                // tokio starts an accepted socket as readable (tokio-rs/tokio#8435): its first
                // `readable()` completes at once with nothing queued. A one-byte peek waits
                // for real data (its WouldBlock clears the preset readiness), so that an idle
                // connection holds no buffer here either.
                if stream.peek(&mut [0u8; 1]).await.is_err() {
                    return;
                }
                let mut buf = vec![0u8; BUF];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
}

fn smol_server(listener: std::net::TcpListener) {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    let ex = smol::LocalExecutor::new();
    smol::block_on(ex.run(async {
        let listener = smol::Async::new(listener).unwrap();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            accepted();
            let _ = stream.get_ref().set_nodelay(true);
            ex.spawn(async move {
                let mut stream = stream;
                if stream.readable().await.is_err() {
                    return;
                }
                let mut buf = vec![0u8; BUF];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            })
            .detach();
        }
    }));
}

fn monoio_server(listener: std::net::TcpListener) {
    use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
    let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .build()
        .expect("monoio runtime");
    rt.block_on(async move {
        let listener = monoio::net::TcpListener::from_std(listener).unwrap();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            accepted();
            let _ = stream.set_nodelay(true);
            monoio::spawn(async move {
                if stream.readable(false).await.is_err() {
                    return;
                }
                let mut buf: Vec<u8> = Vec::with_capacity(BUF);
                loop {
                    let (r, b) = stream.read(buf).await;
                    buf = b;
                    match r {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let (r, b) = stream.write_all(buf).await;
                    buf = b;
                    if r.is_err() {
                        return;
                    }
                    buf.clear();
                }
            });
        }
    });
}
