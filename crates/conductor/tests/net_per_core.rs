//! `serve_per_core`: one loop per core, each with its own `SO_REUSEPORT` listener.

use std::io::{Read, Write};
use std::net::TcpStream;

use conductor::net::serve_per_core;
use conductor::streams::{StreamReader, StreamWriter};

async fn echo_then_hold(mut reader: StreamReader, mut writer: StreamWriter) -> std::io::Result<()> {
    let line = reader.readline().await?;
    writer.write(&line);
    writer.drain().await?;
    reader.read(1).await?; // until the client goes
    Ok(())
}

fn connect_and_check(addr: std::net::SocketAddr, i: usize) -> TcpStream {
    let mut c = TcpStream::connect(addr).unwrap();
    let line = format!("connection {i}\n");
    c.write_all(line.as_bytes()).unwrap();
    let mut reply = vec![0; line.len()];
    c.read_exact(&mut reply).unwrap();
    assert_eq!(reply, line.as_bytes());
    c
}

#[test]
fn connections_spread_over_the_loops() {
    let server = serve_per_core(2, "127.0.0.1:0".parse().unwrap(), echo_then_hold).unwrap();
    let addr = server.local_addr();
    let conns: Vec<_> = (0..200).map(|i| connect_and_check(addr, i)).collect();
    let per_loop = server.connections_per_loop();
    assert_eq!(per_loop.iter().sum::<u64>(), 200, "{per_loop:?}");
    // The kernel hashes each connection to a listener: about half each, never all on one.
    assert!(per_loop.iter().all(|&n| n >= 40), "{per_loop:?}");
    drop(conns);
    server.shutdown().unwrap();
}

#[test]
fn shutdown_closes_listeners_and_open_connections() {
    let server = serve_per_core(2, "127.0.0.1:0".parse().unwrap(), echo_then_hold).unwrap();
    let addr = server.local_addr();
    let mut held: Vec<_> = (0..10).map(|i| connect_and_check(addr, i)).collect();
    assert_eq!(server.handles().len(), 2);
    server.shutdown().unwrap();
    // Every handler was cancelled and its connection closed: the clients read the end.
    for c in &mut held {
        let mut buf = [0; 1];
        assert_eq!(c.read(&mut buf).unwrap(), 0);
    }
    assert!(
        TcpStream::connect(addr).is_err(),
        "a listener survived the shutdown"
    );
}

#[test]
fn zero_loops_means_one_per_core() {
    let server = serve_per_core(0, "127.0.0.1:0".parse().unwrap(), echo_then_hold).unwrap();
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(server.connections_per_loop().len(), cores);
    drop(connect_and_check(server.local_addr(), 0));
    server.shutdown().unwrap();
}
