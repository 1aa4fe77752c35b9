//! Ctrl-C as `asyncio.run` handles it, with real SIGINTs sent to a real child process: this
//! test binary runs itself again (`--exact child`, with the program to play in an environment
//! variable), waits for the child to say it is ready, sends SIGINT, and checks what the child
//! printed and how it ended. Every wait is bounded.
//!
//! What asyncio does (3.11 and 3.13, `asyncio.run(main())` in a child sent SIGINT): the main
//! task is cancelled, its `except CancelledError`/`finally` blocks run, and the process ends
//! killed by SIGINT (`returncode == -2`; a shell reports 130). A second SIGINT while the
//! cleanup awaits interrupts it at once. A main task that catches the cancellation and returns
//! makes `run` return normally (exit status 0).

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use conductor::catch_cancel;

const CHILD: &str = "CONDUCTOR_CTRL_C_CHILD";
const LONG: Duration = Duration::from_secs(60);
/// How long the parent waits for any one thing before it gives up.
const BOUND: Duration = Duration::from_secs(20);

/// Prints `<what>` when dropped, so the parent sees which destructors ran.
struct Say(&'static str);

impl Drop for Say {
    fn drop(&mut self) {
        say(self.0);
    }
}

fn say(what: &str) {
    println!("<{what}>");
}

/// The child's side: plays the program named by `CONDUCTOR_CTRL_C_CHILD`; nothing otherwise.
#[test]
fn child() {
    let Ok(program) = std::env::var(CHILD) else {
        return;
    };
    match program.as_str() {
        "cleanup" => conductor::run(async {
            conductor::spawn(async {
                let _side = Say("side task dropped");
                std::future::pending::<()>().await;
            })
            .detach();
            let _main = Say("main dropped");
            say("ready");
            if let Err(cancelled) = catch_cancel(conductor::sleep(LONG)).await {
                say("main cleanup");
                conductor::sleep(Duration::from_millis(10)).await;
                say("cleanup done");
                cancelled.reraise::<()>().await;
            }
        }),
        "caught" => {
            let out = conductor::run(async {
                say("ready");
                if catch_cancel(conductor::sleep(LONG)).await.is_err() {
                    say("caught");
                }
                5
            });
            say(&format!("run returned {out}"));
        }
        "twice" => conductor::run(async {
            say("ready");
            if catch_cancel(conductor::sleep(LONG)).await.is_err() {
                say("cleanup started");
                conductor::sleep(LONG).await;
                say("cleanup done");
            }
        }),
        "opt out" => conductor::Runtime::builder()
            .handle_ctrl_c(false)
            .build()
            .unwrap()
            .run(async {
                let _main = Say("main dropped");
                say("ready");
                conductor::sleep(LONG).await;
            }),
        "own listener" => conductor::run(async {
            let ctrl_c = conductor::signal::ctrl_c();
            say("ready");
            ctrl_c.await.unwrap();
            say("the program's listener got it");
        }),
        "listener gone" => conductor::Runtime::new().unwrap().block_on(async {
            // block_on: no runner handling, only the program's listener.
            let ctrl_c = conductor::signal::ctrl_c();
            say("ready");
            ctrl_c.await.unwrap();
            say("ready again"); // the listener is gone: the next SIGINT kills
            conductor::sleep(LONG).await;
        }),
        "after run" => {
            conductor::run(async {});
            say("ready"); // run is over: SIGINT does what it did before
            std::thread::sleep(LONG);
        }
        other => panic!("unknown child program {other:?}"),
    }
    say("after run");
}

/// A child playing `program`, and the lines it prints.
struct Played {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Played {
    fn start(program: &str) -> Played {
        let mut command = Command::new(std::env::current_exe().unwrap());
        // A background job of a shell without job control starts with SIGINT ignored (POSIX),
        // and conductor, as asyncio, then leaves Ctrl-C alone. These children play a program
        // run from a terminal, so they start with SIGINT's default disposition, whatever ran
        // the tests.
        // SAFETY: between fork and exec the closure only calls signal(2), which is
        // async-signal-safe; it allocates nothing and takes no lock.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = command
            .args(["--exact", "child", "--nocapture", "--test-threads=1"])
            .env(CHILD, program)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Played {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits until the child printed `<what>`.
    fn wait_for(&mut self, what: &str) {
        let marker = format!("<{what}>");
        let deadline = Instant::now() + BOUND;
        while !self.seen.iter().any(|l| l.contains(&marker)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "the child never printed {marker}; it printed {:?}",
                        self.seen
                    );
                }
            }
        }
    }

    fn sigint(&self) {
        let pid = self.child.id() as i32;
        // SAFETY: kill(2) on our own child's pid, which it keeps until we reap it.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    }

    /// Waits for the child to end (bounded), and returns how, with every marker it printed.
    fn end(mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + BOUND;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the child did not end; it printed {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        let markers = self
            .seen
            .iter()
            .filter_map(|l| {
                let start = l.find('<')?;
                let end = l[start..].find('>')? + start;
                Some(l[start + 1..end].to_owned())
            })
            .collect();
        (status, markers)
    }
}

fn killed_by_sigint(status: ExitStatus) -> bool {
    status.signal() == Some(libc::SIGINT)
}

#[test]
fn the_first_ctrl_c_cancels_main_lets_cleanup_run_then_ends_by_sigint() {
    let mut child = Played::start("cleanup");
    child.wait_for("ready");
    child.sigint();
    let (status, markers) = child.end();
    assert!(killed_by_sigint(status), "{status:?}, printed {markers:?}");
    assert_eq!(
        markers,
        [
            "ready",
            "main cleanup",
            "cleanup done",
            "main dropped",
            "side task dropped"
        ]
    );
}

#[test]
fn a_main_task_that_catches_the_cancellation_makes_run_return() {
    let mut child = Played::start("caught");
    child.wait_for("ready");
    child.sigint();
    let (status, markers) = child.end();
    assert_eq!(status.code(), Some(0), "{status:?}, printed {markers:?}");
    assert_eq!(markers, ["ready", "caught", "run returned 5", "after run"]);
}

#[test]
fn a_second_ctrl_c_during_cleanup_ends_the_process_at_once() {
    let mut child = Played::start("twice");
    child.wait_for("ready");
    child.sigint();
    child.wait_for("cleanup started");
    child.sigint();
    let (status, markers) = child.end();
    assert!(killed_by_sigint(status), "{status:?}, printed {markers:?}");
    assert_eq!(markers, ["ready", "cleanup started"]);
}

#[test]
fn with_the_handling_off_ctrl_c_ends_the_process_at_once() {
    let mut child = Played::start("opt out");
    child.wait_for("ready");
    child.sigint();
    let (status, markers) = child.end();
    assert!(killed_by_sigint(status), "{status:?}, printed {markers:?}");
    assert_eq!(markers, ["ready"]);
}

#[test]
fn the_programs_own_listener_takes_ctrl_c_from_run() {
    let mut child = Played::start("own listener");
    child.wait_for("ready");
    child.sigint();
    let (status, markers) = child.end();
    assert_eq!(status.code(), Some(0), "{status:?}, printed {markers:?}");
    assert_eq!(
        markers,
        ["ready", "the program's listener got it", "after run"]
    );
}

#[test]
fn sigint_kills_again_once_the_last_listener_is_gone() {
    let mut child = Played::start("listener gone");
    child.wait_for("ready");
    child.sigint();
    child.wait_for("ready again");
    child.sigint();
    let (status, markers) = child.end();
    assert!(killed_by_sigint(status), "{status:?}, printed {markers:?}");
    assert_eq!(markers, ["ready", "ready again"]);
}

#[test]
fn sigint_kills_again_once_run_is_over() {
    let mut child = Played::start("after run");
    child.wait_for("ready");
    child.sigint();
    let (status, markers) = child.end();
    assert!(killed_by_sigint(status), "{status:?}, printed {markers:?}");
    assert_eq!(markers, ["ready"]);
}
