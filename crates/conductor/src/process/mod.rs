//! Subprocesses (asyncio's `create_subprocess_exec`): `Command`, children with piped standard
//! streams as async streams, and reaping without zombies (pidfd, or a SIGCHLD watcher).
//!
//! Uses `io::Registration` (pipes, pidfd), `streams` (readers and writers) and `signal`
//! (SIGCHLD); nothing of net or fs.
