//! `conductor::fs::File`: buffered reads and writes, seeks, syncs, drops and cancellation, on
//! real files, under every backend this build and kernel offer.

mod support;

use std::io::{ErrorKind, SeekFrom};
use std::time::Duration;

use conductor::fs::File;
use futures_lite::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use support::TempDir;
use support::backends::{each_backend, with_each_backend};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn small_writes_and_reads_of_a_large_file_round_trip() {
    each_backend(|b| async move {
        let dir = TempDir::new("stream");
        let path = dir.join("big");
        let data = pattern(5 << 20); // several chunks, not a multiple of one
        let mut f = File::create(&path).await.unwrap();
        for piece in data.chunks(8 << 10) {
            f.write_all(piece).await.unwrap();
        }
        f.sync_all().await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), data.len() as u64);
        drop(f);

        let mut f = File::open(&path).await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 8 << 10];
        loop {
            let n = f.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got == data, "{b:?}");
        // End of file stays end of file.
        assert_eq!(f.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn read_to_end_reads_everything() {
    each_backend(|_| async {
        let dir = TempDir::new("rte");
        let path = dir.join("f");
        let data = pattern(3 << 20);
        std::fs::write(&path, &data).unwrap();
        let mut f = File::open(&path).await.unwrap();
        let mut got = Vec::new();
        f.read_to_end(&mut got).await.unwrap();
        assert!(got == data);
    });
}

#[test]
fn a_write_after_a_read_lands_at_the_logical_position() {
    each_backend(|b| async move {
        let dir = TempDir::new("mixed");
        let path = dir.join("f");
        std::fs::write(&path, "abcdefgh").unwrap();
        let mut f = File::options()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        let mut two = [0u8; 2];
        f.read_exact(&mut two).await.unwrap(); // reads ahead the whole file
        assert_eq!(&two, b"ab");
        f.write_all(b"XY").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "abXYefgh", "{b:?}");
        // Reading on continues after what was written.
        let mut rest = String::new();
        f.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "efgh");
    });
}

#[test]
fn seeks_count_from_the_logical_position() {
    each_backend(|_| async {
        let dir = TempDir::new("seek");
        let path = dir.join("f");
        std::fs::write(&path, "0123456789").unwrap();
        let mut f = File::open(&path).await.unwrap();
        let mut one = [0u8; 1];
        f.read_exact(&mut one).await.unwrap();
        assert_eq!(f.seek(SeekFrom::Current(0)).await.unwrap(), 1);
        assert_eq!(f.seek(SeekFrom::Current(3)).await.unwrap(), 4);
        f.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"4");
        assert_eq!(f.seek(SeekFrom::End(-2)).await.unwrap(), 8);
        let mut s = String::new();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "89");
        assert_eq!(f.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        s.clear();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "0123456789");
    });
}

#[test]
fn buffered_writes_are_visible_to_a_seek_and_read() {
    each_backend(|_| async {
        let dir = TempDir::new("wseek");
        let path = dir.join("f");
        let mut f = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        f.write_all(b"hello world").await.unwrap();
        f.seek(SeekFrom::Start(6)).await.unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "world");
    });
}

