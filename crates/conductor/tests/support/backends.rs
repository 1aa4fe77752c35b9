//! The file backends a test runs under (shared by the `fs_*` tests).

use std::future::Future;

use conductor::fs::{self, Backend};

/// Runs `body` on a fresh loop once per backend this build and kernel offer. A backend that is
/// not offered is reported on standard error (once per test binary), never skipped silently.
pub fn each_backend<F, Fut>(body: F)
where
    F: Fn(Backend) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    with_each_backend(|b| conductor::run(body(b)));
}

/// Runs `body` once per backend this build and kernel offer, with that backend chosen for this
/// thread, for tests that build their own loop (or check what happens after `run`).
#[allow(dead_code)] // not every test binary that includes this module needs it
pub fn with_each_backend(body: impl Fn(Backend)) {
    static REPORTED: std::sync::Once = std::sync::Once::new();
    for b in [Backend::ThreadPool, Backend::IoUring] {
        match fs::set_backend(b) {
            Ok(()) => body(b),
            Err(e) => REPORTED.call_once(|| eprintln!("SKIPPED the {b:?} runs: {e}")),
        }
    }
}
