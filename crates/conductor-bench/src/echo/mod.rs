//! The TCP echo benchmark's pieces: one echo server per runtime (`servers`), the shared load
//! client (`client`, raw epoll, so that its own cost is the same for every server), and the
//! measurements of the server process (`sys`: CPU time, resident memory, pinning, strace).

pub mod client;
pub mod servers;
pub mod sys;
