//! Files, as aiofiles gives them to asyncio: whole-file helpers, [`File`] with the futures-io
//! traits, and directory streams.
//!
//! Regular files are always "ready" to the OS selector, so their work runs elsewhere: on the
//! loop's thread pool, or on io_uring where the `io-uring` feature is on and the kernel allows
//! it ([`backend`], [`Backend`]). Either way the loop never blocks, and:
//! - work goes out in large pieces: a whole-file helper is one pool job ([`copy`] is one
//!   `std::fs::copy`, which the kernel does with `copy_file_range`), and [`File`] reads and
//!   writes in chunks of up to [`MAX_CHUNK`], so a big file does not pay a thread hop per few
//!   KiB;
//! - concurrent operations overlap (the pool runs several at once, io_uring as many as the ring
//!   holds);
//! - every error that concerns a path names it ("could not open /x/y: Permission denied"; see
//!   [`PathError`]), and a write never stops short silently: a write that makes no progress is
//!   a `WriteZero` error.
//!
//! Internals: `backend` chooses the mechanism (a two-variant enum, `Driver`); `uring` is the
//! io_uring ring and its completion thread; `file`, `read_dir` and this file are the API.
//! Uses `blocking` (the pool), `sync::oneshot` and the runtime's exception handler and `Handle`;
//! nothing of net, process or signal.

// `unsafe` only in uring.rs, which allow it and say why; `forbid` would reach them too.
#![deny(unsafe_code)]

mod backend;
mod error;
mod file;
mod read_dir;
#[cfg(all(feature = "io-uring", target_os = "linux"))]
mod uring;

use std::io;
use std::path::Path;

pub use backend::{Backend, backend, set_backend};
pub use error::PathError;
pub use file::{File, MAX_CHUNK, OpenOptions};
pub use read_dir::{DirEntry, ReadDir, read_dir};

use backend::{Driver, pool};
use error::with_path;

/// Reads a whole file (aiofiles' `await f.read()` in binary mode).
///
/// # Errors
/// When the file cannot be opened or read; the message names the path.
///
/// ```
/// # conductor::run(async {
/// let bytes = conductor::fs::read("/proc/self/stat").await.unwrap();
/// assert!(!bytes.is_empty());
/// # });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    Driver::current().read_path(path.as_ref().to_owned()).await
}

/// Reads a whole file as UTF-8 text (aiofiles' `open(path, "r", encoding="utf-8")`).
///
/// # Errors
/// As [`read`], and `InvalidData` (with the path) when the bytes are not UTF-8.
///
/// ```
/// # conductor::run(async {
/// let text = conductor::fs::read_to_string("/proc/self/status").await.unwrap();
/// assert!(text.starts_with("Name:"));
/// # });
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref();
    let bytes = read(path).await?;
    String::from_utf8(bytes).map_err(|e| {
        with_path(
            "decode",
            path,
            io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
        )
    })
}

/// Creates or truncates a file and writes `contents` to it, all of it or an error.
///
/// # Errors
/// When the file cannot be created or written (a full disk, a directory in the way...); the
/// message names the path.
///
/// ```
/// # conductor::run(async {
/// let path = std::env::temp_dir().join(format!("conductor-doc-write-{}", std::process::id()));
/// conductor::fs::write(&path, "hello").await.unwrap();
/// assert_eq!(conductor::fs::read_to_string(&path).await.unwrap(), "hello");
/// conductor::fs::remove_file(&path).await.unwrap();
/// # });
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    Driver::current()
        .write_path(path.as_ref().to_owned(), contents.as_ref().to_vec())
        .await
}

/// Copies a file's contents and permissions to another path; returns the number of bytes
/// copied. One pool job: `std::fs::copy`, which the kernel performs (`copy_file_range`), so a
/// gigabyte costs one thread hop.
///
/// # Errors
/// As [`std::fs::copy`]; the message names both paths.
///
/// ```
/// # conductor::run(async {
/// let dir = std::env::temp_dir();
/// let (a, b) = (dir.join(format!("conductor-doc-copy-a-{}", std::process::id())),
///               dir.join(format!("conductor-doc-copy-b-{}", std::process::id())));
/// conductor::fs::write(&a, "twice").await.unwrap();
/// assert_eq!(conductor::fs::copy(&a, &b).await.unwrap(), 5);
/// conductor::fs::remove_file(&a).await.unwrap();
/// conductor::fs::remove_file(&b).await.unwrap();
/// # });
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    pool(move || {
        std::fs::copy(&from, &to).map_err(|e| {
            let what = format!("{} to {}", from.display(), to.display());
            with_path("copy", Path::new(&what), e)
        })
    })
    .await
}

/// Renames a file or directory, replacing `to` if it is a file (`rename(2)`).
///
/// # Errors
/// As [`std::fs::rename`]; the message names both paths.
///
/// ```
/// # conductor::run(async {
/// let err = conductor::fs::rename("/no/such/a", "/tmp/b").await.unwrap_err();
/// assert!(err.to_string().starts_with("could not rename /no/such/a to /tmp/b: "));
/// # });
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    pool(move || {
        std::fs::rename(&from, &to).map_err(|e| {
            let what = format!("{} to {}", from.display(), to.display());
            with_path("rename", Path::new(&what), e)
        })
    })
    .await
}

/// Removes a file (not a directory).
///
/// # Errors
/// As [`std::fs::remove_file`], with the path in the message.
///
/// ```
/// # conductor::run(async {
/// let err = conductor::fs::remove_file("/no/such/file").await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// # });
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    pool(move || std::fs::remove_file(&path).map_err(|e| with_path("remove", &path, e))).await
}

/// Removes an empty directory.
///
/// # Errors
/// As [`std::fs::remove_dir`], with the path in the message.
///
/// ```
/// # conductor::run(async {
/// assert!(conductor::fs::remove_dir("/no/such/dir").await.is_err());
/// # });
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    pool(move || std::fs::remove_dir(&path).map_err(|e| with_path("remove", &path, e))).await
}

/// Removes a directory and everything in it.
///
/// # Errors
/// As [`std::fs::remove_dir_all`], with the path in the message.
///
/// ```
/// # conductor::run(async {
/// let dir = std::env::temp_dir().join(format!("conductor-doc-rmall-{}", std::process::id()));
/// conductor::fs::create_dir_all(dir.join("a/b")).await.unwrap();
/// conductor::fs::remove_dir_all(&dir).await.unwrap();
/// assert!(!dir.exists());
/// # });
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    pool(move || std::fs::remove_dir_all(&path).map_err(|e| with_path("remove", &path, e))).await
}

/// Creates a directory and its missing parents (`mkdir -p`).
///
/// # Errors
/// As [`std::fs::create_dir_all`], with the path in the message.
///
/// ```
/// # conductor::run(async {
/// let err = conductor::fs::create_dir_all("/proc/no/such").await.unwrap_err();
/// assert!(err.to_string().contains("/proc/no/such"));
/// # });
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    pool(move || std::fs::create_dir_all(&path).map_err(|e| with_path("create", &path, e))).await
}

/// A path's metadata, following symbolic links (`stat`).
///
/// # Errors
/// As [`std::fs::metadata`], with the path in the message.
///
/// ```
/// # conductor::run(async {
/// assert!(conductor::fs::metadata("/").await.unwrap().is_dir());
/// # });
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    let path = path.as_ref().to_owned();
    pool(move || std::fs::metadata(&path).map_err(|e| with_path("stat", &path, e))).await
}