#[test]
fn append_set_len_and_sync_data() {
    each_backend(|_| async {
        let dir = TempDir::new("append");
        let path = dir.join("log");
        for line in ["one\n", "two\n"] {
            let mut f = File::options()
                .append(true)
                .create(true)
                .open(&path)
                .await
                .unwrap();
            f.write_all(line.as_bytes()).await.unwrap();
            f.sync_data().await.unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        let mut f = File::options().write(true).open(&path).await.unwrap();
        f.set_len(3).await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one");
    });
}

/// Dropped with one chunk in flight and more bytes buffered: all of it still lands, in order.
#[test]
fn a_dropped_file_finishes_its_write_in_flight_then_its_buffer() {
    each_backend(|b| async move {
        let dir = TempDir::new("dropbusy");
        let path = dir.join("f");
        let data = pattern((3 << 20) + 10);
        let mut f = File::create(&path).await.unwrap();
        f.write_all(&data).await.unwrap(); // the last full chunk is in flight, 10 bytes buffered
        drop(f);
        for _ in 0..500 {
            if std::fs::read(&path).unwrap() == data {
                return;
            }
            conductor::sleep(Duration::from_millis(10)).await;
        }
        panic!("the bytes in flight and buffered were not all written ({b:?})");
    });
}

#[test]
fn a_dropped_file_still_writes_its_buffer() {
    each_backend(|_| async {
        let dir = TempDir::new("dropw");
        let path = dir.join("f");
        let mut f = File::create(&path).await.unwrap();
        f.write_all(b"not lost").await.unwrap();
        drop(f); // no flush
        for _ in 0..500 {
            if std::fs::read(&path).unwrap() == b"not lost" {
                return;
            }
            conductor::sleep(Duration::from_millis(10)).await;
        }
        panic!("the buffered bytes were never written");
    });
}

/// A read cancelled by a timeout leaves the file usable: the operation in flight finishes and
/// its bytes are served to the next read.
#[test]
fn a_cancelled_read_leaves_the_file_usable() {
    each_backend(|b| async move {
        let dir = TempDir::new("cancelread");
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Read and write on one descriptor: opening does not wait for a peer.
        let mut f = File::options()
            .read(true)
            .write(true)
            .open(&fifo)
            .await
            .unwrap();
        let mut buf = [0u8; 16];
        let r = conductor::timeout(Duration::from_millis(50), f.read(&mut buf)).await;
        assert!(r.is_err(), "nothing was written yet ({b:?})");
        let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        std::io::Write::write_all(&mut writer, b"late").unwrap();
        let n = conductor::timeout(Duration::from_secs(10), f.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"late");
    });
}

#[test]
fn a_file_opened_for_reading_refuses_writes_at_flush() {
    conductor::run(async {
        let dir = TempDir::new("rdonly");
        let path = dir.join("f");
        std::fs::write(&path, "x").unwrap();
        let mut f = File::open(&path).await.unwrap();
        f.write_all(b"y").await.unwrap(); // buffered
        let err = f.flush().await.unwrap_err();
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x");
        // EBADF: reported as "Bad file descriptor"; no particular kind.
        assert_ne!(err.kind(), ErrorKind::NotFound);
    });
}

/// A `File` with buffered bytes dropped as `run`'s main task ends: the bytes reach the file
/// before `run` returns (shutdown waits for the flush on the pool).
#[test]
fn a_file_dropped_at_the_end_of_run_reaches_the_os_before_run_returns() {
    with_each_backend(|b| {
        let dir = TempDir::new("dropend");
        let path = dir.join("f");
        let data = pattern((3 << 20) + 10); // a chunk in flight and bytes buffered at the drop
        let (p, d) = (path.clone(), data.clone());
        conductor::run(async move {
            let mut f = File::create(&p).await.unwrap();
            f.write_all(&d).await.unwrap();
            // `f` is dropped here, unflushed, as the main task ends.
        });
        assert!(
            std::fs::read(&path).unwrap() == data,
            "bytes lost at the end of run ({b:?})"
        );
    });
}

/// A `File` held by a task that `run`'s shutdown cancels: its buffered bytes still land.
#[test]
fn a_file_held_by_a_task_cancelled_at_shutdown_reaches_the_os() {
    with_each_backend(|b| {
        let dir = TempDir::new("dropcancel");
        let path = dir.join("f");
        let p = path.clone();
        conductor::run(async move {
            let (written, wrote) = conductor::sync::oneshot::channel();
            conductor::spawn(async move {
                let mut f = File::create(&p).await.unwrap();
                f.write_all(b"written before the cancellation")
                    .await
                    .unwrap();
                let _ = written.send(());
                std::future::pending::<()>().await;
            })
            .detach();
            wrote.await.unwrap(); // then main returns, and shutdown cancels the writer
        });
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"written before the cancellation",
            "bytes lost at shutdown ({b:?})"
        );
    });
}

/// The background write of a dropped `File` fails: the loop's exception handler hears of it,
/// with the path.
#[test]
fn a_failed_background_write_goes_to_the_exception_handler() {
    with_each_backend(|b| {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        conductor::Runtime::builder()
            .exception_handler(move |ctx| {
                let err = ctx.error().map(ToString::to_string).unwrap_or_default();
                s.lock().unwrap().push(format!("{} / {err}", ctx.message()));
            })
            .build()
            .unwrap()
            .run(async {
                let mut full = File::options().write(true).open("/dev/full").await.unwrap();
                full.write_all(b"no room").await.unwrap();
            });
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{b:?}: {seen:?}");
        assert!(
            seen[0].starts_with(
                "A dropped File could not write its buffered bytes / error: could not write /dev/full: "
            ),
            "{b:?}: {seen:?}"
        );
    });
}
