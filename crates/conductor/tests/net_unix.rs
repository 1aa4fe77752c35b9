//! Unix domain sockets: stream servers on a path, socket pairs, datagrams.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use conductor::Runtime;
use conductor::net::{
    UnixDatagram, UnixListener, UnixStream, open_unix_connection, start_unix_server,
};
use conductor::streams::{StreamReader, StreamWriter};

/// A fresh directory for this test's socket files.
fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "conductor-net-unix-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_unix_server_echoes_and_removes_its_socket_file() {
    let dir = temp_dir();
    let path = dir.join("echo.sock");
    Runtime::new().unwrap().block_on({
        let path = path.clone();
        async move {
            // A stale socket file from a previous run is replaced, as asyncio does.
            drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
            assert!(path.exists());
            let server = start_unix_server(
                |mut reader: StreamReader, mut writer: StreamWriter| async move {
                    let line = reader.readline().await?;
                    writer.write(&line);
                    writer.drain().await
                },
                &path,
            )
            .await
            .unwrap();
            let (mut reader, mut writer) = open_unix_connection(&path).await.unwrap();
            writer.write(b"over a unix socket\n");
            assert_eq!(reader.readline().await.unwrap(), b"over a unix socket\n");
            assert!(writer.get_extra_info().peername.is_some());
            server.close();
            server.wait_closed().await;
            assert!(!path.exists(), "the socket file is removed on close");
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_pair_half_closes() {
    Runtime::new().unwrap().block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut ar, aw) = a.into_split();
        drop(aw); // shuts a's write side down
        let mut b = b;
        let mut buf = [0; 8];
        assert_eq!(b.read(&mut buf).await.unwrap(), 0);
        b.write_all(b"reply").await.unwrap();
        drop(b);
        let mut reader = StreamReader::new(&mut ar);
        assert_eq!(reader.read_to_end().await.unwrap(), b"reply");
    });
}

#[test]
fn a_listener_accepts_and_moves_between_loops() {
    let dir = temp_dir();
    let path = dir.join("l.sock");
    let std_listener = Runtime::new().unwrap().block_on({
        let path = path.clone();
        async move {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            listener.into_std().unwrap()
        }
    });
    Runtime::new().unwrap().block_on({
        let path = path.clone();
        async move {
            let listener = UnixListener::from_std(std_listener).unwrap();
            let client = conductor::spawn(async move {
                let mut s = UnixStream::connect(&path).await.unwrap();
                s.write_all(b"hi").await.unwrap();
            });
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0; 2];
            conn.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hi");
            client.await.unwrap();
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn datagrams_go_to_paths() {
    let dir = temp_dir();
    Runtime::new().unwrap().block_on({
        let dir = dir.clone();
        async move {
            let a = UnixDatagram::bind(dir.join("a.sock")).unwrap();
            let b = UnixDatagram::bind(dir.join("b.sock")).unwrap();
            // A few at a time: the receiver's queue is short (net.unix.max_dgram_qlen), and
            // Linux reports an unconnected sender writable even while that queue is full.
            let mut buf = [0; 16];
            for round in 0..20u8 {
                for i in 0..5u8 {
                    a.send_to(&[round * 5 + i; 3], dir.join("b.sock"))
                        .await
                        .unwrap();
                }
                for i in 0..5u8 {
                    let (n, from) = b.recv_from(&mut buf).await.unwrap();
                    assert_eq!(&buf[..n], &[round * 5 + i; 3]);
                    assert_eq!(from.as_pathname(), Some(dir.join("a.sock").as_path()));
                }
            }
            b.connect(dir.join("a.sock")).unwrap();
            b.send(b"back").await.unwrap();
            let n = a.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"back");
            let unbound = UnixDatagram::unbound().unwrap();
            unbound.send_to(b"anon", dir.join("a.sock")).await.unwrap();
            let (n, from) = a.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"anon");
            assert!(from.as_pathname().is_none());
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_unix_connect_names_the_path() {
    Runtime::new().unwrap().block_on(async {
        let path = temp_dir().join("nobody.sock");
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("could not connect to {}: ", path.display())),
            "{text}"
        );
    });
}

#[test]
fn unix_addresses_print_as_paths() {
    Runtime::new().unwrap().block_on(async {
        let path = temp_dir().join("named.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let client = UnixStream::connect(&path).await.unwrap();
        let (_conn, _) = listener.accept().await.unwrap();
        let (_reader, writer) = client.into_streams();
        let info = writer.get_extra_info();
        assert_eq!(
            format!("{:?}", info.peername.as_ref().unwrap()),
            path.display().to_string()
        );
        assert_eq!(
            format!("{:?}", info.sockname.as_ref().unwrap()),
            "(unnamed)"
        );
    });
}
