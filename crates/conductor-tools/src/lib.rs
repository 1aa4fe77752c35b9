//! Clients of a conductor program's debug endpoint (`CONDUCTOR_DEBUG_ENDPOINT=1`, or
//! `Builder::debug_endpoint(true)`): `conductor-ps PID` (the task table, as
//! `python -m asyncio ps`), `conductor-pstree PID` (the await graph, as
//! `python -m asyncio pstree`), `conductor-stats PID [--prometheus]` (the loop's counters) and
//! `conductor-monitor PID [--listen ADDR]` (a live page of the loop, [`monitor`]).
//!
//! The protocol: connect to the process's socket, send one request line (`ps`, `pstree`,
//! `stats`, `metrics`, `snapshot OFFSET LIMIT [NAME]` or `cancel ID`), read the answer to the
//! end. The socket is
//! `$XDG_RUNTIME_DIR/conductor-debug-PID.sock`, or `/tmp/conductor-debug-PID.sock` when
//! `XDG_RUNTIME_DIR` is not set (a second loop of the process adds `-LOOP` to the name).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// Where the debug endpoint of the first loop of process `pid` listens.
///
/// ```
/// let p = conductor_tools::socket_paths(42);
/// assert!(p.iter().all(|p| p.ends_with("conductor-debug-42.sock")));
/// ```
pub fn socket_paths(pid: u32) -> Vec<PathBuf> {
    let name = format!("conductor-debug-{pid}.sock");
    let mut paths = Vec::new();
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        paths.push(PathBuf::from(dir).join(&name));
    }
    paths.push(PathBuf::from("/tmp").join(&name));
    paths
}

/// Sends `request` to the endpoint of process `pid` and returns its answer.
///
/// # Errors
/// When no endpoint of that process answers (it does not run, or was started without
/// `CONDUCTOR_DEBUG_ENDPOINT=1`), or the connection fails.
pub fn request(pid: u32, request: &str) -> io::Result<String> {
    let mut last = None;
    for path in socket_paths(pid) {
        match UnixStream::connect(&path) {
            Ok(mut s) => {
                s.write_all(request.as_bytes())?;
                s.write_all(b"\n")?;
                s.shutdown(std::net::Shutdown::Write)?;
                let mut out = String::new();
                s.read_to_string(&mut out)?;
                return Ok(out);
            }
            Err(e) => last = Some((path, e)),
        }
    }
    let (path, e) = last.expect("at least one path is tried");
    Err(io::Error::new(
        e.kind(),
        format!(
            "no conductor debug endpoint at {} ({e}); start the program with \
             CONDUCTOR_DEBUG_ENDPOINT=1",
            path.display()
        ),
    ))
}

/// The command-line tools' `main`: `TOOL PID`, printing the answer to `request`.
pub fn main_for(tool: &str, request_line: &str) -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(pid) = args.next().and_then(|a| a.parse::<u32>().ok()) else {
        eprintln!("usage: {tool} PID");
        return std::process::ExitCode::from(2);
    };
    match request(pid, request_line) {
        Ok(answer) => {
            print!("{answer}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{tool}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

pub mod monitor;
