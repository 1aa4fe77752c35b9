//! Real subprocesses: pipes, exit statuses, signals, many children at once, and no zombie left,
//! under both exit watchers (pidfd and SIGCHLD) where the kernel has both.

use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use conductor::process::{self, Command, Reaper, Stdio};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

fn each_reaper<F, Fut>(body: F)
where
    F: Fn(Reaper) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    for r in [Reaper::Pidfd, Reaper::Sigchld] {
        if process::set_reaper(r).is_ok() {
            conductor::run(body(r));
        }
    }
}

/// The process state letter from /proc/<pid>/stat ('Z' for a zombie), `None` once it is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

#[track_caller]
fn assert_gone(pid: u32) {
    assert_eq!(proc_state(pid), None, "pid {pid} is still there (zombie?)");
}

/// Waits (bounded) until `pid` has disappeared from /proc: it exited and was reaped.
async fn eventually_gone(pid: u32) {
    let start = Instant::now();
    while let Some(state) = proc_state(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "pid {pid} still present in state {state}"
        );
        conductor::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn cat_echoes_through_pipes() {
    each_reaper(|r| async move {
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = cat.stdin.take().unwrap();
        let mut stdout = cat.stdout.take().unwrap();
        let mut buf = [0u8; 64];
        for line in ["hello\n", "again\n"] {
            stdin.write_all(line.as_bytes()).await.unwrap();
            let mut got = Vec::new();
            while got.len() < line.len() {
                let n = stdout.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, line.as_bytes(), "{r:?}");
        }
        stdin.close().await.unwrap(); // cat sees the end of its input and exits
        assert_eq!(stdout.read(&mut buf).await.unwrap(), 0);
        let pid = cat.id();
        assert!(cat.wait().await.unwrap().success());
        assert_gone(pid);
    });
}

#[test]
fn stderr_to_stdout_merges_both_streams_into_one_pipe_in_order() {
    each_reaper(|r| async move {
        let mut child = Command::new("sh")
            .args(["-c", "for i in 1 2 3; do echo o$i; echo e$i >&2; done"])
            .stderr(Stdio::piped()) // overridden: stderr goes where stdout goes
            .stdout(Stdio::piped())
            .stderr_to_stdout()
            .spawn()
            .unwrap();
        assert!(child.stderr.is_none(), "no separate stderr pipe ({r:?})");
        let mut merged = Vec::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_end(&mut merged)
            .await
            .unwrap();
        assert_eq!(merged, b"o1\ne1\no2\ne2\no3\ne3\n", "{r:?}");
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn communicate_moves_a_megabyte_each_way_without_deadlock() {
    each_reaper(|_| async {
        let input: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 253) as u8).collect();
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = conductor::timeout(Duration::from_secs(30), cat.communicate(Some(&input)))
            .await
            .unwrap()
            .unwrap();
        assert!(out.status.success());
        assert!(out.stdout == input);
        assert!(out.stderr.is_empty());
    });
}

#[test]
fn exit_codes_are_reported() {
    each_reaper(|r| async move {
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let pid = child.id();
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(3), "{r:?}");
        assert!(!status.success());
        assert_gone(pid);
        // Waiting again gives the same status.
        assert_eq!(child.wait().await.unwrap().code(), Some(3));
        assert_eq!(child.try_wait().unwrap().unwrap().code(), Some(3));
    });
}

#[test]
fn a_child_killed_by_a_signal_reports_the_signal() {
    each_reaper(|r| async move {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{r:?}");
        assert_eq!(status.code(), None);
        child.kill().unwrap(); // after the wait: nothing to do, and no error

        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        child.terminate().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGTERM));

        let status = Command::new("sh")
            .args(["-c", "kill -USR1 $$"])
            .status()
            .await
            .unwrap();
        assert_eq!(status.signal(), Some(libc::SIGUSR1));
    });
}

