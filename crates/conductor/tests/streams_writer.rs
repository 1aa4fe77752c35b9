//! `StreamWriter`: buffering, `drain` backpressure, background sending, close, errors.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use conductor::net::UnixStream;
use conductor::streams::{DEFAULT_HIGH_WATER, StreamReader, StreamWriter};

/// A connected pair: a writer on one end, the other end's socket as it is.
fn pair() -> (StreamWriter, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    let (_, w) = a.into_split();
    (StreamWriter::new(Box::new(w) as _), b)
}

#[conductor::test(paused)]
async fn a_writer_whose_peer_never_reads_stays_bounded() {
    let (mut writer, peer) = pair();
    let chunk = vec![7u8; 4096];
    let max_buffered = Rc::new(Cell::new(0));
    let chunks = Rc::new(Cell::new(0usize));
    let producer = conductor::spawn({
        let (max_buffered, chunks) = (max_buffered.clone(), chunks.clone());
        async move {
            loop {
                writer.write(&chunk);
                chunks.set(chunks.get() + 1);
                max_buffered.set(max_buffered.get().max(writer.write_buffer_size()));
                writer.drain().await.unwrap();
            }
        }
    });
    // Every task waits now (the producer in drain, its sender on the full socket), so the
    // paused clock jumps: a second of nobody reading.
    conductor::sleep(Duration::from_secs(1)).await;
    let buffered = max_buffered.get();
    assert!(
        buffered <= DEFAULT_HIGH_WATER + 4096,
        "the write buffer grew to {buffered} bytes"
    );
    assert!(
        buffered > DEFAULT_HIGH_WATER,
        "drain waited before the high-water mark"
    );
    let written = chunks.get();
    conductor::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        chunks.get(),
        written,
        "the producer went on without a reader"
    );
    assert!(!producer.is_done());
    producer.cancel();
    drop(peer);
}

#[conductor::test(paused)]
async fn drain_resumes_once_the_peer_reads_down_to_the_low_water_mark() {
    let (mut writer, mut peer) = pair();
    writer.set_write_buffer_limits(8192, Some(1024));
    let total = 4 * 1024 * 1024;
    let producer = conductor::spawn(async move {
        let chunk = vec![1u8; 64 * 1024];
        let mut sent = 0;
        while sent < total {
            writer.write(&chunk);
            sent += chunk.len();
            writer.drain().await.unwrap();
            assert!(writer.write_buffer_size() <= 8192 + chunk.len());
        }
        writer.close();
        writer.wait_closed().await.unwrap();
    });
    let mut got = 0;
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = peer.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        got += n;
    }
    assert_eq!(got, total);
    producer.await.unwrap();
}

#[conductor::test(paused)]
async fn written_data_arrives_without_drain_and_after_the_writer_is_dropped() {
    let (a, b) = UnixStream::pair().unwrap();
    let (_, w) = a.into_split();
    let mut writer = StreamWriter::new(w);
    // Far more than a socket buffer: most of it is left to the background sender.
    let data: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
    writer.write(&data);
    assert!(writer.write_buffer_size() > 0);
    drop(writer);
    let mut reader = StreamReader::new(b);
    let got = reader.read_to_end().await.unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data);
}

#[conductor::test(paused)]
async fn close_sends_the_end_of_stream_after_the_data() {
    let (mut writer, peer) = pair();
    writer.write(b"last words");
    writer.close();
    assert!(writer.is_closing());
    writer.wait_closed().await.unwrap();
    let mut reader = StreamReader::new(peer);
    assert_eq!(reader.read_to_end().await.unwrap(), b"last words");
}

#[conductor::test(paused)]
async fn a_write_after_close_is_reported_by_drain() {
    let (mut writer, _peer) = pair();
    writer.close();
    writer.write(b"too late");
    let e = writer.drain().await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    assert!(e.to_string().contains("write after close"), "{e}");
}

#[conductor::test(paused)]
async fn a_peer_that_went_away_is_reported_by_drain() {
    let (mut writer, peer) = pair();
    drop(peer);
    writer.write(b"anyone there?");
    let e = writer.drain().await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
    // Later writes are dropped; the error stays.
    writer.write(b"more");
    assert!(writer.drain().await.is_err());
    assert!(writer.wait_closed().await.is_err());
}

#[test]
fn writer_outside_a_loop_drives_the_stream_in_drain() {
    // No background task can be started outside a loop: drain does the sending itself.
    let mut writer = StreamWriter::new(Vec::<u8>::new());
    writer.write(b"abc");
    let rt = conductor::Runtime::new().unwrap();
    rt.block_on(async move {
        writer.drain().await.unwrap();
        writer.wait_closed().await.unwrap();
    });
}

#[conductor::test(paused)]
async fn extra_info_names_both_ends() {
    let listener = conductor::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (reader, writer) = conductor::net::open_connection(addr).await.unwrap();
    let info = writer.get_extra_info();
    assert_eq!(info.peername.as_ref().and_then(|a| a.as_inet()), Some(addr));
    assert!(info.sockname.is_some());
    assert!(info.fd.is_some());
    drop((reader, writer));
}
