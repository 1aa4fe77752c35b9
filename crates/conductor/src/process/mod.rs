//! Subprocesses (asyncio's `create_subprocess_exec`): [`Command`], children whose piped
//! standard streams are async streams on the loop, and reaping without zombies.
//!
//! - `Command` mirrors `std::process::Command` (and spawns through it: `fork`/`exec` itself
//!   does not wait on anything the loop should not).
//! - A child's pipes are made non-blocking and registered with the spawning loop's selector;
//!   they implement futures-io's `AsyncRead`/`AsyncWrite`, so asyncio's `StreamReader` helpers
//!   (`conductor::streams`) and any futures-io code work on them.
//! - Exits are noticed through a pidfd registered with the loop, or SIGCHLD where pidfds are
//!   missing ([`Reaper`]); statuses are collected with `waitpid` on each child's own pid. A
//!   `Child` dropped early is handed to a reaper thread, so no zombie remains.
//!
//! Internals: `command`, `child`, `pipe` (the async pipes), `reap` (exit watches and the
//! orphan reaper). Uses `io`'s readiness adapter (pipes; `AsyncFd` for the pidfd), so a child's
//! pipes spend the cooperative budget as sockets do, and `signal` (SIGCHLD); nothing of net or
//! fs.

// `unsafe` only in command.rs, which allow it and say why; `forbid` would reach them too.
#![deny(unsafe_code)]

mod child;
mod command;
mod pipe;
mod reap;

pub use child::Child;
pub use command::{Command, create_subprocess_exec, create_subprocess_shell};
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use reap::{Reaper, reaper, set_reaper};
pub use std::process::{ExitStatus, Output, Stdio};
