//! Networking on the loop's selector: TCP, UDP and Unix sockets, `open_connection` and
//! `start_server` (asyncio's streams), name resolution on the thread pool, and servers that run
//! one loop per core.
//!
//! Uses `io::Registration` (readiness), `streams` (the reader and writer) and `blocking`
//! (getaddrinfo); nothing of fs, process or signal.
