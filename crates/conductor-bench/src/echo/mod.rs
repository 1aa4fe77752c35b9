//! The TCP echo benchmark's pieces: one echo server per runtime (`servers`, with the bare-epoll
//! floor in `c_floor`, conductor's per-core mode in `per_core` and the Python servers in
//! `python`), the control channel between the benchmark and a server child (`control`), the
//! shared load client (`client`, raw epoll, so that its own cost is the same for every server),
//! the measurements of the server process (`sys`: CPU time, resident memory, pinning,
//! strace), the instruction counts of `--instructions` (`instructions`, callgrind), and the
//! Markdown tables (`report`).

pub mod c_floor;
pub mod client;
pub mod control;
pub mod instructions;
pub mod per_core;
pub mod python;
pub mod report;
pub mod servers;
pub mod sys;
