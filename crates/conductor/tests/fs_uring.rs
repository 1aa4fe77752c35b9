//! io_uring file IO whose completions do not come from the kernel's worker threads: reads of
//! cold files (completed through task work after the disk read), FIFOs (armed on the pipe's
//! readiness), directories (an error, not a hang), `/dev/full`. Every wait is bounded.
//!
//! With a build without the `io-uring` feature, or a kernel that refuses io_uring, each test
//! says so on standard error and passes: the pool runs these cases in `fs_whole.rs` and
//! `fs_file.rs`.

mod support;

use std::future::Future;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use conductor::fs::{self, Backend, File};
use futures_lite::AsyncReadExt;
use support::TempDir;

/// How long an operation may take before it counts as hung (a cold read of a few MiB takes
/// milliseconds; a hang never ends).
const BOUND: Duration = Duration::from_secs(30);

/// Runs `body` on a loop whose file backend is io_uring, or reports why it cannot.
fn on_uring<Fut: Future<Output = ()> + 'static>(test: &str, body: impl FnOnce() -> Fut) {
    match fs::set_backend(Backend::IoUring) {
        Ok(()) => conductor::run(body()),
        Err(e) => eprintln!("SKIPPED {test}: {e}"),
    }
}

/// `fut`, or a panic naming `what` if it does not finish within `BOUND`.
async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match conductor::timeout(BOUND, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {BOUND:?}: its completion was not reaped"),
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Writes `data` to `path`, syncs it, and drops it from the page cache, so that the next read
/// goes to the disk.
fn write_cold(path: &Path, data: &[u8]) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(data).unwrap();
    f.sync_all().unwrap();
    // SAFETY: fadvise on a descriptor we own; it only drops clean cached pages.
    let r = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(r, 0, "posix_fadvise failed");
}

#[test]
fn a_cold_file_is_read_whole() {
    on_uring("a_cold_file_is_read_whole", || async {
        let dir = TempDir::new("cold-whole");
        for i in 0..5 {
            let path = dir.0.join(format!("cold-{i}"));
            let data = pattern(1 << 20);
            write_cold(&path, &data);
            let got = bounded("a cold fs::read", fs::read(&path)).await.unwrap();
            assert!(got == data, "cold file {i} read back different bytes");
        }
    });
}

#[test]
fn a_cold_file_is_read_through_a_file() {
    on_uring("a_cold_file_is_read_through_a_file", || async {
        let dir = TempDir::new("cold-file");
        let path = dir.0.join("cold");
        let data = pattern(3 << 20);
        write_cold(&path, &data);
        let mut f = File::open(&path).await.unwrap();
        let mut got = Vec::new();
        bounded("a cold File read", f.read_to_end(&mut got))
            .await
            .unwrap();
        assert!(got == data);
    });
}

#[test]
fn a_fifo_is_read_once_its_writer_writes() {
    on_uring("a_fifo_is_read_once_its_writer_writes", || async {
        let dir = TempDir::new("fifo");
        let path = dir.0.join("fifo");
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let writer_path = path.clone();
        let writer = std::thread::spawn(move || {
            // Blocks until the reader opened its end.
            let mut w = std::fs::OpenOptions::new()
                .write(true)
                .open(writer_path)
                .unwrap();
            // The reader's read is in the ring, waiting on the empty pipe, by now (or soon:
            // either way its completion must be reaped).
            std::thread::sleep(Duration::from_millis(50));
            w.write_all(b"through the fifo").unwrap();
        });
        let got = bounded("a FIFO fs::read", fs::read(&path)).await.unwrap();
        assert_eq!(got, b"through the fifo");
        writer.join().unwrap();
    });
}

#[test]
fn reading_a_directory_is_an_error_not_a_hang() {
    on_uring("reading_a_directory_is_an_error_not_a_hang", || async {
        let dir = TempDir::new("dir");
        let err = bounded("fs::read of a directory", fs::read(&dir.0))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
        let mut f = File::open(&dir.0).await.unwrap();
        let mut buf = [0; 16];
        let err = bounded("a File read of a directory", f.read(&mut buf))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
    });
}

#[test]
fn dev_full_reads_zeros_and_refuses_writes() {
    on_uring("dev_full_reads_zeros_and_refuses_writes", || async {
        let mut f = File::open("/dev/full").await.unwrap();
        let mut buf = [1u8; 4096];
        bounded("a read of /dev/full", f.read_exact(&mut buf))
            .await
            .unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        let err = bounded("a write to /dev/full", fs::write("/dev/full", b"x"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    });
}
