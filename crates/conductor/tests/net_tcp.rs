//! TCP sockets on loopback: echo, half-close, connect timeout and errors, options, halves,
//! and which loop a socket belongs to.

mod support;

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;

use conductor::Runtime;
use conductor::net::{ServerOptions, TcpListener, TcpStream};
use futures_io::{AsyncRead, AsyncWrite};
use support::paused;

async fn read_all(r: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0; 8192];
    loop {
        let n = std::future::poll_fn(|cx| std::pin::Pin::new(&mut *r).poll_read(cx, &mut buf))
            .await
            .unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

async fn write_all(w: &mut (impl AsyncWrite + Unpin), mut data: &[u8]) {
    while !data.is_empty() {
        let n = std::future::poll_fn(|cx| std::pin::Pin::new(&mut *w).poll_write(cx, data))
            .await
            .unwrap();
        data = &data[n..];
    }
}

#[conductor::test(paused)]
async fn echo_of_messages_of_every_size() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = conductor::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = vec![0; 65536];
        loop {
            let n = conn.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            conn.write_all(&buf[..n]).await.unwrap();
        }
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    for size in [1, 7, 1024, 16 * 1024, 300 * 1024] {
        let msg: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let (mut r, mut w) = client.into_split();
        let writer = conductor::spawn(async move {
            write_all(&mut w, &msg).await;
            (w, msg)
        });
        let mut got = vec![0; size];
        let mut filled = 0;
        while filled < size {
            let n = std::future::poll_fn(|cx| {
                std::pin::Pin::new(&mut r).poll_read(cx, &mut got[filled..])
            })
            .await
            .unwrap();
            assert!(n > 0);
            filled += n;
        }
        let (w, msg) = writer.await.unwrap();
        assert!(got == msg, "echo of {size} bytes differs");
        client = r.reunite(w).unwrap();
    }
    client.shutdown(Shutdown::Write).unwrap();
    server.await.unwrap();
}

#[conductor::test(paused)]
async fn half_close_lets_the_other_side_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = conductor::spawn(async move {
        let (conn, _) = listener.accept().await.unwrap();
        let (mut r, mut w) = conn.into_split();
        let request = read_all(&mut r).await; // until the client's half-close
        write_all(&mut w, format!("got {} bytes", request.len()).as_bytes()).await;
        // Dropping the write half shuts it down: the client reads the end.
    });
    let client = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = client.into_split();
    write_all(&mut w, &[b'x'; 5000]).await;
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut w).poll_close(cx))
        .await
        .unwrap();
    assert_eq!(read_all(&mut r).await, b"got 5000 bytes");
    server.await.unwrap();
}

/// The length and capacity of a listening socket's accept queue (Linux `TCP_INFO` reports
/// them as `tcpi_unacked` and `tcpi_sacked`).
fn accept_queue(listener: &TcpListener) -> (u32, u32) {
    // SAFETY: `tcp_info` is plain old data, valid when zeroed.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: the fd is a live socket; `info` and `len` describe a writable buffer of `len`
    // bytes.
    let rc = unsafe {
        libc::getsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    assert_eq!(
        rc,
        0,
        "getsockopt(TCP_INFO): {}",
        io::Error::last_os_error()
    );
    (info.tcpi_unacked, info.tcpi_sacked)
}

#[test]
fn connect_times_out_against_a_full_accept_queue() {
    let rt = paused();
    rt.block_on(async {
        let options = ServerOptions::new().backlog(0);
        let listener = TcpListener::bind_with("127.0.0.1:0".parse().unwrap(), &options).unwrap();
        let addr = listener.local_addr().unwrap();
        // Fill the queue with connections nobody accepts (each completes at once while there
        // is room); then the kernel drops new SYNs, and a connect cannot complete.
        let mut held = Vec::new();
        for _ in 0..64 {
            let (queued, max) = accept_queue(&listener);
            if queued > max {
                break;
            }
            held.push(std::net::TcpStream::connect(addr).unwrap());
            for _ in 0..1000 {
                if accept_queue(&listener).0 > queued {
                    break;
                }
                std::thread::yield_now();
            }
        }
        let (queued, max) = accept_queue(&listener);
        assert!(
            queued > max,
            "could not fill the accept queue ({queued}/{max})"
        );

        let start = conductor::now();
        let err = TcpStream::connect_timeout(addr, Duration::from_secs(3))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(err.to_string().contains("accept queue"), "{err}");
        assert_eq!(conductor::now() - start, Duration::from_secs(3));
        drop(held);
    });
}

#[conductor::test(paused)]
async fn connect_to_a_closed_port_is_refused() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let err = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

/// asyncio: `[Errno 111] Connect call failed ('127.0.0.1', 1)` (3.11 and 3.13).
#[conductor::test(paused)]
async fn a_refused_connect_names_the_address() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    for err in [
        TcpStream::connect(addr).await.unwrap_err(),
        conductor::open_connection(addr).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("could not connect to {addr}: ")),
            "{text}"
        );
        // The OS error stays reachable through the error's source.
        let os = err.get_ref().and_then(|e| e.source()).unwrap();
        let os = os.downcast_ref::<io::Error>().unwrap();
        assert_eq!(os.raw_os_error(), Some(111));
    }
}

