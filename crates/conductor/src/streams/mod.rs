//! asyncio's streams API over any byte stream: `StreamReader` (buffered reads: `read`,
//! `readline`, `readexactly`, `readuntil` with a limit) and `StreamWriter` (buffered writes with
//! `drain` backpressure, `close`/`wait_closed`).
//!
//! Shared by `net` (TCP and Unix sockets) and `process` (pipes), which use it and not each other.
//! Built on the futures-io `AsyncRead`/`AsyncWrite` traits only.
