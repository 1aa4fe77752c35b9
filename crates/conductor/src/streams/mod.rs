//! asyncio's streams API over any byte stream: [`StreamReader`] (buffered reads: `read`,
//! `readline`, `readexactly`, `readuntil` with a limit, a `Stream` of lines) and
//! [`StreamWriter`] (buffered writes with `drain` backpressure, `close`/`wait_closed`).
//!
//! Shared by `net` (TCP and Unix sockets) and `process` (pipes), which use it and not each other.
//! Built on the futures-io `AsyncRead`/`AsyncWrite` traits only, plus the loop for two things:
//! the cooperative budget, and the small task that sends a writer's leftover bytes in the
//! background (asyncio's transport does that from the selector).
//!
//! # Invariants
//! - Reads are cancel-safe: bytes leave the reader's buffer only when a read completes.
//! - The reader's buffer is bounded by its limit plus one read (16 KiB) for `readuntil` and
//!   `readline`; only `read_to_end` and `readexactly(n)` hold what they were asked for.
//! - A writer's stream is driven by one party at a time: its background sender while that runs,
//!   else the task in `drain`/`wait_closed`.
//! - With the `tokio-io` feature, the reader and writer also implement tokio's io traits.
//! - Without a type parameter, `StreamReader` and `StreamWriter` are over boxed streams, so one
//!   handler type serves TCP, Unix sockets and pipes, as asyncio's one `StreamReader` class does.
//!
//! ```
//! use conductor::streams::{StreamReader, StreamWriter};
//! # conductor::run(async {
//! let mut writer = StreamWriter::new(Vec::<u8>::new());
//! writer.write(b"ping\n");
//! writer.drain().await.unwrap();
//!
//! let mut reader = StreamReader::new(&b"pong\nrest"[..]);
//! assert_eq!(reader.readline().await.unwrap(), b"pong\n");
//! # });
//! ```

// Nothing here needs `unsafe` (ARCHITECTURE.md, "Unsafe").
#![forbid(unsafe_code)]

mod buffer;
mod error;
mod reader;
#[cfg(feature = "tokio-io")]
mod tokio_io;
mod writer;

pub use error::ReadError;
pub use reader::{BoxReader, DEFAULT_LIMIT, Lines, StreamReader};
pub use writer::{BoxWriter, DEFAULT_HIGH_WATER, StreamWriter};

use std::fmt;
use std::os::fd::RawFd;

/// What a [`StreamWriter`] knows of its transport (asyncio's `get_extra_info`).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ExtraInfo {
    /// The remote address (asyncio's `'peername'`).
    pub peername: Option<Address>,
    /// The local address (asyncio's `'sockname'`).
    pub sockname: Option<Address>,
    /// The socket or pipe's file descriptor (asyncio's `'socket'` / `'pipe'`), for options that
    /// conductor does not wrap. It stays owned by the stream.
    pub fd: Option<RawFd>,
}

/// A socket address of either family a stream can have. `Debug` prints it as `Display` does
/// (`127.0.0.1:52484`, `/run/app.sock`, `@name` for a Linux abstract name, `(unnamed)`), so
/// logs of `{:?}` read as addresses.
///
/// ```
/// use conductor::streams::Address;
/// let a = Address::Inet("127.0.0.1:52484".parse().unwrap());
/// assert_eq!(format!("{a:?}"), "127.0.0.1:52484");
/// ```
#[derive(Clone)]
pub enum Address {
    /// TCP or UDP.
    Inet(std::net::SocketAddr),
    /// A Unix domain socket.
    Unix(std::os::unix::net::SocketAddr),
}

impl Address {
    /// The IP address and port, for a TCP or UDP socket.
    pub fn as_inet(&self) -> Option<std::net::SocketAddr> {
        match self {
            Address::Inet(a) => Some(*a),
            Address::Unix(_) => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Inet(a) => a.fmt(f),
            Address::Unix(a) => {
                #[cfg(any(target_os = "linux", target_os = "android"))]
                {
                    #[cfg(target_os = "android")]
                    use std::os::android::net::SocketAddrExt as _;
                    #[cfg(target_os = "linux")]
                    use std::os::linux::net::SocketAddrExt as _;
                    if let Some(name) = a.as_abstract_name() {
                        return write!(f, "@{}", String::from_utf8_lossy(name));
                    }
                }
                match a.as_pathname() {
                    Some(p) => p.display().fmt(f),
                    None => f.write_str("(unnamed)"),
                }
            }
        }
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
