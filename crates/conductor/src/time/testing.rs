//! Tools for tests that drive the loop's clock by hand. A paused clock
//! ([`Builder::paused_clock`](crate::Builder::paused_clock), `#[conductor::test(paused)]`) moves
//! only when the loop has nothing to run but timers, or when a test moves it here; the runtime's
//! own [`Runtime::advance`](crate::Runtime::advance) does the same from outside the loop.

use std::time::Duration;

use crate::context;

/// Moves a paused clock forward by `by`, firing the timers that come due on the loop's next
/// iteration. No effect on a real clock.
///
/// # Panics
/// Outside a running conductor loop.
///
/// ```
/// use std::time::Duration;
/// use conductor::time::{now, testing::advance};
///
/// let rt = conductor::Runtime::builder().paused_clock().build().unwrap();
/// rt.block_on(async {
///     let start = now();
///     advance(Duration::from_secs(5));
///     assert_eq!(now() - start, Duration::from_secs(5));
/// });
/// ```
pub fn advance(by: Duration) {
    context::with_drivers(|c| {
        let core =
            c.expect("conductor::time::testing::advance called outside a running conductor loop");
        core.clock.advance_to(core.clock.after(by));
    });
}
