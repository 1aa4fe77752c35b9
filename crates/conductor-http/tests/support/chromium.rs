//! Debian's chromium, headless, for the tests of pages conductor serves (conductor-http's
//! browser test and conductor-tools' monitor test, which includes this file by path). Only std:
//! each test runs it its own way (on a loop, or from a plain thread).

use std::path::{Path, PathBuf};

/// The browser `.ci/run` installs.
pub const CHROMIUM: &str = "chromium";

/// Whether chromium runs here. Without it a test says SKIPPED, unless `CI` is set: then the
/// missing browser fails it.
pub fn here() -> bool {
    let here = std::process::Command::new(CHROMIUM)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !here {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but `{CHROMIUM}` does not run: .ci/run installs Debian's chromium"
        );
        eprintln!("SKIPPED: `{CHROMIUM}` is not installed (apt-get install chromium)");
    }
    here
}

/// The flags the machine needs: no sandbox as root, no GPU, and nothing that reaches for the
/// network beyond the page (the closed network refuses it), in a profile of its own.
pub fn args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

/// Where screenshots are kept: `target/browser-artefacts` of the workspace.
pub fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
