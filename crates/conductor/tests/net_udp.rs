//! UDP sockets on loopback.

use std::io;

use conductor::Runtime;
use conductor::net::UdpSocket;

#[test]
fn datagrams_keep_their_boundaries_and_senders() {
    Runtime::new().unwrap().block_on(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let echo = conductor::spawn(async move {
            let mut buf = [0; 2048];
            for _ in 0..50 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let mut buf = [0; 2048];
        for i in 0..50usize {
            let msg = vec![i as u8; i * 10 + 1];
            client.send_to(&msg, server_addr).await.unwrap();
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server_addr);
            assert_eq!(&buf[..n], &msg[..]);
        }
        echo.await.unwrap();
    });
}

#[test]
fn a_connected_socket_sends_and_receives_without_addresses() {
    Runtime::new().unwrap().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        a.send(b"ping").await.unwrap();
        let mut buf = [0; 8];
        let (n, _) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        b.set_broadcast(true).unwrap();
        assert!(b.broadcast().unwrap());
    });
}

#[test]
fn a_socket_moves_between_loops() {
    let std_socket = Runtime::new().unwrap().block_on(async {
        UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap()
            .into_std()
            .unwrap()
    });
    let addr = std_socket.local_addr().unwrap();
    Runtime::new().unwrap().block_on(async move {
        let socket = UdpSocket::from_std(std_socket).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sender.send_to(b"moved", addr).await.unwrap();
        let mut buf = [0; 8];
        let (n, _) = socket.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"moved");
    });
}
