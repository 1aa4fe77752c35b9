//! The selector half of the loop: a `mio::Poll`, and the readiness of every registered source.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

use mio::{Events, Poll, Token};
use slab::Slab;

pub(crate) use super::waiters::{WaitKey, Waiters};

/// The token of the loop's own waker (remote wake-ups).
pub(crate) const WAKE_TOKEN: Token = Token(usize::MAX);

pub(crate) const READABLE: u8 = 1 << 0;
pub(crate) const WRITABLE: u8 = 1 << 1;
pub(crate) const READ_CLOSED: u8 = 1 << 2;
pub(crate) const WRITE_CLOSED: u8 = 1 << 3;
pub(crate) const ERROR: u8 = 1 << 4;

/// A registered source's readiness and waiters, shared by the driver (which sets readiness) and
/// the `Registration` (which reads and clears it without a lookup). Loop thread only.
pub(crate) struct Source {
    pub(crate) readiness: Cell<u8>,
    pub(crate) read: Waiters,
    pub(crate) write: Waiters,
}

pub(crate) struct Driver {
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    registry: mio::Registry,
    sources: RefCell<Slab<(u32, Rc<Source>)>>,
    next_gen: Cell<u32>,
    /// The wakers one poll collects, kept between polls so that a poll allocates nothing.
    to_wake: Cell<Vec<Waker>>,
}

/// A source's token: its slab index, and a generation so that a late event for a reused slot is
/// ignored.
pub(crate) fn token(index: usize, r#gen: u32) -> Token {
    Token(((r#gen as usize) << 32) | index)
}

fn untoken(t: Token) -> (usize, u32) {
    (t.0 & 0xFFFF_FFFF, (t.0 >> 32) as u32)
}

impl Driver {
    pub(crate) fn new() -> io::Result<(Driver, mio::Waker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        Ok((
            Driver {
                poll: RefCell::new(poll),
                events: RefCell::new(Events::with_capacity(1024)),
                registry,
                sources: RefCell::new(Slab::new()),
                next_gen: Cell::new(0),
                to_wake: Cell::new(Vec::new()),
            },
            waker,
        ))
    }

    pub(crate) fn registry(&self) -> &mio::Registry {
        &self.registry
    }

    /// Number of registered sources.
    pub(crate) fn len(&self) -> usize {
        self.sources.borrow().len()
    }

    /// Adds a source. Its readiness starts as "writable": a first write is simply tried (a
    /// `WouldBlock` clears it), which saves a selector turn, and the edge-triggered registration
    /// reports the real state at the next poll anyway. Not "readable": `readable().await` on a
    /// fresh socket must wait for data, so that an idle connection allocates no buffer.
    pub(crate) fn add(&self) -> (usize, u32, Rc<Source>) {
        let r#gen = self.next_gen.get().wrapping_add(1);
        self.next_gen.set(r#gen);
        let source = Rc::new(Source {
            readiness: Cell::new(WRITABLE),
            read: Waiters::default(),
            write: Waiters::default(),
        });
        let index = self.sources.borrow_mut().insert((r#gen, source.clone()));
        (index, r#gen, source)
    }

    pub(crate) fn remove(&self, index: usize, r#gen: u32) {
        let mut sources = self.sources.borrow_mut();
        if sources.get(index).is_some_and(|s| s.0 == r#gen) {
            let source = sources.remove(index);
            drop(sources);
            drop(source);
        }
    }

    /// The first `n` registered sources, for the live view: each one's slot, readiness bits
    /// (`READABLE`...) and how many tasks wait to read and to write.
    pub(crate) fn describe(&self, n: usize) -> Vec<(usize, u8, usize, usize)> {
        self.sources
            .borrow()
            .iter()
            .take(n)
            .map(|(i, (_, s))| (i, s.readiness.get(), s.read.waiting(), s.write.waiting()))
            .collect()
    }

    /// Drops every waiting waker (the loop is closing).
    pub(crate) fn clear_wakers(&self) {
        let mut wakers = Vec::new();
        for (_, (_, s)) in self.sources.borrow().iter() {
            s.read.take_all(&mut wakers);
            s.write.take_all(&mut wakers);
        }
        drop(wakers);
    }

    /// Waits for events (at most `timeout`; `None` blocks) and wakes what they concern.
    pub(crate) fn turn(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut events = self.events.borrow_mut();
        match self.poll.borrow_mut().poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(e) => return Err(e),
        }
        let mut wake = self.to_wake.take();
        let mut n = 0;
        {
            let sources = self.sources.borrow();
            for event in events.iter() {
                if event.token() == WAKE_TOKEN {
                    continue;
                }
                let (index, r#gen) = untoken(event.token());
                let Some((_, s)) = sources.get(index).filter(|s| s.0 == r#gen) else {
                    continue;
                };
                n += 1;
                let mut r = 0;
                if event.is_readable() {
                    r |= READABLE;
                }
                if event.is_writable() {
                    r |= WRITABLE;
                }
                if event.is_read_closed() {
                    r |= READ_CLOSED;
                }
                if event.is_write_closed() {
                    r |= WRITE_CLOSED;
                }
                if event.is_error() {
                    r |= ERROR;
                }
                s.readiness.set(s.readiness.get() | r);
                if r & (READABLE | READ_CLOSED | ERROR) != 0 {
                    s.read.take_all(&mut wake);
                }
                if r & (WRITABLE | WRITE_CLOSED | ERROR) != 0 {
                    s.write.take_all(&mut wake);
                }
            }
        }
        drop(events);
        // Woken after the borrows end: a waker may run code that registers a source.
        for w in wake.drain(..) {
            w.wake();
        }
        self.to_wake.set(wake);
        Ok(n)
    }
}
