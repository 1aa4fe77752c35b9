//! `AsyncFd`: the user's own descriptors on the loop's selector, through the adapter conductor's
//! sockets and pipes use (readiness wakes the waiting tasks, every one of them; the waits spend
//! the cooperative budget).

mod support;

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use conductor::io::{AsyncFd, Direction};
use conductor::{Runtime, spawn, timeout};
use support::paused;

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// A pipe's two ends, non-blocking.
fn pipe() -> (mio::unix::pipe::Receiver, mio::unix::pipe::Sender) {
    let (w, r) = mio::unix::pipe::new().unwrap();
    (r, w)
}

#[test]
fn a_readable_socket_wakes_its_reader() {
    let rt = Runtime::new().unwrap();
    let got = rt.block_on(async {
        let (mut a, b) = pair();
        let b = AsyncFd::new(b).unwrap();
        let writer = spawn(async move {
            conductor::sleep(Duration::from_millis(5)).await;
            a.write_all(b"ping").unwrap();
            a
        });
        let mut buf = [0u8; 16];
        let n = b.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
        let _a = writer.await.unwrap();
        buf[..n].to_vec()
    });
    assert_eq!(got, b"ping");
}

#[test]
fn many_descriptors_on_one_loop() {
    let rt = Runtime::new().unwrap();
    let total = rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..200u8 {
            let (mut a, b) = pair();
            tasks.push(spawn(async move {
                let b = AsyncFd::new(b).unwrap();
                let mut buf = [0u8; 1];
                b.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
                buf[0] as u32
            }));
            spawn(async move {
                conductor::yield_now().await;
                a.write_all(&[i]).unwrap();
            })
            .detach();
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..200).sum::<u32>());
}

#[test]
fn registration_outside_a_loop_is_an_error() {
    let (_a, b) = pair();
    let err = AsyncFd::new(b).unwrap_err();
    assert!(err.to_string().contains("no conductor event loop"));
}

#[test]
fn a_closed_peer_reads_as_end_of_file() {
    let n = paused().block_on(async {
        let (a, b) = pair();
        let b = AsyncFd::new(b).unwrap();
        drop(a);
        let mut buf = [0u8; 4];
        b.read_with(|s| (&*s).read(&mut buf)).await.unwrap()
    });
    assert_eq!(n, 0);
}

#[conductor::test(paused)]
async fn a_dropped_async_fd_leaves_the_selector_so_the_descriptor_registers_again() {
    let (mut a, b) = pair();
    let first = AsyncFd::new(b.as_fd()).unwrap();
    let err = AsyncFd::new(b.as_fd()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    drop(first);
    let again = AsyncFd::new(b.as_fd()).unwrap();
    a.write_all(b"x").unwrap();
    again.readable().await.unwrap();
}

#[conductor::test(paused)]
async fn into_inner_gives_the_descriptor_back_off_the_selector() {
    let (_a, b) = pair();
    let fd = AsyncFd::new(b).unwrap();
    let b = fd.into_inner();
    let again = AsyncFd::new(b).unwrap();
    assert_eq!(
        again
            .try_io(Direction::Read, |s| (&*s).read(&mut [0; 1]))
            .unwrap_err()
            .kind(),
        io::ErrorKind::WouldBlock
    );
}

#[test]
fn an_async_fd_used_on_another_loop_fails_with_an_error() {
    let rt = paused();
    let fd = rt.block_on(async { AsyncFd::new(pair().1).unwrap() });
    let other = paused();
    let err = other.block_on(async move {
        let r = fd.readable().await;
        drop(fd);
        r
    });
    assert!(
        err.unwrap_err()
            .to_string()
            .contains("outside the event loop")
    );
}

/// asyncio keeps one reader callback per descriptor (a second `add_reader` replaces the
/// first); conductor wakes every waiting task.
#[conductor::test(paused)]
async fn a_pipe_reader_is_woken_after_another_one_timed_out() {
    let (r, mut w) = pipe();
    let r = Rc::new(AsyncFd::new(r).unwrap());
    let first = {
        let r = r.clone();
        spawn(async move {
            let mut buf = [0; 16];
            let n = r.read_with(|f| (&*f).read(&mut buf)).await.unwrap();
            buf[..n].to_vec()
        })
    };
    let second = {
        let r = r.clone();
        spawn(async move { timeout(Duration::from_secs(1), r.readable()).await.is_err() })
    };
    assert!(second.await.unwrap(), "the second reader timed out");
    w.write_all(b"late").unwrap();
    let got = timeout(Duration::from_secs(3600), first)
        .await
        .expect("the first reader was never woken");
    assert_eq!(got.unwrap(), b"late");
}

#[conductor::test(paused)]
async fn many_pipe_readers_are_all_woken() {
    let (r, mut w) = pipe();
    let r = Rc::new(AsyncFd::new(r).unwrap());
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let r = r.clone();
            spawn(async move { r.readable().await.unwrap() })
        })
        .collect();
    conductor::sleep(Duration::from_secs(1)).await;
    w.write_all(b"x").unwrap();
    for t in waiters {
        timeout(Duration::from_secs(3600), t)
            .await
            .expect("a reader was never woken")
            .unwrap();
    }
}

/// The waits spend the budget: a task reading a descriptor that always has data yields.
#[test]
fn reading_an_always_ready_descriptor_yields_within_the_budget() {
    let longest = paused().block_on(async {
        let (mut a, b) = pair();
        a.write_all(&[7; 4096]).unwrap();
        let b = AsyncFd::new(b).unwrap();
        let polls = Rc::new(Cell::new(0u64));
        let p = polls.clone();
        let competitor = spawn(async move {
            loop {
                p.set(p.get() + 1);
                conductor::yield_now().await;
            }
        });
        conductor::yield_now().await;
        let mut reads = Vec::new();
        for _ in 0..1000 {
            let mut byte = [0u8; 1];
            b.read_with(|s| (&*s).read(&mut byte)).await.unwrap();
            reads.push(polls.get());
        }
        competitor.cancel();
        reads
            .chunk_by(|x, y| x == y)
            .map(<[u64]>::len)
            .max()
            .unwrap()
    });
    assert!(longest <= 128, "{longest} reads in a row without yielding");
}

#[test]
fn clearing_only_the_data_readiness_keeps_a_peers_close_seen_with_it() {
    let rt = Runtime::new().unwrap();
    let n = rt.block_on(async {
        let (mut a, b) = pair();
        a.write_all(b"last").unwrap();
        drop(a); // the data and the close reach the selector in one event
        let b = AsyncFd::new(b).unwrap();
        b.readable().await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(b.get_ref().read(&mut buf).unwrap(), 4); // short: drained
        b.clear_data_ready(Direction::Read);
        // The close gives no second edge: it must still be known, or this waits forever.
        timeout(Duration::from_secs(5), b.readable())
            .await
            .expect("the peer's close was forgotten")
            .unwrap();
        b.get_ref().read(&mut buf).unwrap()
    });
    assert_eq!(n, 0);
}
