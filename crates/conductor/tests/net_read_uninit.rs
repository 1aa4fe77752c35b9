//! `ReadUninit`: reads into uninitialised memory on TCP and Unix streams and their read halves.

use std::future::poll_fn;
use std::mem::MaybeUninit;
use std::pin::Pin;

use conductor::net::{ReadUninit, TcpListener, TcpStream, UnixStream};

async fn read_uninit<R: ReadUninit + Unpin>(r: &mut R, cap: usize) -> Vec<u8> {
    let mut buf = vec![MaybeUninit::<u8>::uninit(); cap];
    let n = poll_fn(|cx| Pin::new(&mut *r).poll_read_uninit(cx, &mut buf))
        .await
        .unwrap();
    // SAFETY: `poll_read_uninit` initialised the first `n` elements.
    buf[..n]
        .iter()
        .map(|b| unsafe { b.assume_init() })
        .collect()
}

#[test]
fn a_tcp_stream_reads_into_uninitialised_memory_until_the_end() {
    conductor::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = conductor::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            conn.write_all(b"hello uninit").await.unwrap();
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        writer.await.unwrap();
        let mut got = Vec::new();
        loop {
            let chunk = read_uninit(&mut stream, 5).await;
            if chunk.is_empty() {
                break;
            }
            assert!(chunk.len() <= 5);
            got.extend(chunk);
        }
        assert_eq!(got, b"hello uninit");
    });
}

#[test]
fn a_read_half_reads_into_uninitialised_memory_and_waits_for_data() {
    conductor::run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (mut read, _write) = a.into_split();
        let reader = conductor::spawn(async move { read_uninit(&mut read, 64).await });
        conductor::yield_now().await;
        assert!(!reader.is_done(), "nothing to read yet: the read waits");
        b.write_all(b"late").await.unwrap();
        assert_eq!(reader.await.unwrap(), b"late");
    });
}
