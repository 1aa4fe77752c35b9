//! The Python rows, `uvloop` and `asyncio`: `echo_server.py` run by `python3` as the child, on
//! uvloop or on asyncio's default loop. They are the reference the issue's targets name ("at
//! least 2x uvloop's requests/s"). The script is embedded in this binary (`python3 -c`), so the
//! benchmark runs from anywhere.

use std::process::{Command, Stdio};

/// The server, speaking the protocol of `control.rs`.
const SCRIPT: &str = include_str!("echo_server.py");

/// The rows served by Python.
pub const RUNTIMES: &[&str] = &["uvloop", "asyncio"];

pub fn is_python(runtime: &str) -> bool {
    RUNTIMES.contains(&runtime)
}

/// `python3 -c SCRIPT RUNTIME`.
pub fn command(runtime: &str) -> Command {
    let mut c = Command::new("python3");
    c.args(["-c", SCRIPT, runtime]);
    c
}

/// Why `runtime` cannot run here (with what to do about it), or `None` when it can.
pub fn missing(runtime: &str) -> Option<String> {
    let module = if runtime == "uvloop" {
        "uvloop"
    } else {
        "asyncio"
    };
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    match (ok, module) {
        (true, _) => None,
        (false, "uvloop") => Some(
            "uvloop is not installed for python3: `pip install uvloop` (or \
             `pip install --break-system-packages uvloop`) adds the row"
                .into(),
        ),
        (false, _) => Some("python3 (with asyncio) is not installed".into()),
    }
}
