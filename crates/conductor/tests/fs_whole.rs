//! Whole-file helpers (aiofiles' read/write, aiofiles.os), on real files in temporary
//! directories, under every backend this build and kernel offer.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use conductor::fs::{self, Backend};
use support::TempDir;
use support::backends::each_backend;

/// Deterministic bytes that differ at every offset a copy could get wrong.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn write_then_read_round_trips() {
    each_backend(|b| async move {
        let dir = TempDir::new("roundtrip");
        let path = dir.join("a.txt");
        fs::write(&path, "hello, files").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"hello, files", "{b:?}");
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "hello, files");
        fs::write(&path, "short").await.unwrap(); // truncates
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "short");
        fs::write(&path, "").await.unwrap();
        assert!(fs::read(&path).await.unwrap().is_empty());
    });
}

#[test]
fn a_64_mib_copy_is_identical_and_so_is_reading_it_back() {
    each_backend(|b| async move {
        let dir = TempDir::new("bigcopy");
        let (src, dst) = (dir.join("src"), dir.join("dst"));
        let data = pattern(64 << 20, 7);
        fs::write(&src, &data).await.unwrap();
        assert_eq!(fs::copy(&src, &dst).await.unwrap(), 64 << 20);
        assert!(std::fs::read(&dst).unwrap() == data, "copy differs ({b:?})");
        assert!(
            fs::read(&dst).await.unwrap() == data,
            "read differs ({b:?})"
        );
        assert_eq!(fs::metadata(&dst).await.unwrap().len(), 64 << 20);
    });
}

#[test]
fn many_files_read_concurrently_are_each_read_whole() {
    each_backend(|_| async {
        let dir = TempDir::new("many");
        let paths: Vec<PathBuf> = (0..200).map(|i| dir.join(&format!("f{i}"))).collect();
        for (i, p) in paths.iter().enumerate() {
            std::fs::write(p, pattern(10_000 + i * 97, i as u64)).unwrap();
        }
        let reads = paths.iter().map(|p| fs::read(p.clone()));
        let contents = conductor::gather(reads).await.unwrap();
        for (i, c) in contents.into_iter().enumerate() {
            assert!(c == pattern(10_000 + i * 97, i as u64), "file {i}");
        }
    });
}

/// Three FIFOs whose writer opens them in the order 3, 2, 1: opening a FIFO blocks until the
/// other end opens too, so reads that ran one at a time (1 first) would never finish. They
/// finish only because the three reads wait at the same time.
#[test]
fn concurrent_reads_overlap() {
    conductor::run(async {
        let dir = TempDir::new("overlap");
        let fifos: Vec<PathBuf> = (1..=3).map(|i| dir.join(&format!("fifo{i}"))).collect();
        for f in &fifos {
            let c = std::ffi::CString::new(f.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: `c` is a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }
        let writer_fifos = fifos.clone();
        let writer = std::thread::spawn(move || {
            for (i, f) in writer_fifos.iter().enumerate().rev() {
                std::fs::write(f, format!("fifo {}", i + 1)).unwrap();
            }
        });
        let reads = fifos.iter().map(|f| fs::read_to_string(f.clone()));
        let got = conductor::timeout(Duration::from_secs(20), conductor::gather(reads)).await;
        let got = got.expect("the reads did not overlap").unwrap();
        assert_eq!(got, ["fifo 1", "fifo 2", "fifo 3"]);
        writer.join().unwrap();
    });
}

#[test]
fn rename_remove_and_metadata() {
    conductor::run(async {
        let dir = TempDir::new("rename");
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::write(&a, "x").await.unwrap();
        fs::rename(&a, &b).await.unwrap();
        assert!(!a.exists());
        let m = fs::metadata(&b).await.unwrap();
        assert!(m.is_file());
        assert_eq!(m.len(), 1);
        fs::remove_file(&b).await.unwrap();
        assert!(!b.exists());
    });
}

#[test]
fn read_dir_lists_every_entry_across_batches() {
    conductor::run(async {
        let dir = TempDir::new("readdir");
        let nested = dir.join("x/y/z");
        fs::create_dir_all(&nested).await.unwrap();
        fs::create_dir_all(&nested).await.unwrap(); // exists already: fine
        for i in 0..600 {
            std::fs::write(nested.join(format!("{i:03}")), "").unwrap();
        }
        let mut names = Vec::new();
        let mut entries = fs::read_dir(&nested).await.unwrap();
        while let Some(e) = entries.next_entry().await.unwrap() {
            assert_eq!(e.path(), nested.join(e.file_name()));
            assert!(e.file_type().await.unwrap().is_file());
            names.push(e.file_name().into_string().unwrap());
        }
        names.sort();
        let expected: Vec<String> = (0..600).map(|i| format!("{i:03}")).collect();
        assert_eq!(names, expected);
        fs::remove_dir_all(dir.join("x")).await.unwrap();
        assert!(!dir.join("x").exists());
    });
}

#[test]
fn read_dir_is_a_stream() {
    use futures_lite::StreamExt;
    conductor::run(async {
        let dir = TempDir::new("stream");
        for n in ["a", "b", "c"] {
            std::fs::write(dir.join(n), n).unwrap();
        }
        let entries: Vec<_> = fs::read_dir(&dir.0).await.unwrap().collect().await;
        let mut names: Vec<_> = entries
            .into_iter()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["a", "b", "c"]);
    });
}

/// With the `io-uring` feature, the backend is io_uring unless the kernel refuses it; either
/// way the choice is reported and can be overridden per thread.
#[test]
fn the_backend_is_probed_once_and_can_be_chosen() {
    let default = fs::backend();
    let uring = fs::set_backend(Backend::IoUring);
    if cfg!(feature = "io-uring") && uring.is_ok() {
        assert_eq!(default, Backend::IoUring);
        assert_eq!(fs::backend(), Backend::IoUring);
    } else {
        assert_eq!(default, Backend::ThreadPool);
        assert_eq!(uring.unwrap_err().kind(), std::io::ErrorKind::Unsupported);
    }
    fs::set_backend(Backend::ThreadPool).unwrap();
    assert_eq!(fs::backend(), Backend::ThreadPool);
    eprintln!("default file backend here: {default:?}");
}
