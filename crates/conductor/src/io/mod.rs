//! The selector: the loop's OS readiness interface (epoll/kqueue through mio).
//!
//! - `driver`: owns the `mio::Poll`, turns readiness events into wakes.
//! - `registration`: what an IO object (socket, pipe) holds to wait for readiness.
//!
//! Sources are registered edge-triggered and belong to one loop; readiness is only ever changed
//! on that loop's thread, between polls, so an IO object may clear it after `WouldBlock` without
//! losing an event. This module knows nothing of tasks beyond `std::task::Waker`.

pub(crate) mod driver;
mod registration;
mod waiters;

pub use registration::{Direction, Registration};
