//! The control channel between the benchmark and a server child, over the child's stdin and
//! stdout, so that any program can be a server (the Rust children, `echo_server.py`):
//!
//! - the child binds 127.0.0.1 (any port) itself and prints its address (`127.0.0.1:PORT`) as
//!   its first line;
//! - for each `stats` line it reads, it prints `USER_NS SYS_NS ACCEPTED [LOOP0 LOOP1 ...]`: its
//!   whole process's user and system CPU time (`getrusage(RUSAGE_SELF)`), the connections it
//!   has accepted, and, for a server of several loops, the connections each loop accepted;
//! - on any other line, or at the end of its input, it exits.
//!
//! The child pins itself to CPU 0 and raises its open-file limit (the parent is pinned to
//! CPU 1, and a child inherits that).

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use super::{instructions, python};

/// One answer to `stats`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub user: Duration,
    pub system: Duration,
    pub accepted: u64,
    /// Connections accepted by each loop (empty for a single-loop server).
    pub loops: Vec<u64>,
}

impl Stats {
    fn line(&self) -> String {
        let mut line = format!(
            "{} {} {}",
            self.user.as_nanos(),
            self.system.as_nanos(),
            self.accepted
        );
        for n in &self.loops {
            line += &format!(" {n}");
        }
        line
    }

    fn parse(line: &str) -> Stats {
        let f: Vec<u64> = line
            .split_whitespace()
            .map(|x| x.parse().expect("a stats figure"))
            .collect();
        assert!(f.len() >= 3, "a stats line: {line:?}");
        Stats {
            user: Duration::from_nanos(f[0]),
            system: Duration::from_nanos(f[1]),
            accepted: f[2],
            loops: f[3..].to_vec(),
        }
    }
}

/// The child's side, after it printed its address: answers `stats` until told to stop.
pub fn answer(stats: impl Fn() -> Stats) {
    for line in std::io::stdin().lock().lines() {
        match line.as_deref() {
            Ok("stats") => println!("{}", stats().line()),
            _ => return,
        }
    }
}

/// The parent's side: a server child.
pub struct Server {
    pub child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts the server of `runtime`: this binary with `--serve RUNTIME`, or `python3` with
    /// `echo_server.py` for the Python rows.
    pub fn start(runtime: &str) -> Server {
        let command = if python::is_python(runtime) {
            python::command(runtime)
        } else {
            let mut c = Command::new(std::env::current_exe().unwrap());
            c.args(["--serve", runtime]);
            c
        };
        Self::spawn(runtime, command)
    }

    /// Starts `command` as the server child of `runtime` (a server of some other benchmark's
    /// own, speaking this protocol: the HTTP benchmark's aiohttp row).
    #[allow(dead_code)] // the echo benchmark, which shares this file, has no such row
    pub fn start_command(runtime: &str, command: Command) -> Server {
        Self::spawn(runtime, command)
    }

    /// Starts the server of a Rust `runtime` under callgrind (see `instructions`).
    pub fn start_counted(runtime: &str) -> Server {
        let exe = std::env::current_exe().unwrap();
        let exe = exe.to_str().expect("a UTF-8 path to this binary");
        Self::spawn(runtime, instructions::wrap(exe, &["--serve", runtime]))
    }

    fn spawn(runtime: &str, mut command: Command) -> Server {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start the {runtime} server: {e}"));
        let input = child.stdin.take().unwrap();
        let mut output = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the {runtime} server's address, not {line:?}"));
        Server {
            child,
            input,
            output,
            addr,
        }
    }

    pub fn stats(&mut self) -> Stats {
        writeln!(self.input, "stats").unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        Stats::parse(&line)
    }

    pub fn stop(mut self) {
        let _ = writeln!(self.input, "quit");
        let _ = self.child.wait();
    }
}
