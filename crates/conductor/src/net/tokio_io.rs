//! tokio's io traits (feature `tokio-io`): the glue between tokio's `ReadBuf` and conductor's
//! slice-based reads. Only tokio's traits are used, never its runtime.

use std::io;
use std::task::{ready, Poll};

/// Reads into the unfilled part of `buf` with `read`, then marks what was read as filled.
pub(crate) fn poll_read_buf(
    buf: &mut tokio::io::ReadBuf<'_>,
    read: impl FnOnce(&mut [u8]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    let n = ready!(read(buf.initialize_unfilled()))?;
    buf.advance(n);
    Poll::Ready(Ok(()))
}
