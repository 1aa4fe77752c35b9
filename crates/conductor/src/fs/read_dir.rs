//! `read_dir`: a directory's entries as a stream, fetched from the pool in batches.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use super::backend::pool;
use super::error::with_path;
use crate::Blocking;

/// Entries fetched per trip to the pool.
const BATCH: usize = 256;

type Batch = (std::fs::ReadDir, VecDeque<io::Result<DirEntry>>);

/// The entries of a directory (aiofiles' `aiofiles.os.scandir`), as a [`Stream`] or through
/// [`next_entry`](ReadDir::next_entry). Order is the file system's; `.` and `..` are skipped.
///
/// ```
/// # conductor::run(async {
/// let mut names = Vec::new();
/// let mut dir = conductor::fs::read_dir("/").await.unwrap();
/// while let Some(entry) = dir.next_entry().await.unwrap() {
///     names.push(entry.file_name());
/// }
/// assert!(names.iter().any(|n| n == "proc"));
/// # });
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path: Arc<Path> = path.as_ref().into();
    let p = path.clone();
    let inner = pool(move || std::fs::read_dir(&p).map_err(|e| with_path("list", &p, e))).await?;
    Ok(ReadDir {
        path,
        state: State::Idle(Some(inner)),
        ready: VecDeque::new(),
    })
}

/// The stream returned by [`read_dir`].
pub struct ReadDir {
    path: Arc<Path>,
    state: State,
    ready: VecDeque<io::Result<DirEntry>>,
}

enum State {
    /// `None` once the directory is exhausted.
    Idle(Option<std::fs::ReadDir>),
    Busy(Blocking<Batch>),
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").field("path", &self.path).finish()
    }
}

impl ReadDir {
    /// The next entry, `None` at the end.
    ///
    /// # Errors
    /// When the directory cannot be read on, with its path in the message.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            match &mut this.state {
                State::Idle(None) => return Poll::Ready(None),
                State::Idle(inner) => {
                    let mut inner = inner.take().expect("checked above");
                    let path = this.path.clone();
                    this.state = State::Busy(crate::to_thread(move || {
                        let batch = inner
                            .by_ref()
                            .take(BATCH)
                            .map(|r| {
                                r.map(|e| DirEntry(Arc::new(e)))
                                    .map_err(|e| with_path("list", &path, e))
                            })
                            .collect();
                        (inner, batch)
                    }));
                }
                State::Busy(job) => match ready!(Pin::new(job).poll(cx)) {
                    Ok((inner, batch)) => {
                        let more = batch.len() == BATCH;
                        this.ready = batch;
                        this.state = State::Idle(more.then_some(inner));
                    }
                    Err(e) => {
                        this.state = State::Idle(None);
                        return Poll::Ready(Some(Err(super::error::job_failed(e))));
                    }
                },
            }
        }
    }
}

/// One entry of a [`ReadDir`].
#[derive(Debug, Clone)]
pub struct DirEntry(Arc<std::fs::DirEntry>);

impl DirEntry {
    /// The entry's full path (the directory's path joined with the name).
    pub fn path(&self) -> PathBuf {
        self.0.path()
    }

    /// The entry's name, without the directory.
    pub fn file_name(&self) -> OsString {
        self.0.file_name()
    }

    /// The entry's type, from the directory listing where the file system gives it (no
    /// `stat` then), on the pool otherwise.
    ///
    /// # Errors
    /// When the entry's type cannot be read, with its path in the message.
    pub async fn file_type(&self) -> io::Result<std::fs::FileType> {
        let e = self.0.clone();
        pool(move || {
            e.file_type()
                .map_err(|err| with_path("stat", &e.path(), err))
        })
        .await
    }

    /// The entry's metadata (`lstat`: a symbolic link is not followed).
    ///
    /// # Errors
    /// When the entry cannot be stat'ed (it was removed meanwhile...), with its path.
    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        let e = self.0.clone();
        pool(move || {
            e.metadata()
                .map_err(|err| with_path("stat", &e.path(), err))
        })
        .await
    }
}
