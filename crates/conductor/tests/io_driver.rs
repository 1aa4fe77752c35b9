//! The selector: readiness from the OS wakes the task that waits for it.

use std::future::poll_fn;
use std::io::{Read, Write};
use std::time::Duration;

use conductor::io::{Direction, Registration};
use conductor::Runtime;
use mio::net::UnixStream;
use mio::Interest;

#[test]
fn a_readable_socket_wakes_its_reader() {
    let rt = Runtime::new().unwrap();
    let got = rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
        let writer = conductor::spawn(async move {
            conductor::sleep(Duration::from_millis(5)).await;
            a.write_all(b"ping").unwrap();
            a
        });
        let mut buf = [0u8; 16];
        let n = poll_fn(|cx| reg.poll_io(cx, Direction::Read, || b.read(&mut buf)))
            .await
            .unwrap();
        let _a = writer.await.unwrap();
        buf[..n].to_vec()
    });
    assert_eq!(got, b"ping");
}

#[test]
fn many_sockets_on_one_loop() {
    let rt = Runtime::new().unwrap();
    let total = rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..200u8 {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            tasks.push(conductor::spawn(async move {
                let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
                let mut buf = [0u8; 1];
                poll_fn(|cx| reg.poll_io(cx, Direction::Read, || b.read(&mut buf)))
                    .await
                    .unwrap();
                buf[0] as u32
            }));
            conductor::spawn(async move {
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
    let (_a, mut b) = UnixStream::pair().unwrap();
    let err = Registration::new(&mut b, Interest::READABLE).unwrap_err();
    assert!(err.to_string().contains("no conductor event loop"));
}

#[test]
fn a_closed_peer_reads_as_end_of_file() {
    let rt = Runtime::new().unwrap();
    let n = rt.block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
        drop(a);
        let mut buf = [0u8; 4];
        poll_fn(|cx| reg.poll_io(cx, Direction::Read, || b.read(&mut buf)))
            .await
            .unwrap()
    });
    assert_eq!(n, 0);
}
