//! Helpers shared by the example programs.

use std::time::Instant;

/// Seconds since `start`, as the guides print them (`Elapsed: 1.0s`).
pub fn elapsed(start: Instant) -> String {
    format!("{:.1}s", start.elapsed().as_secs_f64())
}
