//! `Command`: `std::process::Command`, spawning children that live on the loop.

// The `unsafe` of this module: `pre_exec`, to make the child's stderr a copy of its stdout.
#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::child::Child;
use super::reap::{ExitWatch, Reaper, reaper};

/// A process to start: the program, its arguments, environment, working directory and
/// standard streams, as [`std::process::Command`], plus [`kill_on_drop`](Self::kill_on_drop).
///
/// ```
/// use conductor::process::{Command, Stdio};
/// # conductor::run(async {
/// let out = Command::new("echo").arg("hello").output().await.unwrap();
/// assert!(out.status.success());
/// assert_eq!(out.stdout, b"hello\n");
/// # });
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
    stderr_to_stdout: bool,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.std, f)
    }
}

/// asyncio's `create_subprocess_exec(program, *args)`: a [`Command`] for `program` with
/// `args`; set its streams, then [`spawn`](Command::spawn) it.
///
/// ```
/// use conductor::process::{create_subprocess_exec, Stdio};
/// # conductor::run(async {
/// let mut p = create_subprocess_exec("echo", ["hi"]).stdout(Stdio::piped()).spawn().unwrap();
/// assert_eq!(p.communicate(None).await.unwrap().stdout, b"hi\n");
/// # });
/// ```
pub fn create_subprocess_exec<I, S>(program: impl AsRef<OsStr>, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(program);
    c.args(args);
    c
}

/// asyncio's `create_subprocess_shell(cmd)`: `/bin/sh -c cmd`. Quote what comes from users.
///
/// ```
/// # conductor::run(async {
/// let out = conductor::process::create_subprocess_shell("echo a | tr a b").output().await.unwrap();
/// assert_eq!(out.stdout, b"b\n");
/// # });
/// ```
pub fn create_subprocess_shell(cmd: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(cmd);
    c
}

impl Command {
    /// A command for `program` (looked up in `PATH` when it has no slash), inheriting this
    /// process's environment, directory and standard streams.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
            stderr_to_stdout: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts from an empty environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory (asyncio's `cwd=`).
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: [`Stdio::piped`] (asyncio's `PIPE`), [`Stdio::null`]
    /// (`DEVNULL`) or [`Stdio::inherit`] (the default).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// The child's standard output, as [`stdin`](Self::stdin).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// The child's standard error, as [`stdin`](Self::stdin).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Sends the child's standard error wherever its standard output goes (asyncio's
    /// `stderr=asyncio.subprocess.STDOUT`): into the stdout pipe when stdout is piped, so that
    /// one reader sees both in the order they were written. Overrides any `stderr` setting, made
    /// before or after.
    ///
    /// ```
    /// use conductor::process::{Command, Stdio};
    /// # conductor::run(async {
    /// let out = Command::new("sh")
    ///     .args(["-c", "echo out; echo err >&2"])
    ///     .stdout(Stdio::piped())
    ///     .stderr_to_stdout()
    ///     .output()
    ///     .await
    ///     .unwrap();
    /// assert_eq!(out.stdout, b"out\nerr\n");
    /// assert!(out.stderr.is_empty());
    /// # });
    /// ```
    pub fn stderr_to_stdout(&mut self) -> &mut Command {
        // No pipe for stderr: the child's fd 2 becomes a copy of its fd 1 just before exec.
        self.stderr(Stdio::null());
        if !self.stderr_to_stdout {
            self.stderr_to_stdout = true;
            use std::os::unix::process::CommandExt as _;
            // SAFETY: the closure runs in the forked child after std has set up fds 0-2, and
            // calls only dup2, which is async-signal-safe; it allocates nothing and takes no
            // lock.
            unsafe {
                self.std.pre_exec(|| {
                    if libc::dup2(1, 2) == -1 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                })
            };
        }
        self
    }

    /// Kill the child (SIGKILL) when its [`Child`] is dropped before it exited. Off by default,
    /// as in asyncio, where a `Process` object going away leaves the process running.
    pub fn kill_on_drop(&mut self, on: bool) -> &mut Command {
        self.kill_on_drop = on;
        self
    }

    /// The `std` command, for what this type does not wrap (`CommandExt::process_group`,
    /// `uid`, `pre_exec`...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the process. Its piped streams are registered with the running loop.
    ///
    /// # Errors
    /// When the program cannot be started (the message names it), or outside a running loop.
    ///
    /// ```
    /// # conductor::run(async {
    /// let err = conductor::process::Command::new("/no/such/program").spawn().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// assert!(err.to_string().starts_with("could not spawn \"/no/such/program\": "));
    /// # });
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        let how = reaper();
        // With SIGCHLD, listen before the child exists, so that its exit cannot be missed.
        let early = match how {
            Reaper::Sigchld => Some(ExitWatch::new(0, how)?),
            Reaper::Pidfd => None,
        };
        let std = self.std.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("could not spawn {:?}: {e}", self.std.get_program()),
            )
        })?;
        let watch = match early {
            Some(w) => Ok(w),
            // A pidfd opened after the exit still reports it: the child is ours until reaped.
            None => ExitWatch::new(std.id(), how),
        };
        Child::new(std, watch, self.kill_on_drop)
    }

    /// Runs the process to its end and returns its status; standard streams are inherited
    /// unless set.
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn) and [`Child::wait`].
    ///
    /// ```
    /// # conductor::run(async {
    /// let status = conductor::process::Command::new("false").status().await.unwrap();
    /// assert_eq!(status.code(), Some(1));
    /// # });
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the process to its end, collecting its output (asyncio's `communicate()` after
    /// `create_subprocess_exec(..., stdout=PIPE, stderr=PIPE)`). Unless set, stdout and stderr
    /// are piped and stdin is null, as `std::process::Command::output`.
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn) and [`Child::communicate`].
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        if !self.stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::piped());
        }
        self.spawn()?.communicate(None).await
    }
}
