//! Several tasks waiting on one direction of one socket: each waiter is woken, and one that goes
//! away (a timeout) takes nobody else's wake-up with it. UDP, TCP and Unix sockets, loopback,
//! paused clock (the timeouts are virtual; the IO is real and already there when awaited).

mod support;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use conductor::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};
use conductor::{Task, sleep, spawn, timeout};

/// A wait that outlives everything the test does unless it hangs.
const HANG: Duration = Duration::from_secs(3600);

/// `task`'s output, or a panic if it is not done within `HANG` (virtual time: a hang fails at
/// once).
async fn finished<T: 'static>(what: &str, task: Task<T>) -> T {
    match timeout(HANG, task).await {
        Ok(r) => r.unwrap(),
        Err(_) => panic!("{what} was never woken"),
    }
}

async fn udp_pair() -> (Rc<UdpSocket>, UdpSocket, SocketAddr) {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = b.local_addr().unwrap();
    (Rc::new(b), a, to)
}

#[conductor::test(paused)]
async fn a_udp_receiver_is_woken_after_another_one_timed_out() {
    let (b, a, to) = udp_pair().await;
    let first = {
        let b = b.clone();
        spawn(async move {
            let mut buf = [0; 16];
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            buf[..n].to_vec()
        })
    };
    let second = {
        let b = b.clone();
        spawn(async move {
            let mut buf = [0; 16];
            timeout(Duration::from_secs(1), b.recv_from(&mut buf))
                .await
                .is_err()
        })
    };
    assert!(second.await.unwrap(), "the second receiver timed out");
    a.send_to(b"late", to).await.unwrap();
    assert_eq!(finished("the first receiver", first).await, b"late");
}

#[conductor::test(paused)]
async fn many_udp_receivers_each_get_a_datagram_though_half_timed_out() {
    let (b, a, to) = udp_pair().await;
    let got = Rc::new(RefCell::new(Vec::new()));
    let mut patient = Vec::new();
    for i in 0..10u8 {
        let (b, got) = (b.clone(), got.clone());
        let task = spawn(async move {
            let mut buf = [0; 4];
            let recv = b.recv_from(&mut buf);
            if i % 2 == 0 {
                let (n, _) = recv.await.unwrap();
                got.borrow_mut().push(buf[..n].to_vec());
            } else {
                assert!(timeout(Duration::from_secs(1), recv).await.is_err());
            }
        });
        if i % 2 == 0 {
            patient.push(task);
        } else {
            task.detach();
        }
    }
    sleep(Duration::from_secs(2)).await; // the odd ones time out
    for i in 0..5u8 {
        a.send_to(&[i], to).await.unwrap();
    }
    for t in patient {
        finished("a patient receiver", t).await;
    }
    let mut got = got.take();
    got.sort();
    assert_eq!(got, (0..5u8).map(|i| vec![i]).collect::<Vec<_>>());
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[conductor::test(paused)]
async fn a_tcp_reader_is_woken_after_another_one_timed_out() {
    let (mut client, server) = tcp_pair().await;
    let server = Rc::new(server);
    let first = {
        let s = server.clone();
        spawn(async move { s.readable().await.unwrap() })
    };
    let second = {
        let s = server.clone();
        spawn(async move { timeout(Duration::from_secs(1), s.readable()).await.is_err() })
    };
    assert!(second.await.unwrap());
    client.write_all(b"x").await.unwrap();
    finished("the first reader", first).await;
}

#[conductor::test(paused)]
async fn every_task_waiting_for_readability_is_woken() {
    let (mut client, server) = tcp_pair().await;
    let server = Rc::new(server);
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let s = server.clone();
            spawn(async move { s.readable().await.unwrap() })
        })
        .collect();
    sleep(Duration::from_secs(1)).await;
    client.write_all(b"x").await.unwrap();
    for w in waiters {
        finished("a reader", w).await;
    }
}

#[conductor::test(paused)]
async fn a_tcp_writer_is_woken_after_another_one_timed_out() {
    let (mut client, server) = tcp_pair().await;
    // Fill the server's send buffer and the client's receive buffer.
    let chunk = vec![7u8; 1 << 16];
    let mut sent = 0;
    loop {
        match server.try_write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    let server = Rc::new(server);
    let first = {
        let s = server.clone();
        spawn(async move { s.writable().await.unwrap() })
    };
    let second = {
        let s = server.clone();
        spawn(async move { timeout(Duration::from_secs(1), s.writable()).await.is_err() })
    };
    assert!(second.await.unwrap());
    let mut buf = vec![0u8; 1 << 16];
    let mut read = 0;
    while read < sent {
        read += client.read(&mut buf).await.unwrap();
    }
    finished("the first writer", first).await;
}

#[conductor::test(paused)]
async fn an_acceptor_is_woken_after_another_one_timed_out() {
    let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
    let addr = listener.local_addr().unwrap();
    let first = {
        let l = listener.clone();
        spawn(async move { l.accept().await.unwrap().1 })
    };
    let second = {
        let l = listener.clone();
        spawn(async move { timeout(Duration::from_secs(1), l.accept()).await.is_err() })
    };
    assert!(second.await.unwrap());
    let client = TcpStream::connect(addr).await.unwrap();
    let peer = finished("the first acceptor", first).await;
    assert_eq!(peer, client.local_addr().unwrap());
}

#[conductor::test(paused)]
async fn a_unix_datagram_receiver_is_woken_after_another_one_timed_out() {
    let (a, b) = UnixDatagram::pair().unwrap();
    let b = Rc::new(b);
    let first = {
        let b = b.clone();
        spawn(async move {
            let mut buf = [0; 16];
            let n = b.recv(&mut buf).await.unwrap();
            buf[..n].to_vec()
        })
    };
    let second = {
        let b = b.clone();
        spawn(async move {
            let mut buf = [0; 16];
            timeout(Duration::from_secs(1), b.recv(&mut buf))
                .await
                .is_err()
        })
    };
    assert!(second.await.unwrap());
    a.send(b"late").await.unwrap();
    assert_eq!(finished("the first receiver", first).await, b"late");
}

#[conductor::test(paused)]
async fn a_unix_stream_reader_is_woken_after_another_one_timed_out() {
    let (mut a, b) = UnixStream::pair().unwrap();
    let b = Rc::new(b);
    let first = {
        let b = b.clone();
        spawn(async move { b.readable().await.unwrap() })
    };
    let second = {
        let b = b.clone();
        spawn(async move { timeout(Duration::from_secs(1), b.readable()).await.is_err() })
    };
    assert!(second.await.unwrap());
    a.write_all(b"x").await.unwrap();
    finished("the first reader", first).await;
}
