//! `Child`: a running subprocess (asyncio's `Process`).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::process::{ExitStatus, Output};
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

use super::pipe::{ChildStderr, ChildStdin, ChildStdout};
use super::reap::{ExitWatch, adopt};
use crate::signal::SignalKind;

/// A spawned child process (asyncio's `asyncio.subprocess.Process`), from
/// [`Command::spawn`](super::Command::spawn).
///
/// Its piped standard streams are in the public fields, as in `std::process::Child`: take them
/// out to read and write while the child runs. Dropping a `Child` does not stop the process
/// (unless [`kill_on_drop`](super::Command::kill_on_drop) was set), but its exit status is
/// still collected, by a reaper thread, so it never stays a zombie.
pub struct Child {
    std: Option<std::process::Child>,
    watch: Option<ExitWatch>,
    status: Option<ExitStatus>,
    pid: u32,
    kill_on_drop: bool,
    /// The child's standard input, when piped.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, when piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, when piped.
    pub stderr: Option<ChildStderr>,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.pid)
            .field("status", &self.status)
            .finish()
    }
}

impl Child {
    /// Wraps a just-spawned child. On failure (no exit watch, a pipe the loop refuses) the
    /// child is killed and handed to the reaper: a child nobody can wait for must not run on.
    pub(crate) fn new(
        mut std: std::process::Child,
        watch: io::Result<ExitWatch>,
        kill_on_drop: bool,
    ) -> io::Result<Child> {
        let (stdin, stdout, stderr) = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        let mut child = Child {
            pid: std.id(),
            std: Some(std),
            watch: None,
            status: None,
            kill_on_drop: true,
            stdin: None,
            stdout: None,
            stderr: None,
        };
        child.watch = Some(watch?);
        child.stdin = stdin.map(ChildStdin::new).transpose()?;
        child.stdout = stdout.map(ChildStdout::new).transpose()?;
        child.stderr = stderr.map(ChildStderr::new).transpose()?;
        child.kill_on_drop = kill_on_drop;
        Ok(child)
    }

    /// The process id (asyncio's `pid`). After the child has been waited for, the id may
    /// belong to another process.
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// The exit status if it has been collected (asyncio's `returncode`); never blocks.
    ///
    /// # Errors
    /// When `waitpid` fails.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none()
            && let Some(std) = self.std.as_mut()
        {
            self.status = std.try_wait()?;
        }
        Ok(self.status)
    }

    /// Waits for the child to exit and collects its status (asyncio's `wait()`). Closes the
    /// child's stdin first, so that a child reading it to the end is not waited on forever;
    /// a child that fills a piped stdout nobody reads can still block: read it, or use
    /// [`output`](Self::output).
    ///
    /// Cancel-safe: dropping the future leaves the child as it was.
    ///
    /// # Errors
    /// When `waitpid` fails, or the exit watch fails.
    ///
    /// ```
    /// # conductor::run(async {
    /// let mut child = conductor::process::Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
    /// assert_eq!(child.wait().await.unwrap().code(), Some(3));
    /// # });
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.stdin = None;
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// Polls for the child's exit.
    pub fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        loop {
            if let Some(status) = self.try_wait()? {
                self.watch = None; // no longer needed: release the pidfd now
                return Poll::Ready(Ok(status));
            }
            let watch = self
                .watch
                .as_mut()
                .ok_or_else(|| io::Error::other("the child's exit watch was lost"))?;
            ready!(watch.poll_changed(cx))?;
        }
    }

    /// Sends SIGKILL (asyncio's `kill()`); does nothing if the child has been waited for
    /// already. Await [`wait`](Self::wait) to collect the status.
    ///
    /// # Errors
    /// When the signal cannot be sent.
    pub fn kill(&mut self) -> io::Result<()> {
        self.send_signal(SignalKind::from_raw(libc::SIGKILL))
    }

    /// Sends SIGTERM (asyncio's `terminate()`).
    ///
    /// # Errors
    /// When the signal cannot be sent.
    pub fn terminate(&mut self) -> io::Result<()> {
        self.send_signal(SignalKind::terminate())
    }

    /// Sends `signal` to the child (asyncio's `send_signal`). Safe from pid reuse: the pid
    /// stays the child's until its status is collected, which only this `Child` does.
    ///
    /// # Errors
    /// When `kill(2)` fails.
    pub fn send_signal(&mut self, signal: SignalKind) -> io::Result<()> {
        if self.try_wait()?.is_some() {
            return Ok(());
        }
        // The pid is our unreaped child (checked above), so it names no other process.
        crate::signal::registry::kill(self.pid, signal.as_raw())
    }

    /// Writes `input` to stdin (then closes it), reads stdout and stderr to their ends, all at
    /// once, and waits for the exit (asyncio's `communicate(input)`). Streams that are not
    /// piped give empty output. A child that exits without reading all its input is not an
    /// error (asyncio also ignores the broken pipe).
    ///
    /// # Errors
    /// From the pipes or the wait.
    ///
    /// ```
    /// use conductor::process::{Command, Stdio};
    /// # conductor::run(async {
    /// let mut cat = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    /// let out = cat.communicate(Some(b"echo")).await.unwrap();
    /// assert_eq!(out.stdout, b"echo");
    /// # });
    /// ```
    pub async fn communicate(&mut self, input: Option<&[u8]>) -> io::Result<Output> {
        let mut stdin = self.stdin.take();
        let mut out = self.stdout.take();
        let mut err = self.stderr.take();
        let input = input.unwrap_or_default();
        let (mut written, mut obuf, mut ebuf) = (0, Vec::new(), Vec::new());
        poll_fn(|cx| {
            if let Some(w) = stdin.as_mut() {
                while written < input.len() {
                    match Pin::new(&mut *w).poll_write(cx, &input[written..]) {
                        Poll::Ready(Ok(n)) => written += n,
                        Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                            written = input.len();
                        }
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => break,
                    }
                }
                if written == input.len() {
                    stdin = None; // closed: the child sees the end of its input
                }
            }
            drain(&mut out, &mut obuf, cx)?;
            drain(&mut err, &mut ebuf, cx)?;
            if stdin.is_none() && out.is_none() && err.is_none() {
                Poll::Ready(Ok(()))
            } else {
                Poll::Pending
            }
        })
        .await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: obuf,
            stderr: ebuf,
        })
    }

    /// [`communicate`](Self::communicate) without input (std's `wait_with_output`).
    ///
    /// # Errors
    /// From the pipes or the wait.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.communicate(None).await
    }
}

/// Reads `pipe` into `buf` until it would block; at its end, drops it.
fn drain<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> io::Result<()> {
    let Some(r) = pipe.as_mut() else {
        return Ok(());
    };
    let mut chunk = [0u8; 16 << 10];
    loop {
        match Pin::new(&mut *r).poll_read(cx, &mut chunk) {
            Poll::Ready(Ok(0)) => {
                *pipe = None;
                return Ok(());
            }
            Poll::Ready(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => return Ok(()),
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        let (pid, kill) = (self.pid, self.kill_on_drop);
        crate::runtime::debug_warning(|| {
            crate::runtime::ExceptionContext::new(
                "A Child was dropped before its exit was awaited: await wait() (or kill() then \
                 wait()) so that its exit status and errors are seen",
            )
            .with_detail("pid", pid)
            .with_detail("on drop", if kill { "killed" } else { "left running" })
        });
        if self.kill_on_drop {
            let _ = self.kill();
        }
        if let Some(std) = self.std.take() {
            adopt(std, self.watch.take());
        }
    }
}
