//! The selector: the loop's OS readiness interface (epoll/kqueue through mio), and the one
//! adapter that turns readiness into IO.
//!
//! - `driver`: owns the `mio::Poll`, turns readiness events into wakes.
//! - `registration`: what an IO object holds to wait for readiness (crate-private).
//! - `waiters`: the tasks waiting for one direction of one source (a shared slot for `poll_*`
//!   callers, a list of waiting futures).
//! - `evented`: the readiness adapter (tokio's `PollEvented`): every source's operations, the
//!   cooperative budget spent in its readiness poll. Sockets (`net`), process pipes and pidfds
//!   (`process`) and [`AsyncFd`] are built on it.
//! - `async_fd`: [`AsyncFd`], the adapter for a descriptor of the user's.
//! - `tokio_traits` (feature `tokio-io`): tokio's io traits forwarded to a type's futures-io ones.
//!
//! Sources are registered edge-triggered and belong to one loop; readiness is only ever changed
//! on that loop's thread, between polls, so an IO object may clear it after `WouldBlock` without
//! losing an event. This module knows nothing of tasks beyond `std::task::Waker` and the
//! budget.

// Nothing here needs `unsafe` (ARCHITECTURE.md, "Unsafe").
#![forbid(unsafe_code)]

mod async_fd;
pub(crate) mod driver;
pub(crate) mod evented;
mod registration;
#[cfg(feature = "tokio-io")]
pub(crate) mod tokio_traits;
mod waiters;

pub use async_fd::AsyncFd;
pub use registration::Direction;
pub(crate) use registration::Registration;