#[test]
fn two_hundred_children_at_once_and_no_zombie() {
    each_reaper(|r| async move {
        let children: Vec<_> = (0..200)
            .map(|i| {
                Command::new("sh")
                    .args(["-c", &format!("exit {}", i % 7)])
                    .spawn()
                    .unwrap()
            })
            .collect();
        let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
        let waits = children
            .into_iter()
            .map(|mut c| async move { c.wait().await });
        let statuses = conductor::timeout(Duration::from_secs(60), conductor::gather(waits))
            .await
            .expect("200 children did not all finish")
            .unwrap();
        for (i, s) in statuses.into_iter().enumerate() {
            assert_eq!(s.code(), Some(i as i32 % 7), "child {i} ({r:?})");
        }
        for pid in pids {
            assert_gone(pid);
        }
    });
}

#[test]
fn output_collects_stdout_and_stderr() {
    each_reaper(|_| async {
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 2"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(2));
    });
}

#[test]
fn env_and_current_dir_reach_the_child() {
    conductor::run(async {
        let out = Command::new("sh")
            .args(["-c", "echo $GREETING; pwd"])
            .env("GREETING", "bonjour")
            .current_dir("/")
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"bonjour\n/\n");
        let out = Command::new("sh")
            .args(["-c", "echo ${HOME:-none}"])
            .env_clear()
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"none\n");
    });
}

#[test]
fn a_missing_program_is_not_found_and_named() {
    conductor::run(async {
        let err = Command::new("/no/such/program").spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/no/such/program"), "{err}");
        // Not executable (no x bit at all): EACCES even for root.
        let script = std::env::temp_dir().join(format!("conductor-noexec-{}", std::process::id()));
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        let err = Command::new(&script).spawn().unwrap_err();
        std::fs::remove_file(&script).unwrap();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
        assert!(
            err.to_string().contains(&*script.to_string_lossy()),
            "{err}"
        );
    });
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    each_reaper(|r| async move {
        let child = Command::new("sleep")
            .arg("60")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(proc_state(pid).is_some());
        drop(child);
        eventually_gone(pid).await;
        let _ = r;
    });
}

#[test]
fn a_dropped_child_runs_on_and_is_reaped_when_it_exits() {
    each_reaper(|_| async {
        let dir = std::env::temp_dir().join(format!("conductor-orphan-{}", std::process::id()));
        let marker = dir.with_extension(format!("{:?}", process::reaper()));
        let _ = std::fs::remove_file(&marker);
        let child = Command::new("sh")
            .args([
                "-c",
                &format!("sleep 0.2; echo done > {}", marker.display()),
            ])
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child); // no kill_on_drop: it runs to its end
        eventually_gone(pid).await;
        assert_eq!(std::fs::read_to_string(&marker).unwrap(), "done\n");
        let _ = std::fs::remove_file(&marker);
    });
}

#[test]
fn shell_and_exec_aliases() {
    conductor::run(async {
        let out = process::create_subprocess_shell("printf '%s-' a b | tr - +")
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"a+b+");
        let out = process::create_subprocess_exec("printf", ["%s", "x"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"x");
    });
}

#[test]
fn waiting_can_be_cancelled_and_resumed() {
    each_reaper(|_| async {
        // cat runs until its input ends, which only this test makes happen (it holds the pipe:
        // `wait` closes a stdin left in the child): the first wait cannot end, however late
        // its timeout fires.
        let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        let first = conductor::timeout(Duration::from_millis(20), child.wait()).await;
        assert!(
            first.is_err(),
            "cat cannot be done before its input ends: {first:?}"
        );
        input.close().await.unwrap();
        assert!(child.wait().await.unwrap().success());
    });
}

/// The pipes work with asyncio's stream helpers: `readline` on stdout, `write`/`drain`/`close`
/// on stdin.
#[test]
fn pipes_work_with_stream_reader_and_writer() {
    use conductor::streams::{StreamReader, StreamWriter};
    conductor::run(async {
        let mut child = Command::new("tr")
            .args(["a-z", "A-Z"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut writer = StreamWriter::new(child.stdin.take().unwrap());
        let mut reader = StreamReader::new(child.stdout.take().unwrap());
        writer.write(b"first line\nsecond line\n");
        writer.drain().await.unwrap();
        writer.wait_closed().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"FIRST LINE\n");
        assert_eq!(reader.readline().await.unwrap(), b"SECOND LINE\n");
        assert!(reader.readline().await.unwrap().is_empty()); // end of the stream
        assert!(child.wait().await.unwrap().success());
    });
}
