//! File workloads: many small files read concurrently, one big file copied (whole, and streamed
//! through `File` in 64 KiB pieces), on conductor (thread pool, io_uring), tokio::fs and
//! blocking std::fs.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conductor::fs::Backend;

/// Who performs the work.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Who {
    ConductorPool,
    ConductorUring,
    Tokio,
    Std,
}

pub const COLUMNS: [(&str, Who); 4] = [
    ("conductor (pool)", Who::ConductorPool),
    ("conductor (io_uring)", Who::ConductorUring),
    ("tokio", Who::Tokio),
    ("std", Who::Std),
];

/// Whether this build and kernel can run `who`.
pub fn available(who: Who) -> bool {
    who != Who::ConductorUring || conductor::fs::set_backend(Backend::IoUring).is_ok()
}

/// Runs `body` as the main task of a fresh conductor loop using `backend`; returns its time.
fn on_conductor<F, Fut>(backend: Backend, body: F) -> Duration
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()> + 'static,
{
    conductor::fs::set_backend(backend).expect("backend");
    let rt = conductor::Runtime::new().expect("conductor");
    let fut = body();
    rt.block_on(async move {
        let start = Instant::now();
        fut.await;
        start.elapsed()
    })
}

fn on_tokio<Fut: std::future::Future<Output = ()>>(fut: impl FnOnce() -> Fut) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(async move {
        let start = Instant::now();
        fut().await;
        start.elapsed()
    })
}

fn backend(who: Who) -> Backend {
    if who == Who::ConductorUring {
        Backend::IoUring
    } else {
        Backend::ThreadPool
    }
}

/// Creates `n` files of `size` bytes under `dir`.
pub fn make_files(dir: &Path, n: usize, size: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let p = dir.join(format!("f{i:04}"));
            std::fs::write(&p, vec![i as u8; size]).expect("write");
            p
        })
        .collect()
}

/// Reads every file, all at once (one task each), and checks the total size.
pub fn read_many(who: Who, paths: &[PathBuf], size: usize) -> Duration {
    let paths = paths.to_vec();
    let want = paths.len() * size;
    match who {
        Who::Std => {
            let start = Instant::now();
            let total: usize = paths
                .iter()
                .map(|p| std::fs::read(p).expect("read").len())
                .sum();
            assert_eq!(black_box(total), want);
            start.elapsed()
        }
        Who::Tokio => on_tokio(|| async move {
            let tasks: Vec<_> = paths
                .into_iter()
                .map(|p| tokio::spawn(tokio::fs::read(p)))
                .collect();
            let mut total = 0;
            for t in tasks {
                total += t.await.expect("task").expect("read").len();
            }
            assert_eq!(total, want);
        }),
        _ => on_conductor(backend(who), || async move {
            let tasks: Vec<_> = paths
                .into_iter()
                .map(|p| conductor::spawn(conductor::fs::read(p)))
                .collect();
            let mut total = 0;
            for t in tasks {
                total += t.await.expect("task").expect("read").len();
            }
            assert_eq!(total, want);
        }),
    }
}

/// Copies `src` to `dst` with the library's whole-file copy; removes `dst` afterwards (untimed).
pub fn copy_whole(who: Who, src: &Path, dst: &Path) -> Duration {
    let (s, d) = (src.to_owned(), dst.to_owned());
    let took = match who {
        Who::Std => {
            let start = Instant::now();
            std::fs::copy(&s, &d).expect("copy");
            start.elapsed()
        }
        Who::Tokio => on_tokio(|| async move {
            tokio::fs::copy(s, d).await.expect("copy");
        }),
        _ => on_conductor(backend(who), || async move {
            conductor::fs::copy(s, d).await.expect("copy");
        }),
    };
    finish_copy(src, dst);
    took
}

/// Copies through the library's `File`: read 64 KiB, write it, until the end, then flush.
pub fn copy_streamed(who: Who, src: &Path, dst: &Path) -> Duration {
    const PIECE: usize = 64 << 10;
    let (s, d) = (src.to_owned(), dst.to_owned());
    let took = match who {
        Who::Std => {
            use std::io::{Read, Write};
            let start = Instant::now();
            let mut r = std::fs::File::open(&s).expect("open");
            let mut w = std::fs::File::create(&d).expect("create");
            let mut buf = vec![0u8; PIECE];
            loop {
                let n = r.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                w.write_all(&buf[..n]).expect("write");
            }
            start.elapsed()
        }
        Who::Tokio => on_tokio(|| async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut r = tokio::fs::File::open(s).await.expect("open");
            let mut w = tokio::fs::File::create(d).await.expect("create");
            let mut buf = vec![0u8; PIECE];
            loop {
                let n = r.read(&mut buf).await.expect("read");
                if n == 0 {
                    break;
                }
                w.write_all(&buf[..n]).await.expect("write");
            }
            w.flush().await.expect("flush");
        }),
        _ => on_conductor(backend(who), || async move {
            use futures_lite::{AsyncReadExt, AsyncWriteExt};
            let mut r = conductor::fs::File::open(s).await.expect("open");
            let mut w = conductor::fs::File::create(d).await.expect("create");
            let mut buf = vec![0u8; PIECE];
            loop {
                let n = r.read(&mut buf).await.expect("read");
                if n == 0 {
                    break;
                }
                w.write_all(&buf[..n]).await.expect("write");
            }
            w.flush().await.expect("flush");
        }),
    };
    finish_copy(src, dst);
    took
}

/// Checks the copy's size, removes it, and lets writeback finish before the next run.
fn finish_copy(src: &Path, dst: &Path) {
    let (a, b) = (
        std::fs::metadata(src).expect("src").len(),
        std::fs::metadata(dst).expect("dst").len(),
    );
    assert_eq!(a, b, "the copy is incomplete");
    std::fs::remove_file(dst).expect("remove");
    super::settle();
}
