//! Files, as aiofiles gives them to asyncio: whole-file helpers, `File` with the futures-io
//! traits, and directory streams. Work goes to the thread pool in large chunks, or to io_uring
//! where the `io-uring` feature is on and the kernel allows it.
//!
//! Uses `blocking` (the pool); nothing of net, process or signal.
