//! Helpers the integration tests share. A test file says `mod support;` and uses its subset:
//! a paused loop ([`paused`]), the logs a test compares with what asyncio prints ([`Log`],
//! [`TimedLog`], [`Trace`]), waits across threads that fail instead of hanging
//! ([`Rendezvous`], [`wait_bounded`], [`HANG`]), temporary directories ([`TempDir`]), the file
//! backends ([`backends`]) and TLS certificates ([`certs`]).

#![allow(dead_code, unused_imports)] // each test file uses its own subset

pub mod backends;
pub mod certs;
mod log;
mod temp_dir;
mod threads;
mod trace;

pub use log::{Log, TimedLog, log, push, take};
pub use temp_dir::TempDir;
pub use threads::{HANG, Rendezvous, wait_bounded};
pub use trace::{Trace, assert_trace, child};

use conductor::Runtime;

/// A loop with a paused clock: time moves only when the loop has nothing to run, straight to
/// the next timer, so time-based tests run at once and in a fixed order. An `async fn` test
/// that needs no handle on the runtime says `#[conductor::test(paused)]` instead.
pub fn paused() -> Runtime {
    Runtime::builder().paused_clock().build().unwrap()
}

/// Polls a stream to its next item (`StreamExt::next` without a combinator crate).
pub async fn next<S: futures_core::Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *s).poll_next(cx)).await
}
