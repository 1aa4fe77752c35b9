//! tokio's io traits on the reader and writer (feature `tokio-io`), forwarding to their
//! futures-io implementations.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

use super::{StreamReader, StreamWriter};
use crate::io::tokio_traits::{tokio_read_via_futures_io, tokio_write_via_futures_io};

tokio_read_via_futures_io!([R: AsyncRead + Unpin] StreamReader<R>);

impl<R: AsyncRead + Unpin> tokio::io::AsyncBufRead for StreamReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        AsyncBufRead::poll_fill_buf(self, cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        AsyncBufRead::consume(self, amt);
    }
}

tokio_write_via_futures_io!([W: AsyncWrite + Unpin] StreamWriter<W>);
