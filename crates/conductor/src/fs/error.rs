//! Errors that name the path they concern.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::task::TaskError;

/// An IO error with the operation and the path it failed on: its message reads
/// `could not open /x/y: Permission denied (os error 13)`.
///
/// Every error of [`conductor::fs`](crate::fs) that concerns a path is an [`io::Error`] of the
/// underlying error's kind wrapping a `PathError`, so `e.kind()` works as usual and the path
/// can be read back:
///
/// ```
/// # conductor::run(async {
/// let err = conductor::fs::read("/no/such/file").await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().starts_with("could not open /no/such/file: "));
/// let path_err = conductor::fs::PathError::of(&err).unwrap();
/// assert_eq!(path_err.path(), std::path::Path::new("/no/such/file"));
/// assert_eq!(path_err.raw_os_error(), Some(libc::ENOENT));
/// # });
/// ```
#[derive(Debug)]
pub struct PathError {
    op: &'static str,
    path: PathBuf,
    source: io::Error,
}

impl PathError {
    /// The `PathError` inside `err`, if it wraps one.
    pub fn of(err: &io::Error) -> Option<&PathError> {
        err.get_ref()?.downcast_ref::<PathError>()
    }

    /// What was attempted: "open", "read", "write", "copy", ...
    pub fn operation(&self) -> &'static str {
        self.op
    }

    /// The path the operation failed on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The OS error number, which the wrapping `io::Error` no longer reports itself.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.raw_os_error()
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not {} {}: {}",
            self.op,
            self.path.display(),
            self.source
        )
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `e` with the operation and the path (once: an error that already names a path is
/// returned as it is).
pub(crate) fn with_path(op: &'static str, path: &Path, e: io::Error) -> io::Error {
    if PathError::of(&e).is_some() {
        return e;
    }
    io::Error::new(
        e.kind(),
        PathError {
            op,
            path: path.to_owned(),
            source: e,
        },
    )
}

/// A pool job that produced no result: it panicked, or the pool has shut down with the loop.
pub(crate) fn job_failed(e: TaskError) -> io::Error {
    match e {
        TaskError::Panicked(p) => std::panic::resume_unwind(p),
        e => io::Error::other(format!("file operation abandoned: {e}")),
    }
}
