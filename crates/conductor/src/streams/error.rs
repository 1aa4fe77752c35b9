//! `ReadError`: why a `StreamReader` read gave no value (asyncio's `IncompleteReadError`,
//! `LimitOverrunError`, and the `ValueError` of `readline`).

use std::fmt;
use std::io;

/// What went wrong in a [`StreamReader`](super::StreamReader) read.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// The stream ended before the read could complete (asyncio's `IncompleteReadError`): the
    /// bytes that did arrive are in `partial` and no longer buffered. `expected` is the size
    /// `readexactly` asked for, `None` for `readuntil` (which was looking for a separator).
    IncompleteRead {
        /// The bytes read before the end of the stream.
        partial: Vec<u8>,
        /// How many bytes were asked for (`None`: up to a separator).
        expected: Option<usize>,
    },
    /// `readuntil` found no separator within the reader's limit (asyncio's
    /// `LimitOverrunError`). The data stays buffered: `consumed` bytes could be read without
    /// reaching the separator (or, when the separator was found, the chunk before it).
    LimitOverrun {
        /// How many buffered bytes were examined.
        consumed: usize,
    },
    /// `readline` met a line longer than the reader's limit and discarded it (asyncio's
    /// `readline` raises `ValueError` there): `discarded` bytes were dropped from the buffer,
    /// up to and including the newline when it had arrived.
    LineTooLong {
        /// How many bytes were dropped.
        discarded: usize,
    },
    /// The underlying stream failed.
    Io(io::Error),
}

impl ReadError {
    /// The partial data of an [`IncompleteRead`](ReadError::IncompleteRead), if that is what
    /// this is.
    pub fn partial(&self) -> Option<&[u8]> {
        match self {
            ReadError::IncompleteRead { partial, .. } => Some(partial),
            _ => None,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::IncompleteRead {
                partial,
                expected: Some(n),
            } => write!(
                f,
                "the stream ended after {} of {n} expected bytes (the peer closed early); \
                 the bytes that arrived are in `partial`",
                partial.len()
            ),
            ReadError::IncompleteRead {
                partial,
                expected: None,
            } => write!(
                f,
                "the stream ended before the separator, after {} bytes; the bytes that arrived \
                 are in `partial`",
                partial.len()
            ),
            ReadError::LimitOverrun { consumed } => write!(
                f,
                "no separator within the reader's limit ({consumed} bytes examined); the data is \
                 still buffered: read it with read()/readexactly(), or raise the limit \
                 (StreamReader::with_limit)"
            ),
            ReadError::LineTooLong { discarded } => write!(
                f,
                "a line longer than the reader's limit was discarded ({discarded} bytes); raise \
                 the limit (StreamReader::with_limit) or read with readuntil()"
            ),
            ReadError::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// So that `?` works in functions returning `io::Result`: an incomplete read is
/// `UnexpectedEof`, a limit overrun `InvalidData`.
impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => e,
            ReadError::IncompleteRead { .. } => io::Error::new(io::ErrorKind::UnexpectedEof, e),
            _ => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}
