//! `Registration`: an IO source's membership in its loop's selector.

use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use mio::Interest;
use mio::event::Source as MioSource;

use super::driver::{
    ERROR, READ_CLOSED, READABLE, Source, WRITABLE, WRITE_CLOSED, WaitKey, Waiters, token,
};
use crate::context;

/// Which way an IO object waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Waiting to read (or for the peer to close).
    Read,
    /// Waiting to write.
    Write,
}

impl Direction {
    /// `"read"` or `"write"`, as an await point names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Direction::Read => "read",
            Direction::Write => "write",
        }
    }

    fn mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

/// An IO source registered with the running loop's selector. It belongs to that loop (it is
/// `!Send`): waiting on it under another loop fails with an error.
///
/// The registration shares its readiness with the loop's driver, so checking and clearing
/// readiness costs no lookup; only waiting (registering a waker) checks which loop runs.
///
/// Crate-private: everything that waits goes through the readiness adapter (`io::evented`),
/// which spends the cooperative budget; a user's own descriptor goes through `AsyncFd`.
pub(crate) struct Registration {
    source: Rc<Source>,
    loop_id: u64,
    index: usize,
    r#gen: u32,
}

impl Registration {
    /// Registers `source` for `interest` with the running loop.
    ///
    /// # Errors
    /// Outside a running loop, or when the OS refuses the registration.
    pub(crate) fn new(source: &mut impl MioSource, interest: Interest) -> io::Result<Registration> {
        context::with_drivers(|core| {
            let core = core.ok_or_else(not_in_loop)?;
            let (index, r#gen, shared) = core.io.add();
            if let Err(e) = core
                .io
                .registry()
                .register(source, token(index, r#gen), interest)
            {
                core.io.remove(index, r#gen);
                return Err(e);
            }
            Ok(Registration {
                source: shared,
                loop_id: core.id,
                index,
                r#gen,
            })
        })
    }

    /// Waits until the source is ready in `dir` (or closed, or in error), for a `poll_*`
    /// method: the waker goes to the direction's one shared slot, replacing the previous
    /// caller's (see `io::waiters`).
    #[inline(always)]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        // Ready is the common answer (an echo asks three times a request and waits once): a
        // load and a test inlined into the caller, and the waiting path a call of its own
        // whose register saves only it pays (52 instructions a request in the echo
        // benchmark when both were one function).
        if self.source.readiness.get() & dir.mask() != 0 {
            return Poll::Ready(Ok(()));
        }
        self.wait_ready(cx, dir)
    }

    #[inline(never)]
    fn wait_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        if !self.on_its_loop() {
            return Poll::Ready(Err(wrong_loop()));
        }
        self.waiters(dir).set_poll(cx.waker());
        self.note_wait(dir);
        Poll::Pending
    }

    /// [`poll_ready`](Self::poll_ready) for a waiting future, which owns an entry of its own
    /// (`key`, kept by the future between polls and given to [`forget`](Self::forget) when it
    /// goes away), so that every waiting future is woken.
    #[inline]
    pub(crate) fn poll_ready_as(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        key: &mut Option<WaitKey>,
    ) -> Poll<io::Result<()>> {
        if self.source.readiness.get() & dir.mask() != 0 {
            return Poll::Ready(Ok(()));
        }
        if !self.on_its_loop() {
            return Poll::Ready(Err(wrong_loop()));
        }
        self.waiters(dir).register(key, cx.waker());
        self.note_wait(dir);
        Poll::Pending
    }

    /// Debug mode's await point: the task waits for this source.
    #[inline]
    fn note_wait(&self, dir: Direction) {
        let index = self.index;
        crate::trace::note(|| {
            crate::trace::Point::new(dir.name()).detail(format!("IO source #{index}"))
        });
    }

    /// Removes the entry of a waiting future that goes away.
    pub(crate) fn forget(&self, dir: Direction, key: WaitKey) {
        self.waiters(dir).remove(key);
    }

    /// Whether this loop runs here: only its selector reports this source's events.
    fn on_its_loop(&self) -> bool {
        context::with_drivers(|c| c.is_some_and(|c| c.id == self.loop_id))
    }

    fn waiters(&self, dir: Direction) -> &Waiters {
        match dir {
            Direction::Read => &self.source.read,
            Direction::Write => &self.source.write,
        }
    }

    /// Forgets readiness in `dir` after an operation returned `WouldBlock`. Sound without races
    /// because readiness only changes on this loop's thread between task polls. Closed and error
    /// bits go too: an operation that would block proved them stale, and keeping them would make
    /// the readiness poll spin.
    pub(crate) fn clear_ready(&self, dir: Direction) {
        let r = &self.source.readiness;
        r.set(r.get() & !dir.mask());
    }

    /// Forgets only the data readiness in `dir` after a short read or write: the buffer was
    /// drained (or filled), but a closed or error state seen with it is still true (a peer's
    /// FIN gives no second edge, so forgetting it would wait forever for the EOF).
    pub(crate) fn clear_data_ready(&self, dir: Direction) {
        let bit = match dir {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        };
        let r = &self.source.readiness;
        r.set(r.get() & !bit);
    }

    /// Removes `source` from the selector.
    ///
    /// # Errors
    /// When called under another loop than the one it was registered with, or when the OS
    /// refuses.
    pub(crate) fn deregister(&mut self, source: &mut impl MioSource) -> io::Result<()> {
        context::with_drivers(|core| match core {
            Some(c) if c.id == self.loop_id => {
                let r = c.io.registry().deregister(source);
                c.io.remove(self.index, self.r#gen);
                r
            }
            _ => Err(wrong_loop()),
        })
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("loop", &self.loop_id)
            .field("readiness", &self.source.readiness.get())
            .finish()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // The OS forgets a closed fd by itself; this frees our slot (when on our loop; under
        // another loop of this thread the slot stays until its own loop closes).
        context::with_drivers(|core| {
            if let Some(c) = core.filter(|c| c.id == self.loop_id) {
                c.io.remove(self.index, self.r#gen);
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
