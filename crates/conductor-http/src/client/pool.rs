//! The connection pool (aiohttp's `TCPConnector`): open connections counted per
//! (scheme, host, port) and in total against `limit` and `limit_per_host`, idle HTTP/1
//! connections kept for reuse until `keepalive_timeout`, one shared HTTP/2 connection per host.
//!
//! Invariants:
//! - Every open connection, and every one being connected, holds a [`Slot`]; the counts are the
//!   live slots, so they cannot drift: a slot gives its place back when it drops, whatever
//!   dropped it (a finished connection, a failed connect, a cancelled request).
//! - An HTTP/1 connection ([`Conn`]) belongs to one request at a time, or to the idle list. It
//!   goes back to the idle list only when its response was read to the end ([`Pool::put`]);
//!   dropped anywhere else (a cancelled request, an unread body, an error), its state is
//!   unknown, and dropping it closes it.
//! - The pool's state is borrowed only inside this file's functions, never across an await or a
//!   drop of a `Conn` (a `Conn`'s slot borrows it as it drops): connections to close are
//!   collected and dropped after the borrow ends.
//! - Waiters are woken when a slot frees (all of them: each checks its own limits again) or when
//!   an idle connection of their host comes back (handed to the first waiter of that host).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use conductor::sync::oneshot;
use conductor::task::TaskRef;
use hyper::client::conn::{http1, http2};

pub(crate) use super::body::ReqBody;

/// Where connections go: scheme, host (without brackets), port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// The pool's limits (aiohttp's `TCPConnector(limit=, limit_per_host=, keepalive_timeout=)`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Open connections in total; 0 is no limit.
    pub(crate) limit: usize,
    /// Open connections per (scheme, host, port); 0 is no limit.
    pub(crate) limit_per_host: usize,
    /// How long an idle connection is kept.
    pub(crate) keepalive: Duration,
}

/// What the pool holds (see [`PoolStats`](super::PoolStats)).
struct State {
    limits: Limits,
    open_total: usize,
    open: HashMap<Key, usize>,
    /// Idle HTTP/1 connections per host, the most recently used last.
    idle: HashMap<Key, Vec<Conn>>,
    /// The HTTP/2 connection of each host that has one.
    h2: HashMap<Key, http2::SendRequest<ReqBody>>,
    /// Hosts that spoke HTTP/2: while a connection to one is being opened, its other requests
    /// wait for it rather than open more.
    h2_hosts: HashSet<Key>,
    waiters: VecDeque<(Key, oneshot::Sender<Wake>)>,
    sweeper: bool,
    closed: bool,
}

/// What wakes a waiter.
enum Wake {
    /// An idle connection of its host, for it.
    Conn(Conn),
    /// Something changed: check again.
    Recheck,
}

/// A place among the open connections of a host; gives it back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    pool: Weak<RefCell<State>>,
    key: Key,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(pool) = self.pool.upgrade() else {
            return;
        };
        let waiters = {
            let mut st = pool.borrow_mut();
            st.open_total -= 1;
            if let Some(n) = st.open.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    st.open.remove(&self.key);
                }
            }
            std::mem::take(&mut st.waiters)
        };
        for (_, w) in waiters {
            let _ = w.send(Wake::Recheck);
        }
    }
}

/// An HTTP/1 connection: its sender, its driver task (cancelled when the connection drops,
/// which closes the socket), its slot.
pub(crate) struct Conn {
    pub(crate) sender: http1::SendRequest<ReqBody>,
    driver: TaskRef,
    idle_since: Instant,
    _slot: Slot,
}

