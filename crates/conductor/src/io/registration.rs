//! `Registration`: an IO source's membership in its loop's selector.

use std::io;
use std::task::{Context, Poll};

use mio::event::Source as MioSource;
use mio::Interest;

use super::driver::{token, ERROR, READABLE, READ_CLOSED, WRITABLE, WRITE_CLOSED};
use crate::runtime::context;

/// Which way an IO object waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Waiting to read (or for the peer to close).
    Read,
    /// Waiting to write.
    Write,
}

impl Direction {
    fn mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

/// An IO source registered with the running loop's selector. It belongs to that loop: polling
/// it on another loop fails with an error.
#[derive(Debug)]
pub struct Registration {
    loop_id: u64,
    index: usize,
    gen: u32,
}

impl Registration {
    /// Registers `source` for `interest` with the running loop.
    ///
    /// # Errors
    /// Outside a running loop, or when the OS refuses the registration.
    pub fn new(source: &mut impl MioSource, interest: Interest) -> io::Result<Registration> {
        context::with_core(|core| {
            let core = core.ok_or_else(not_in_loop)?;
            let (index, gen) = core.io.add();
            if let Err(e) = core
                .io
                .registry()
                .register(source, token(index, gen), interest)
            {
                core.io.remove(index, gen);
                return Err(e);
            }
            Ok(Registration {
                loop_id: core.id,
                index,
                gen,
            })
        })
    }

    /// Waits until the source is ready in `dir` (or closed, or in error).
    pub fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        context::with_core(|core| {
            let core = match core {
                Some(c) if c.id == self.loop_id => c,
                _ => return Poll::Ready(Err(wrong_loop())),
            };
            let mut sources = core.io.sources.borrow_mut();
            let Some(s) = sources.get_mut(self.index).filter(|s| s.gen == self.gen) else {
                return Poll::Ready(Err(io::Error::other("IO source is no longer registered")));
            };
            if s.readiness & dir.mask() != 0 {
                return Poll::Ready(Ok(()));
            }
            let slot = match dir {
                Direction::Read => &mut s.reader,
                Direction::Write => &mut s.writer,
            };
            match slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
    }

    /// Forgets readiness in `dir` after an operation returned `WouldBlock`. Sound without races
    /// because readiness only changes on this loop's thread between task polls.
    pub fn clear_ready(&self, dir: Direction) {
        let bits = match dir {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        };
        self.with_source(|s| s.readiness &= !bits);
    }

    /// Runs a non-blocking operation, waiting for readiness as long as it would block.
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            match self.poll_ready(cx, dir) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_ready(dir),
                other => return Poll::Ready(other),
            }
        }
    }

    /// Removes `source` from the selector.
    pub fn deregister(&mut self, source: &mut impl MioSource) -> io::Result<()> {
        context::with_core(|core| match core {
            Some(c) if c.id == self.loop_id => {
                let r = c.io.registry().deregister(source);
                c.io.remove(self.index, self.gen);
                r
            }
            _ => Err(wrong_loop()),
        })
    }

    fn with_source(&self, f: impl FnOnce(&mut super::driver::Source)) {
        context::with_core(|core| {
            if let Some(c) = core.filter(|c| c.id == self.loop_id) {
                if let Some(s) =
                    c.io.sources
                        .borrow_mut()
                        .get_mut(self.index)
                        .filter(|s| s.gen == self.gen)
                {
                    f(s);
                }
            }
        });
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // The OS forgets a closed fd by itself; this frees our slot (when on our loop).
        context::with_core(|core| {
            if let Some(c) = core.filter(|c| c.id == self.loop_id) {
                c.io.remove(self.index, self.gen);
            }
        });
    }
}

fn not_in_loop() -> io::Error {
    io::Error::other("no conductor event loop is running on this thread")
}

fn wrong_loop() -> io::Error {
    io::Error::other("IO object used outside the event loop it was registered with")
}
