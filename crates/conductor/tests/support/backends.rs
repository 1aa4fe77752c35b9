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
    static REPORTED: std::sync::Once = std::sync::Once::new();
    for b in [Backend::ThreadPool, Backend::IoUring] {
        match fs::set_backend(b) {
            Ok(()) => conductor::run(body(b)),
            Err(e) => REPORTED.call_once(|| eprintln!("SKIPPED the {b:?} runs: {e}")),
        }
    }
}
