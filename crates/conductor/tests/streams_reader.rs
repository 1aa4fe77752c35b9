//! `StreamReader`: asyncio's read semantics, limits, partial reads, cancel-safety.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use conductor::streams::{ReadError, StreamReader};
use futures_io::AsyncRead;

/// A stream that delivers its chunks one read at a time, returning `Pending` once before each
/// (as a socket does when data trickles in).
struct Trickle {
    chunks: VecDeque<Vec<u8>>,
    ready: bool,
}

fn trickle(chunks: &[&[u8]]) -> Trickle {
    Trickle {
        chunks: chunks.iter().map(|c| c.to_vec()).collect(),
        ready: false,
    }
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if !self.ready {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.ready = false;
        let Some(mut chunk) = self.chunks.pop_front() else {
            return Poll::Ready(Ok(0));
        };
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            self.chunks.push_front(chunk.split_off(n));
        }
        Poll::Ready(Ok(n))
    }
}

#[conductor::test(paused)]
async fn readline_joins_chunks_and_returns_the_partial_last_line() {
    let mut r = StreamReader::new(trickle(&[b"hel", b"lo\nwor", b"ld"]));
    assert_eq!(r.readline().await.unwrap(), b"hello\n");
    assert_eq!(r.readline().await.unwrap(), b"world");
    assert_eq!(r.readline().await.unwrap(), b"");
    assert!(r.at_eof());
}

#[conductor::test(paused)]
async fn read_n_returns_what_is_there_up_to_n() {
    let mut r = StreamReader::new(trickle(&[b"abc", b"defgh"]));
    assert_eq!(r.read(0).await.unwrap(), b"");
    assert_eq!(r.read(2).await.unwrap(), b"ab");
    assert_eq!(r.read(10).await.unwrap(), b"c"); // partial: only what was buffered
    assert_eq!(r.read(10).await.unwrap(), b"defgh");
    assert_eq!(r.read(10).await.unwrap(), b"");
    assert!(r.at_eof());
}

#[conductor::test(paused)]
async fn readexactly_reports_the_partial_data_and_expected_size() {
    let mut r = StreamReader::new(trickle(&[b"12", b"34", b"5"]));
    assert_eq!(r.readexactly(4).await.unwrap(), b"1234");
    match r.readexactly(3).await {
        Err(ReadError::IncompleteRead { partial, expected }) => {
            assert_eq!(partial, b"5");
            assert_eq!(expected, Some(3));
        }
        other => panic!("expected IncompleteRead, got {other:?}"),
    }
    assert!(r.at_eof());
}

#[conductor::test(paused)]
async fn readuntil_at_eof_is_incomplete_without_expected_size() {
    let mut r = StreamReader::new(trickle(&[b"a||b", b"|c"]));
    assert_eq!(r.readuntil(b"||").await.unwrap(), b"a||");
    let e = r.readuntil(b"||").await.unwrap_err();
    assert_eq!(e.partial(), Some(&b"b|c"[..]));
    assert!(matches!(
        e,
        ReadError::IncompleteRead { expected: None, .. }
    ));
}

#[conductor::test(paused)]
async fn readuntil_finds_a_separator_split_across_reads() {
    let mut r = StreamReader::new(trickle(&[b"key\r", b"\nvalue\r", b"\n"]));
    assert_eq!(r.readuntil(b"\r\n").await.unwrap(), b"key\r\n");
    assert_eq!(r.readuntil(b"\r\n").await.unwrap(), b"value\r\n");
}

#[conductor::test(paused)]
async fn readuntil_past_the_limit_overruns_and_keeps_the_data() {
    let mut r = StreamReader::with_limit(trickle(&[b"0123456789", b"abcdef\nrest"]), 8);
    match r.readuntil(b"\n").await {
        Err(ReadError::LimitOverrun { consumed }) => assert!(consumed > 8, "{consumed}"),
        other => panic!("expected LimitOverrun, got {other:?}"),
    }
    // asyncio keeps the data: it can still be read.
    assert_eq!(r.buffer()[..10], b"0123456789"[..]);
    assert_eq!(r.readexactly(10).await.unwrap(), b"0123456789");
    assert_eq!(r.readuntil(b"\n").await.unwrap(), b"abcdef\n");
}

#[conductor::test(paused)]
async fn readuntil_with_the_separator_found_beyond_the_limit_overruns() {
    let mut r = StreamReader::with_limit(&b"0123456789\nok\n"[..], 5);
    match r.readuntil(b"\n").await {
        Err(ReadError::LimitOverrun { consumed }) => assert_eq!(consumed, 10),
        other => panic!("expected LimitOverrun, got {other:?}"),
    }
    assert_eq!(r.buffer().len(), 14);
}

