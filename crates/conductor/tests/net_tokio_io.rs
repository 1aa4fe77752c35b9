//! tokio's io traits over conductor's sockets (feature `tokio-io`), as tokio-io based crates
//! (tokio-rustls, tokio-postgres) drive them: only through `poll_read`/`poll_write`/
//! `poll_shutdown`, with no tokio runtime anywhere.
#![cfg(feature = "tokio-io")]

use std::future::poll_fn;
use std::pin::Pin;

use conductor::net::{TcpListener, TcpStream, UnixStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

async fn tokio_read(r: &mut (impl AsyncRead + Unpin), buf: &mut [u8]) -> usize {
    let mut rb = ReadBuf::new(buf);
    poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, &mut rb))
        .await
        .unwrap();
    rb.filled().len()
}

async fn tokio_write_all(w: &mut (impl AsyncWrite + Unpin), mut data: &[u8]) {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, data))
            .await
            .unwrap();
        data = &data[n..];
    }
    poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx))
        .await
        .unwrap();
}

#[test]
fn a_tcp_stream_speaks_tokio_io() {
    conductor::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = conductor::spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            let (mut r, mut w) = conn.into_split();
            let mut buf = [0; 1024];
            loop {
                let n = tokio_read(&mut r, &mut buf).await;
                if n == 0 {
                    break;
                }
                tokio_write_all(&mut w, &buf[..n]).await;
            }
            poll_fn(|cx| Pin::new(&mut w).poll_shutdown(cx))
                .await
                .unwrap();
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        tokio_write_all(&mut client, b"through tokio's traits").await;
        poll_fn(|cx| Pin::new(&mut client).poll_shutdown(cx))
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0; 7]; // a small buffer: several reads
        loop {
            let n = tokio_read(&mut client, &mut buf).await;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"through tokio's traits");
        server.await.unwrap();
    });
}

#[test]
fn a_unix_stream_speaks_tokio_io() {
    conductor::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        tokio_write_all(&mut a, b"unix").await;
        let mut buf = [0; 8];
        assert_eq!(tokio_read(&mut b, &mut buf).await, 4);
        assert_eq!(&buf[..4], b"unix");
    });
}

#[test]
fn asyncio_streams_speak_tokio_io() {
    conductor::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (_, w) = a.into_split();
        let (r, _) = b.into_split();
        let mut writer = conductor::streams::StreamWriter::new(w);
        let mut reader = conductor::streams::StreamReader::new(r);
        tokio_write_all(&mut writer, b"buffered").await;
        poll_fn(|cx| Pin::new(&mut writer).poll_shutdown(cx))
            .await
            .unwrap();
        let mut buf = [0; 16];
        assert_eq!(tokio_read(&mut reader, &mut buf).await, 8);
        assert_eq!(&buf[..8], b"buffered");
        assert_eq!(tokio_read(&mut reader, &mut buf).await, 0);
    });
}

#[test]
fn a_tokio_read_fills_an_uninitialised_buffer_without_zeroing_the_rest() {
    conductor::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let (_, mut w) = b.into_split();
        tokio_write_all(&mut w, b"hello").await;
        let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); 16 * 1024];
        let mut rb = ReadBuf::uninit(&mut storage);
        poll_fn(|cx| Pin::new(&mut a).poll_read(cx, &mut rb))
            .await
            .unwrap();
        assert_eq!(rb.filled(), b"hello");
        // `initialize_unfilled` would have zeroed all 16 KiB: only what the kernel wrote counts
        // as initialised.
        assert_eq!(rb.initialized().len(), 5);
    });
}
