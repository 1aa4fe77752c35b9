//! Response bodies with `content-encoding: gzip`, `deflate` or `br`, decoded chunk by chunk as
//! they arrive (aiohttp decodes them too, and asks for them with `accept-encoding: gzip,
//! deflate, br` when brotli is installed). flate2's write-side decoders and
//! brotli-decompressor's `DecompressorWriter` (the `brotli` crate's decoder) take the
//! compressed bytes pushed into them and leave the decoded bytes in their `Vec`, which each
//! step takes.

use std::io::Write;

use brotli_decompressor::DecompressorWriter;
use bytes::Bytes;
use flate2::write::{GzDecoder, ZlibDecoder};
use http::HeaderMap;

pub(crate) enum Decoder {
    Gzip(GzDecoder<Vec<u8>>),
    Deflate(ZlibDecoder<Vec<u8>>),
    Brotli(Box<DecompressorWriter<Vec<u8>>>),
}

/// brotli-decompressor's working buffer: decoded bytes go to the `Vec` in pieces this big.
const BROTLI_BUFFER: usize = 16 * 1024;

impl Decoder {
    /// A decoder for the response's `content-encoding`, if it is one this client decodes.
    pub(crate) fn for_headers(headers: &HeaderMap) -> Option<Decoder> {
        let enc = headers.get(http::header::CONTENT_ENCODING)?.to_str().ok()?;
        match enc.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(Decoder::Gzip(GzDecoder::new(Vec::new()))),
            "deflate" => Some(Decoder::Deflate(ZlibDecoder::new(Vec::new()))),
            "br" => Some(Decoder::Brotli(Box::new(DecompressorWriter::new(
                Vec::new(),
                BROTLI_BUFFER,
            )))),
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
            Decoder::Brotli(d) => {
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
            Decoder::Brotli(mut d) => {
                d.close()?;
                d.into_inner().map(Bytes::from).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated brotli data")
                })
            }
        }
    }
}
