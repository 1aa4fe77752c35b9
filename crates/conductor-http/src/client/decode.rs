//! Response bodies with `content-encoding: gzip` or `deflate`, decoded chunk by chunk as they
//! arrive (aiohttp decodes them too, and asks for them with `accept-encoding: gzip, deflate`).
//! flate2's write-side decoders take the compressed bytes pushed into them and leave the
//! decoded bytes in their `Vec`, which each step takes.

use std::io::Write;

use bytes::Bytes;
use flate2::write::{GzDecoder, ZlibDecoder};
use http::HeaderMap;

pub(crate) enum Decoder {
    Gzip(GzDecoder<Vec<u8>>),
    Deflate(ZlibDecoder<Vec<u8>>),
}

impl Decoder {
    /// A decoder for the response's `content-encoding`, if it is one this client decodes.
    pub(crate) fn for_headers(headers: &HeaderMap) -> Option<Decoder> {
        let enc = headers.get(http::header::CONTENT_ENCODING)?.to_str().ok()?;
        match enc.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(Decoder::Gzip(GzDecoder::new(Vec::new()))),
            "deflate" => Some(Decoder::Deflate(ZlibDecoder::new(Vec::new()))),
            _ => None,
        }
    }

    /// Decodes `chunk`; what came out of it (maybe nothing yet).
    pub(crate) fn push(&mut self, chunk: &[u8]) -> std::io::Result<Bytes> {
        match self {
            Decoder::Gzip(d) => {
                d.write_all(chunk)?;
                Ok(std::mem::take(d.get_mut()).into())
            }
            Decoder::Deflate(d) => {
                d.write_all(chunk)?;
                Ok(std::mem::take(d.get_mut()).into())
            }
        }
    }

    /// The end of the compressed bytes: what is left, or an error for a truncated stream.
    pub(crate) fn finish(self) -> std::io::Result<Bytes> {
        match self {
            Decoder::Gzip(d) => d.finish().map(Bytes::from),
            Decoder::Deflate(d) => d.finish().map(Bytes::from),
        }
    }
}