/// asyncio: `[Errno 98] error while attempting to bind on address ('127.0.0.1', port)`.
#[conductor::test(paused)]
async fn a_bind_to_an_address_in_use_names_it() {
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap();
    let err = TcpListener::bind(addr).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("could not bind to {addr}: ")),
        "{text}"
    );
}

#[conductor::test(paused)]
async fn addresses_print_as_addresses() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_reader, writer) = conductor::open_connection(addr).await.unwrap();
    let peer = writer.get_extra_info().peername.clone().unwrap();
    assert_eq!(format!("{peer:?}"), addr.to_string());
    assert_eq!(format!("{peer}"), addr.to_string());
}

#[conductor::test(paused)]
async fn connect_tries_every_resolved_address() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let good = listener.local_addr().unwrap();
    let closed: SocketAddr = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let stream = TcpStream::connect(vec![closed, good]).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), good);
}

#[test]
fn names_resolve_on_the_thread_pool() {
    Runtime::new().unwrap().block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = TcpStream::connect(format!("localhost:{port}")).await;
        // localhost may resolve to ::1 first; one of its addresses is ours.
        let stream = stream.unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
        let err = conductor::net::lookup_host("no-such-host.invalid:80")
            .await
            .unwrap_err();
        assert!(!err.to_string().is_empty());
    });
}

#[conductor::test(paused)]
async fn socket_options_round_trip() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
    client.set_keepalive(Some(Duration::from_secs(60))).unwrap();
    assert!(client.keepalive().unwrap());
    client.set_keepalive(None).unwrap();
    assert!(!client.keepalive().unwrap());
    client.set_ttl(42).unwrap();
    assert_eq!(client.ttl().unwrap(), 42);
    let (server_side, peer) = listener.accept().await.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert_eq!(server_side.peer_addr().unwrap(), peer);
    assert!(client.take_error().unwrap().is_none());
}

#[conductor::test(paused)]
async fn halves_of_different_streams_do_not_reunite() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let a = TcpStream::connect(addr).await.unwrap();
    let b = TcpStream::connect(addr).await.unwrap();
    let (ra, wa) = a.into_split();
    let (rb, wb) = b.into_split();
    let err = ra.reunite(wb).unwrap_err();
    assert!(err.to_string().contains("different streams"));
    let (ra, wb) = (err.0, err.1);
    assert!(ra.reunite(wa).is_ok());
    assert!(rb.reunite(wb).is_ok());
}

#[test]
fn a_socket_used_on_another_loop_fails_with_an_error() {
    let first = Runtime::new().unwrap();
    let (mut stream, _listener) = first.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        (stream, listener)
    });
    let second = Runtime::new().unwrap();
    let err = second.block_on(async move {
        let mut buf = [0; 8];
        let err = stream.read(&mut buf).await.unwrap_err();
        // The socket is still usable, through its own loop.
        (err, stream)
    });
    let (err, stream) = err;
    assert!(
        err.to_string()
            .contains("outside the event loop it was registered with"),
        "{err}"
    );
    // into_std from the right loop moves it; dropping it elsewhere is harmless.
    let std_stream = first.block_on(async move { stream.into_std().unwrap() });
    second.block_on(async move {
        let mut moved = TcpStream::from_std(std_stream).unwrap();
        moved.write_all(b"moved").await.unwrap();
    });
}

/// A client socket and the server side of its connection, on loopback.
async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server_side, _) = listener.accept().await.unwrap();
    (client, server_side)
}

#[conductor::test(paused)]
async fn try_read_and_readable_work_without_a_buffer_held_while_idle() {
    let (mut client, server_side) = connected_pair().await;
    let mut buf = [0; 4];
    assert_eq!(
        server_side.try_read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    client.write_all(b"abcd").await.unwrap();
    server_side.readable().await.unwrap();
    assert_eq!(server_side.try_read(&mut buf).unwrap(), 4);
    assert_eq!(&buf, b"abcd");
    server_side.writable().await.unwrap();
    assert_eq!(server_side.try_write(b"ok").unwrap(), 2);
}

#[test]
fn readable_on_a_fresh_idle_socket_waits_for_data() {
    // A server that awaits `readable()` before allocating its buffer holds no memory for an
    // idle connection only if `readable()` really waits.
    paused().block_on(async {
        let (mut client, server_side) = connected_pair().await;
        let idle = conductor::timeout(Duration::from_secs(1), server_side.readable()).await;
        assert!(
            idle.is_err(),
            "readable() returned on a socket with no data"
        );
        client.write_all(b"x").await.unwrap();
        server_side.readable().await.unwrap();
        let mut buf = [0; 2];
        assert_eq!(server_side.try_read(&mut buf).unwrap(), 1);
    });
}

#[test]
fn getnameinfo_turns_an_address_back_into_names() {
    Runtime::new().unwrap().block_on(async {
        let addr: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let numeric = libc::NI_NUMERICHOST | libc::NI_NUMERICSERV;
        let names = conductor::net::getnameinfo(addr, numeric).await.unwrap();
        assert_eq!(names, ("127.0.0.1".to_string(), "80".to_string()));
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        let names = conductor::net::getnameinfo(v6, numeric).await.unwrap();
        assert_eq!(names, ("::1".to_string(), "8080".to_string()));
        // Flags the C library does not know are refused, with the resolver's message.
        let err = conductor::net::getnameinfo(addr, 1 << 20)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("127.0.0.1:80"), "{err}");
    });
}
