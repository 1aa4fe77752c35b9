//! What the tools' tests share: the test binary re-executed as the watched program (with the
//! debug endpoint and debug mode turned on by the environment alone), child processes killed
//! when dropped, and chromium (conductor-http's test helper, by path).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[path = "../../../conductor-http/tests/support/chromium.rs"]
pub mod chromium;

/// The environment variable that makes the test binary's `child_entry` run the program.
pub const CHILD: &str = "CONDUCTOR_TOOLS_TEST_CHILD";

/// A child process, killed when dropped; its stdout lines arrive on `lines`.
pub struct Proc {
    pub child: std::process::Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Starts `cmd` and waits for its first line containing `first` (returned).
    pub fn start(mut cmd: Command, first: &str) -> (Proc, String) {
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let proc = Proc { child, lines };
        let line = proc.wait_for(first);
        (proc, line)
    }

    /// The next line containing `what` (the test fails after two minutes without one).
    pub fn wait_for(&self, what: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("no line with {what:?}"));
            if line.contains(what) {
                return line;
            }
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

/// This test binary as the watched program in `mode` (its `child_entry` test reads `CHILD`),
/// with its endpoint's socket under `dir`; returned once it printed `ready` (that line too).
pub fn program(mode: &str, dir: &Path, ready: &str) -> (Proc, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env("CONDUCTOR_DEBUG", "1")
        .env("CONDUCTOR_DEBUG_ENDPOINT", "1")
        .env("XDG_RUNTIME_DIR", dir);
    Proc::start(cmd, ready)
}