impl Conn {
    pub(crate) fn new(sender: http1::SendRequest<ReqBody>, driver: TaskRef, slot: Slot) -> Self {
        Conn {
            sender,
            driver,
            idle_since: conductor::now(),
            _slot: slot,
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.cancel();
    }
}

/// What [`Pool::checkout`] gives a request.
pub(crate) enum Checkout {
    /// An idle HTTP/1 connection to reuse.
    Idle(Conn),
    /// The host's HTTP/2 connection.
    H2(http2::SendRequest<ReqBody>),
    /// A place for a new connection: connect, then use it.
    Open(Slot),
}

/// The pool is closed (the session was).
#[derive(Debug)]
pub(crate) struct Closed;

enum Step {
    Ready(Checkout),
    Again,
    Wait(oneshot::Receiver<Wake>),
}

/// Counts of the pool (see [`PoolStats`](super::PoolStats)).
pub(crate) struct Counts {
    pub(crate) open: usize,
    pub(crate) idle: usize,
    pub(crate) waiting: usize,
}

/// The pool: one per session, on its loop.
#[derive(Clone)]
pub(crate) struct Pool(Rc<RefCell<State>>);

impl Pool {
    pub(crate) fn new(limits: Limits) -> Pool {
        Pool(Rc::new(RefCell::new(State {
            limits,
            open_total: 0,
            open: HashMap::new(),
            idle: HashMap::new(),
            h2: HashMap::new(),
            h2_hosts: HashSet::new(),
            waiters: VecDeque::new(),
            sweeper: false,
            closed: false,
        })))
    }

    /// A connection for `key`: the host's HTTP/2 connection, an idle one, or a place for a new
    /// one, waiting while the limits are reached.
    pub(crate) async fn checkout(&self, key: &Key) -> Result<Checkout, Closed> {
        loop {
            let mut doomed = Vec::new();
            let step = self.try_checkout(key, &mut doomed);
            drop(doomed);
            match step? {
                Step::Ready(c) => return Ok(c),
                Step::Again => {}
                Step::Wait(rx) => {
                    if let Ok(Wake::Conn(c)) = rx.await {
                        return Ok(Checkout::Idle(c));
                    }
                }
            }
        }
    }

    fn try_checkout(&self, key: &Key, doomed: &mut Vec<Conn>) -> Result<Step, Closed> {
        let mut st = self.0.borrow_mut();
        if st.closed {
            return Err(Closed);
        }
        if let Some(h2) = st.h2.get(key) {
            if !h2.is_closed() {
                return Ok(Step::Ready(Checkout::H2(h2.clone())));
            }
            st.h2.remove(key);
        }
        if let Some(c) = st.take_idle(key, doomed) {
            return Ok(Step::Ready(Checkout::Idle(c)));
        }
        if !doomed.is_empty() {
            return Ok(Step::Again); // their slots free as they drop: count again after
        }
        let open_here = st.open.get(key).copied().unwrap_or(0);
        let h2_coming = open_here > 0 && st.h2_hosts.contains(key);
        let host_ok =
            !h2_coming && (st.limits.limit_per_host == 0 || open_here < st.limits.limit_per_host);
        let total_ok = st.limits.limit == 0 || st.open_total < st.limits.limit;
        if host_ok && total_ok {
            let slot = st.slot(&self.0, key);
            return Ok(Step::Ready(Checkout::Open(slot)));
        }
        if host_ok && let Some(c) = st.evict_oldest_idle() {
            doomed.push(c); // the total limit is full of other hosts' idle connections
            return Ok(Step::Again);
        }
        let (tx, rx) = oneshot::channel();
        st.waiters.push_back((key.clone(), tx));
        Ok(Step::Wait(rx))
    }

    /// Gives back a connection whose response was read to the end: to the first request
    /// waiting for its host, else to the idle list.
    pub(crate) fn put(&self, mut conn: Conn) {
        loop {
            let waiter = {
                let mut st = self.0.borrow_mut();
                if st.closed || conn.sender.is_closed() {
                    None
                } else if let Some(i) = st.waiters.iter().position(|(k, _)| *k == conn._slot.key) {
                    st.waiters.remove(i).map(|(_, w)| w)
                } else {
                    conn.idle_since = conductor::now();
                    let key = conn._slot.key.clone();
                    st.idle.entry(key).or_default().push(conn);
                    let start_sweeper = !std::mem::replace(&mut st.sweeper, true);
                    // Waiters of other hosts held back by the total limit may evict it.
                    let others = std::mem::take(&mut st.waiters);
                    drop(st);
                    for (_, w) in others {
                        let _ = w.send(Wake::Recheck);
                    }
                    if start_sweeper {
                        conductor::spawn(sweep(Rc::downgrade(&self.0))).detach();
                    }
                    return;
                }
            };
            match waiter {
                None => return, // dropped here: closed
                Some(w) => match w.send(Wake::Conn(conn)) {
                    Ok(()) => return,
                    Err(Wake::Conn(c)) => conn = c, // that waiter is gone: the next one
                    Err(Wake::Recheck) => unreachable!("sent a connection"),
                },
            }
        }
    }