/// Input, separators, the expected result.
type Case = (&'static [u8], &'static [&'static [u8]], &'static [u8]);

#[conductor::test(paused)]
async fn readuntil_any_returns_the_shortest_run_ending_with_a_separator() {
    // Expected values from Python 3.13's `StreamReader.readuntil(tuple)` on the same input.
    let cases: [Case; 4] = [
        (b"hello!worldEND", &[b"END", b"!"], b"hello!"),
        (b"abc\r\ndef\n", &[b"\r\n", b"\n"], b"abc\r\n"),
        (b"xxABCDyy", &[b"ABCD", b"BC"], b"xxABC"),
        (b"aaXYZ", &[b"XYZ", b"YZ"], b"aaXYZ"),
    ];
    for (data, seps, expected) in cases {
        let chunks: Vec<&[u8]> = data.chunks(3).collect();
        let mut r = StreamReader::new(trickle(&chunks));
        assert_eq!(r.readuntil_any(seps).await.unwrap(), expected, "{seps:?}");
    }
    // On a tie the shorter separator is the match, also for the limit (asyncio: 6).
    let mut r = StreamReader::with_limit(&b"123456!"[..], 4);
    match r.readuntil_any(&[b"!", b"56!"]).await {
        Err(ReadError::LimitOverrun { consumed }) => assert_eq!(consumed, 6),
        other => panic!("expected LimitOverrun, got {other:?}"),
    }
}

#[conductor::test(paused)]
async fn a_too_long_line_is_discarded_by_readline() {
    let mut r = StreamReader::with_limit(&b"0123456789\nok\n"[..], 5);
    match r.readline().await {
        Err(ReadError::LineTooLong { discarded }) => assert_eq!(discarded, 11),
        other => panic!("expected LineTooLong, got {other:?}"),
    }
    assert_eq!(r.readline().await.unwrap(), b"ok\n");
}

#[conductor::test(paused)]
async fn an_endless_line_stays_bounded_in_memory() {
    struct Endless;
    impl AsyncRead for Endless {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            buf.fill(b'x');
            Poll::Ready(Ok(buf.len()))
        }
    }
    let mut r = StreamReader::new(Endless);
    let e = r.readline().await.unwrap_err();
    assert!(matches!(e, ReadError::LineTooLong { .. }), "{e}");
    let e = r.readuntil(b"\n").await.unwrap_err();
    assert!(matches!(e, ReadError::LimitOverrun { .. }), "{e}");
    // The limit plus at most one read.
    assert!(
        r.buffer().len() <= r.limit() + 16 * 1024,
        "{}",
        r.buffer().len()
    );
}

#[conductor::test(paused)]
async fn a_read_cancelled_by_a_timeout_loses_nothing() {
    let (a, b) = conductor::net::UnixStream::pair().unwrap();
    let (read_half, _w) = b.into_split();
    let mut r = StreamReader::new(read_half);
    let mut a = a;
    a.write_all(b"half").await.unwrap();
    let t = conductor::timeout(Duration::from_secs(1), r.readexactly(8)).await;
    assert!(t.is_err(), "only 4 of 8 bytes arrived");
    a.write_all(b"-two\n").await.unwrap();
    assert_eq!(r.readexactly(8).await.unwrap(), b"half-two");
    assert_eq!(r.readline().await.unwrap(), b"\n");
}

#[conductor::test(paused)]
async fn lines_stream_ends_at_eof() {
    let mut r = StreamReader::new(trickle(&[b"a\nb", b"\nc"]));
    let mut lines = r.lines();
    let mut got = Vec::new();
    while let Some(line) = lines.next_line().await {
        got.push(line.unwrap());
    }
    assert_eq!(got, [&b"a\n"[..], b"b\n", b"c"]);
}

#[conductor::test(paused)]
async fn read_to_end_collects_everything() {
    let mut r = StreamReader::new(trickle(&[b"a", b"bc", b"def"]));
    assert_eq!(r.read(1).await.unwrap(), b"a");
    assert_eq!(r.read_to_end().await.unwrap(), b"bcdef");
    assert!(r.at_eof());
}

#[test]
fn errors_convert_to_io_errors_with_a_kind() {
    let e: io::Error = ReadError::IncompleteRead {
        partial: vec![1],
        expected: Some(2),
    }
    .into();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    let e: io::Error = ReadError::LimitOverrun { consumed: 9 }.into();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("raise the limit"));
}
