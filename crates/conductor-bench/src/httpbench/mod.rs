//! The HTTP benchmark's pieces: one server per runtime (`servers`), the load client (`wrk`),
//! and, shared with the echo benchmark, the control channel to a server child, the process
//! measurements and callgrind's instruction counts.

#[path = "../echo/control.rs"]
pub mod control;
#[path = "../echo/instructions.rs"]
pub mod instructions;
// Shared with the echo benchmark, which uses more of them.
#[allow(dead_code)]
#[path = "../echo/python.rs"]
pub mod python;
pub mod servers;
#[allow(dead_code)]
#[path = "../echo/sys.rs"]
pub mod sys;
pub mod wrk;