    /// Makes `sender` the host's HTTP/2 connection, and wakes the requests waiting for the host.
    pub(crate) fn put_h2(&self, key: &Key, sender: http2::SendRequest<ReqBody>) {
        let waiters = {
            let mut st = self.0.borrow_mut();
            if st.closed {
                return;
            }
            st.h2.insert(key.clone(), sender);
            st.h2_hosts.insert(key.clone());
            std::mem::take(&mut st.waiters)
        };
        for (_, w) in waiters {
            let _ = w.send(Wake::Recheck);
        }
    }

    /// Closes the idle connections and refuses new requests (aiohttp's `session.close()`);
    /// connections in use close when their requests end.
    pub(crate) fn close(&self) {
        let (idle, waiters) = {
            let mut st = self.0.borrow_mut();
            st.closed = true;
            st.h2.clear();
            (
                std::mem::take(&mut st.idle),
                std::mem::take(&mut st.waiters),
            )
        };
        drop(idle);
        drop(waiters); // their receivers see the channel closed, check again, find it closed
    }

    pub(crate) fn counts(&self) -> Counts {
        let st = self.0.borrow();
        Counts {
            open: st.open_total,
            idle: st.idle.values().map(Vec::len).sum(),
            waiting: st.waiters.len(),
        }
    }
}

impl State {
    fn slot(&mut self, pool: &Rc<RefCell<State>>, key: &Key) -> Slot {
        self.open_total += 1;
        *self.open.entry(key.clone()).or_default() += 1;
        Slot {
            pool: Rc::downgrade(pool),
            key: key.clone(),
        }
    }

    /// The most recently used live idle connection of `key`; expired or closed ones on the way
    /// go to `doomed`.
    fn take_idle(&mut self, key: &Key, doomed: &mut Vec<Conn>) -> Option<Conn> {
        let now = conductor::now();
        let keepalive = self.limits.keepalive;
        let list = self.idle.get_mut(key)?;
        let mut found = None;
        while let Some(c) = list.pop() {
            if c.sender.is_closed() || now >= c.idle_since + keepalive {
                doomed.push(c);
            } else {
                found = Some(c);
                break;
            }
        }
        if list.is_empty() {
            self.idle.remove(key);
        }
        found
    }

    fn evict_oldest_idle(&mut self) -> Option<Conn> {
        let key = self
            .idle
            .iter()
            .filter_map(|(k, l)| l.first().map(|c| (c.idle_since, k)))
            .min_by_key(|(t, _)| *t)
            .map(|(_, k)| k.clone())?;
        let list = self.idle.get_mut(&key)?;
        let c = list.remove(0);
        if list.is_empty() {
            self.idle.remove(&key);
        }
        Some(c)
    }

    /// Takes the idle connections expired at `now` (or closed by the server) into `doomed`;
    /// the next expiry, if any connection is left.
    fn expire(&mut self, now: Instant, doomed: &mut Vec<Conn>) -> Option<Instant> {
        let keepalive = self.limits.keepalive;
        let mut next: Option<Instant> = None;
        self.idle.retain(|_, list| {
            let mut i = 0;
            while i < list.len() {
                let c = &list[i];
                if c.sender.is_closed() || now >= c.idle_since + keepalive {
                    doomed.push(list.remove(i));
                } else {
                    let at = c.idle_since + keepalive;
                    next = Some(next.map_or(at, |n| n.min(at)));
                    i += 1;
                }
            }
            !list.is_empty()
        });
        next
    }
}

/// Closes idle connections as they expire (aiohttp's connector cleanup), while any is idle. It
/// holds the pool only between sleeps, so a dropped session ends it.
async fn sweep(pool: Weak<RefCell<State>>) {
    loop {
        let Some(p) = pool.upgrade() else { return };
        let mut doomed = Vec::new();
        let next = {
            let mut st = p.borrow_mut();
            let next = st.expire(conductor::now(), &mut doomed);
            if next.is_none() {
                st.sweeper = false;
            }
            next
        };
        drop(doomed);
        drop(p);
        match next {
            Some(at) => conductor::sleep_until(at).await,
            None => return,
        }
    }
}
