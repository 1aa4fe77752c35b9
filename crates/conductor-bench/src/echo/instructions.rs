//! `--instructions`: the server's user-space instructions per request, counted by callgrind.
//!
//! CPU time is a poor judge of user-space cost here: the kernel samples the user/system split
//! at its 250 Hz tick, and the machine is shared. An instruction count is exact and repeats
//! from run to run, so this mode answers "how much does the runtime itself spend per request"
//! for the Rust rows (the Python rows would count the interpreter; they are skipped). The
//! server runs under `valgrind --tool=callgrind` with instrumentation off; `callgrind_control`
//! switches it on (and zeroes the counters) for the timed run only, then reads the totals of
//! every thread. Under
//! valgrind a server is some 50x slower, so requests/s and latency mean nothing in this mode;
//! it batches more per `epoll_wait` than at full speed, for every runtime alike.

use std::process::{Command, Stdio};

/// Whether valgrind and callgrind_control are installed.
pub fn available() -> bool {
    ["valgrind", "callgrind_control"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// The server child `program args...` under callgrind, counting nothing until told to.
pub fn wrap(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new("valgrind");
    c.args([
        "--tool=callgrind",
        "--instr-atstart=no",
        "--callgrind-out-file=/dev/null",
        "--quiet",
        program,
    ])
    .args(args);
    c
}

/// Starts counting in the callgrind run `pid`, from zero.
pub fn start(pid: u32) {
    control(pid, &["-i", "on"]);
    control(pid, &["-z"]);
}

/// Stops counting and returns the instructions counted since [`start`], over all threads.
pub fn stop(pid: u32) -> Option<u64> {
    let totals = control(pid, &["-e"]);
    control(pid, &["-i", "off"]);
    parse_totals(&totals?)
}

fn control(pid: u32, args: &[&str]) -> Option<String> {
    let out = Command::new("callgrind_control")
        .args(args)
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The sum of the `Th N COUNT` lines of `callgrind_control -e`.
fn parse_totals(text: &str) -> Option<u64> {
    let counts: Vec<u64> = text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == "Th").then_some(())?;
            words.nth(1)?.replace(',', "").parse().ok()
        })
        .collect();
    (!counts.is_empty()).then(|| counts.iter().sum())
}

#[cfg(test)]
mod tests {
    #[test]
    fn totals_of_every_thread_are_summed() {
        let text =
            "PID 1517: echo --serve conductor\n\n  Totals:Ir \n   Th 1   1,200 \n   Th 2   34 \n";
        assert_eq!(super::parse_totals(text), Some(1234));
        assert_eq!(super::parse_totals("No information available"), None);
    }
}
