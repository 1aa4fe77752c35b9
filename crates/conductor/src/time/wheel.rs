//! The timer queue (asyncio's "scheduled queue"): a hierarchical timing wheel.
//!
//! Six levels of 64 slots; a level-0 slot is one tick (1 ms), a level-`n` slot 64^n ticks, so the
//! wheel spans about 2.2 years (later deadlines wait in the last level and are re-filed). An entry
//! sits in the slot of the highest tick digit in which its deadline differs from the current
//! tick; as time advances, the slots of higher levels are emptied into lower ones. Insert and
//! cancel are O(1) (entries are doubly linked, by index, inside one slab whose free slots are
//! chained through the same links), which matters because most timeouts are cancelled before
//! they fire.
//!
//! A deadline is rounded up to the next tick, so nothing fires early. Entries that fire together
//! (in one `advance`) are sorted by (exact deadline, insertion order), so two due timers in the
//! same tick run by their nanosecond deadlines, as asyncio orders its heap; timers with equal
//! deadlines run in insertion order, which is stronger than asyncio's heap promises. A timer
//! inserted already due waits in the due list and fires, sorted the same way, at the next
//! `advance`: past deadlines run in deadline order because the loop clock keeps them apart
//! (see `clock`), however far back they are.
//!
//! Ticks are absolute (the loop clock's nanoseconds / `TICK_NS`; the wheel starts at the loop's
//! start tick). A deadline past the clock's last whole tick (`clock::NEVER` and the 1.5 ms
//! before it) waits in a list of its own that never fires and that `next_tick` ignores: a paused
//! clock never jumps to it and the loop never wakes for it.

use std::rc::Rc;
use std::task::Waker;

use super::clock;

/// Nanoseconds per tick.
pub(crate) const TICK_NS: u64 = 1_000_000;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
const LEVELS: usize = 6;
/// Ticks one full wheel covers.
const HORIZON: u64 = 1 << (SLOT_BITS as usize * LEVELS);
const NONE: u32 = u32::MAX;
/// The lists, by id: slot `s` of level `l` is `l * SLOTS + s`, then the two below.
const LISTS: usize = LEVELS * SLOTS + 2;
/// The list of entries already due, fired at the next `advance`.
const DUE: u16 = (LEVELS * SLOTS) as u16;
/// The list of entries that never fire.
const NEVER_LIST: u16 = DUE + 1;
/// The last tick that fires; `LAST_TICK * TICK_NS` fits in a `u64`.
const LAST_TICK: u64 = clock::NEVER / TICK_NS;
const _: () = assert!(
    clock::ORIGIN_NS.is_multiple_of(TICK_NS),
    "the loop starts on a tick"
);

/// What a timer does when it fires.
pub(crate) enum Payload {
    /// Wake a future (`sleep`, `timeout`); `None` until it is first polled.
    Waker(Option<Waker>),
    /// Anything else (the loop's `call_later`/`call_at` callbacks): the wheel only keeps it and
    /// hands it back when it fires.
    Expiry(Rc<dyn Expiry>),
}

/// A timer's action other than a wake, told by whoever set the timer; the wheel knows nothing
/// else of it.
pub(crate) trait Expiry {
    /// The timer came due (called by the loop, outside any borrow of the wheel).
    fn expire(self: Rc<Self>);
}

/// A handle to an entry; stale once the entry fired or was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    r#gen: u32,
}

struct Entry {
    deadline_ns: u64,
    seq: u64,
    tick: u64,
    prev: u32,
    /// The next entry of its list; while the slab slot is free, the next free slot.
    next: u32,
    /// The id of the list it is linked in.
    list: u16,
    r#gen: u32,
    /// `None` while the slab slot is free.
    payload: Option<Payload>,
}

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NONE,
    tail: NONE,
};

pub(crate) struct Wheel {
    entries: Vec<Entry>,
    /// The first free slab slot (the free slots are chained through `Entry::next`), or `NONE`.
    free: u32,
    /// Every list, by id (see `LISTS`): one index computation to reach any of them.
    lists: [List; LISTS],
    occupied: [u64; LEVELS],
    /// Every entry whose tick is at most `elapsed` has fired or is in `due`.
    elapsed: u64,
    next_seq: u64,
    len: usize,
}

/// One fired entry, in firing order.
pub(crate) struct Fired {
    pub(crate) deadline_ns: u64,
    seq: u64,
    pub(crate) payload: Payload,
}

/// The tick at which a deadline fires (rounded up); past `LAST_TICK` for one that never does.
fn tick_of(deadline_ns: u64) -> u64 {
    deadline_ns.div_ceil(TICK_NS)
}

/// The loop time at which `tick` begins (what a paused clock jumps to).
pub(crate) fn tick_start_ns(tick: u64) -> u64 {
    tick.saturating_mul(TICK_NS)
}

fn slot_ticks(level: usize) -> u64 {
    1 << (SLOT_BITS as usize * level)
}

fn level_ticks(level: usize) -> u64 {
    1 << (SLOT_BITS as usize * (level + 1))
}

impl Wheel {
    /// An empty wheel whose time is `now_tick` (the loop clock at the loop's start).
    pub(crate) fn new(now_tick: u64) -> Self {
        Wheel {
            entries: Vec::new(),
            free: NONE,
            lists: [EMPTY; LISTS],
            occupied: [0; LEVELS],
            elapsed: now_tick.min(LAST_TICK),
            next_seq: 0,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a timer for `deadline_ns` has come due: it has fired, or fires at the next
    /// `advance` (it waits in the due list). Needs no access to the entry itself.
    pub(crate) fn is_due(&self, deadline_ns: u64) -> bool {
        tick_of(deadline_ns) <= self.elapsed
    }

    /// Adds a timer for `deadline_ns` (on the loop clock).
    pub(crate) fn insert(&mut self, deadline_ns: u64, payload: Payload) -> Key {
        let tick = tick_of(deadline_ns);
        let seq = self.next_seq;
        self.next_seq += 1;
        let (index, r#gen) = match self.entries.get_mut(self.free as usize) {
            // A free slot, written field by field: its links are set by `file`.
            Some(e) => {
                let index = self.free;
                self.free = e.next;
                e.deadline_ns = deadline_ns;
                e.seq = seq;
                e.tick = tick;
                e.r#gen = e.r#gen.wrapping_add(1);
                e.payload = Some(payload);
                (index, e.r#gen)
            }
            None => {
                let index = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|&i| i != NONE)
                    .expect("more than 2^32 timers");
                self.entries.push(Entry {
                    deadline_ns,
                    seq,
                    tick,
                    prev: NONE,
                    next: NONE,
                    list: 0,
                    r#gen: 0,
                    payload: Some(payload),
                });
                (index, 0)
            }
        };
        self.len += 1;
        self.file(index);
        Key { index, r#gen }
    }

    fn live(&self, key: Key) -> bool {
        self.entries
            .get(key.index as usize)
            .is_some_and(|e| e.r#gen == key.r#gen && e.payload.is_some())
    }

    /// Whether the entry is still waiting (it has not fired and was not cancelled).
    pub(crate) fn is_pending(&self, key: Key) -> bool {
        self.live(key)
    }

    /// Replaces the waker of a pending `Waker` entry.
    pub(crate) fn set_waker(&mut self, key: Key, waker: &Waker) {
        if !self.live(key) {
            return;
        }
        if let Some(Payload::Waker(slot)) = &mut self.entries[key.index as usize].payload {
            match slot {
                Some(w) if w.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
    }

    /// Removes a pending entry; returns its payload for the caller to drop.
    pub(crate) fn cancel(&mut self, key: Key) -> Option<Payload> {
        if !self.live(key) {
            return None;
        }
        self.unlink(key.index);
        self.release(key.index)
    }

    /// The `n` earliest deadlines of pending timers, earliest first, and whether each is a
    /// waker (a `sleep`, a timeout) rather than a callback (`call_later`); timers that never
    /// fire are left out. For the live view: a pass over the entries, not the firing path.
    pub(crate) fn next_deadlines(&self, n: usize) -> Vec<(u64, bool)> {
        let mut all: Vec<(u64, bool)> = self
            .entries
            .iter()
            .filter(|e| e.deadline_ns != clock::NEVER)
            .filter_map(|e| {
                e.payload
                    .as_ref()
                    .map(|p| (e.deadline_ns, matches!(p, Payload::Waker(_))))
            })
            .collect();
        if all.len() > n {
            all.select_nth_unstable(n);
            all.truncate(n);
        }
        all.sort_unstable();
        all
    }

    /// The tick at which `advance` next has work (firing, or re-filing a higher slot).
    pub(crate) fn next_tick(&self) -> Option<u64> {
        if self.lists[DUE as usize].head != NONE {
            return Some(self.elapsed);
        }
        (0..LEVELS).filter_map(|l| self.next_in_level(l)).min()
    }

    /// Fires every entry due by `now_tick`, in (deadline, insertion) order.
    pub(crate) fn advance(&mut self, now_tick: u64, out: &mut Vec<Fired>) {
        let start = out.len();
        self.take_list_due(out);
        loop {
            let next = (0..LEVELS)
                .filter_map(|l| self.next_in_level(l).map(|t| (t, l)))
                .min();
            let Some((tick, level)) = next else { break };
            if tick > now_tick {
                break;
            }
            self.elapsed = self.elapsed.max(tick);
            let slot = ((tick >> (SLOT_BITS as usize * level)) as usize) % SLOTS;
            let list = std::mem::replace(&mut self.lists[level * SLOTS + slot], EMPTY);
            self.occupied[level] &= !(1 << slot);
            let mut at = list.head;
            while at != NONE {
                let next = self.entries[at as usize].next;
                if level == 0 {
                    self.fire(at, out);
                } else {
                    self.file(at);
                }
                at = next;
            }
            self.take_list_due(out);
        }
        self.elapsed = self.elapsed.max(now_tick);
        // One `u128` per entry rather than a tuple: a compare is two instructions, not branches
        // (many timers firing together in one advance: a busy loop behind its timers).
        let fired = &mut out[start..];
        let key = |f: &Fired| (u128::from(f.deadline_ns) << 64) | u128::from(f.seq);
        if !fired.is_sorted_by_key(key) {
            fired.sort_unstable_by_key(key);
        }
    }

    fn take_list_due(&mut self, out: &mut Vec<Fired>) {
        let mut at = std::mem::replace(&mut self.lists[DUE as usize], EMPTY).head;
        while at != NONE {
            let next = self.entries[at as usize].next;
            self.fire(at, out);
            at = next;
        }
    }

    fn fire(&mut self, index: u32, out: &mut Vec<Fired>) {
        let e = &self.entries[index as usize];
        let (deadline_ns, seq) = (e.deadline_ns, e.seq);
        if let Some(payload) = self.release(index) {
            out.push(Fired {
                deadline_ns,
                seq,
                payload,
            });
        }
    }

    fn release(&mut self, index: u32) -> Option<Payload> {
        let e = &mut self.entries[index as usize];
        let payload = e.payload.take();
        e.next = self.free;
        self.free = index;
        self.len -= 1;
        payload
    }

    /// Puts an entry in the slot its tick belongs to, given `elapsed`.
    fn file(&mut self, index: u32) {
        let tick = self.entries[index as usize].tick;
        if tick <= self.elapsed {
            self.link(index, DUE);
            return;
        }
        if tick > LAST_TICK {
            self.link(index, NEVER_LIST);
            return;
        }
        // Past the horizon: wait in the last level, at the farthest slot, and be re-filed.
        let placed = tick.min(self.elapsed + HORIZON - 1);
        let differing = (self.elapsed ^ placed) | (SLOTS as u64 - 1);
        let significant = 63 - differing.leading_zeros();
        let level = ((significant / SLOT_BITS) as usize).min(LEVELS - 1);
        let slot = ((placed >> (SLOT_BITS as usize * level)) as usize) % SLOTS;
        self.link(index, (level * SLOTS + slot) as u16);
    }

    fn next_in_level(&self, level: usize) -> Option<u64> {
        let occupied = self.occupied[level];
        if occupied == 0 {
            return None;
        }
        let now_slot = (self.elapsed / slot_ticks(level)) % SLOTS as u64;
        let rotated = occupied.rotate_right(now_slot as u32);
        let slot = (rotated.trailing_zeros() as u64 + now_slot) % SLOTS as u64;
        let level_start = self.elapsed & !(level_ticks(level) - 1);
        let mut tick = level_start + slot * slot_ticks(level);
        if tick <= self.elapsed && level > 0 {
            // A slot "behind" the current one holds entries beyond the horizon.
            tick += level_ticks(level);
        }
        Some(tick)
    }

    /// Links `index` at the tail of list `list`.
    fn link(&mut self, index: u32, list: u16) {
        let tail = self.lists[list as usize].tail;
        {
            let e = &mut self.entries[index as usize];
            e.list = list;
            e.prev = tail;
            e.next = NONE;
        }
        if tail == NONE {
            self.lists[list as usize].head = index;
        } else {
            self.entries[tail as usize].next = index;
        }
        self.lists[list as usize].tail = index;
        if list < DUE {
            self.occupied[list as usize / SLOTS] |= 1 << (list as usize % SLOTS);
        }
    }

    fn unlink(&mut self, index: u32) {
        let (prev, next, list) = {
            let e = &self.entries[index as usize];
            (e.prev, e.next, e.list)
        };
        if prev == NONE {
            self.lists[list as usize].head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NONE {
            self.lists[list as usize].tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        if list < DUE && self.lists[list as usize].head == NONE {
            self.occupied[list as usize / SLOTS] &= !(1 << (list as usize % SLOTS));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Push(Rc<std::cell::RefCell<Vec<u64>>>, u64);

    impl Expiry for Push {
        fn expire(self: Rc<Self>) {
            self.0.borrow_mut().push(self.1);
        }
    }

    fn cb(log: &Rc<std::cell::RefCell<Vec<u64>>>, v: u64) -> Payload {
        Payload::Expiry(Rc::new(Push(log.clone(), v)))
    }

    fn run(w: &mut Wheel, tick: u64) {
        let mut out = Vec::new();
        w.advance(tick, &mut out);
        for f in out {
            if let Payload::Expiry(c) = f.payload {
                c.expire();
            }
        }
    }

    #[test]
    fn fires_in_deadline_then_insertion_order_and_never_early() {
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut w = Wheel::new(0);
        let ms = TICK_NS;
        // Far timer inserted first, near one later, same deadline: insertion order must hold
        // even though the first one is re-filed from a higher level.
        w.insert(5_000 * ms, cb(&log, 1));
        w.insert(300 * ms + 1, cb(&log, 2));
        w.insert(300 * ms, cb(&log, 3));
        w.insert(5_000 * ms, cb(&log, 4));
        run(&mut w, 299);
        assert!(log.borrow().is_empty());
        run(&mut w, 300);
        assert_eq!(*log.borrow(), vec![3]);
        run(&mut w, 301);
        assert_eq!(*log.borrow(), vec![3, 2]);
        run(&mut w, 4_999);
        assert_eq!(log.borrow().len(), 2);
        run(&mut w, 5_000);
        assert_eq!(*log.borrow(), vec![3, 2, 1, 4]);
        assert!(w.is_empty());
    }

    #[test]
    fn entries_inserted_already_due_fire_in_deadline_order() {
        // The loop's wheel starts far from tick 0 (the loop clock's origin), so deadlines before
        // the start are distinct, and sort below the start tick.
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let start = 1_000_000;
        let mut w = Wheel::new(start);
        let ms = TICK_NS;
        w.insert((start - 1_000) * ms, cb(&log, 1));
        w.insert((start - 2_000) * ms, cb(&log, 2));
        w.insert(start * ms, cb(&log, 0));
        w.insert((start - 3_000) * ms + 1, cb(&log, 3));
        w.insert((start + 1) * ms - 1, cb(&log, 5));
        w.insert(start * ms + 1, cb(&log, 4));
        run(&mut w, start);
        assert_eq!(*log.borrow(), vec![3, 2, 1, 0]);
        run(&mut w, start + 1);
        assert_eq!(
            *log.borrow(),
            vec![3, 2, 1, 0, 4, 5],
            "one tick, by nanoseconds"
        );
    }

    #[test]
    fn deadlines_at_the_end_of_the_clock_never_fire_nor_wake_the_loop() {
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut w = Wheel::new(1_000);
        let never = w.insert(u64::MAX, cb(&log, 1));
        w.insert(LAST_TICK * TICK_NS + 1, cb(&log, 2));
        w.insert(LAST_TICK * TICK_NS, cb(&log, 3));
        assert_eq!(w.len(), 3);
        assert!(!w.is_due(u64::MAX));
        assert!(w.next_tick().is_some_and(|t| t <= LAST_TICK));
        let mut now = 1_000;
        while let Some(t) = w.next_tick() {
            assert!(t >= now && t <= LAST_TICK, "no spin: time moves forward");
            now = t;
            run(&mut w, now);
        }
        run(&mut w, LAST_TICK);
        assert_eq!(
            *log.borrow(),
            vec![3],
            "the last whole tick fires; later ones never"
        );
        assert!(!w.is_due(u64::MAX));
        assert!(w.is_pending(never));
        assert!(w.cancel(never).is_some());
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn cancel_is_constant_time_and_stale_keys_are_inert() {
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut w = Wheel::new(0);
        let a = w.insert(10 * TICK_NS, cb(&log, 1));
        let b = w.insert(10 * TICK_NS, cb(&log, 2));
        assert!(w.cancel(a).is_some());
        assert!(w.cancel(a).is_none());
        let c = w.insert(20 * TICK_NS, cb(&log, 3));
        assert_ne!(a, c, "a reused slot gets a new generation");
        run(&mut w, 10);
        assert_eq!(*log.borrow(), vec![2]);
        assert!(!w.is_pending(b));
        assert!(w.is_pending(c));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn next_tick_tracks_the_earliest_work() {
        let mut w = Wheel::new(0);
        assert_eq!(w.next_tick(), None);
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        w.insert(70 * TICK_NS, cb(&log, 1));
        // Level 1 slot starting at tick 64 must be re-filed before tick 70 fires.
        assert_eq!(w.next_tick(), Some(64));
        run(&mut w, 64);
        assert_eq!(w.next_tick(), Some(70));
        run(&mut w, 70);
        assert_eq!(*log.borrow(), vec![1]);
    }

    #[test]
    fn beyond_the_horizon_waits_and_fires_on_time() {
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut w = Wheel::new(0);
        let far = HORIZON + 1_000;
        w.insert(far * TICK_NS, cb(&log, 1));
        let mut now = 0;
        while let Some(t) = w.next_tick() {
            assert!(t > now || t == now && now == 0);
            now = t;
            run(&mut w, now);
            if !log.borrow().is_empty() {
                break;
            }
        }
        assert_eq!(now, far);
        assert_eq!(*log.borrow(), vec![1]);
    }

    #[test]
    fn a_random_schedule_fires_everything_in_order() {
        // Deterministic pseudo-random deadlines across all levels.
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut w = Wheel::new(0);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut expect = Vec::new();
        for i in 0..2_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let deadline = (x % 5_000_000) * 1_000 + 1;
            expect.push((deadline, i));
            w.insert(deadline, cb(&log, deadline));
        }
        expect.sort();
        let mut now = 0;
        while let Some(t) = w.next_tick() {
            now = t.max(now);
            run(&mut w, now);
            let fired = log.borrow();
            if let Some(&last) = fired.last() {
                assert!(last.div_ceil(TICK_NS) <= now, "fired early");
            }
        }
        let want: Vec<u64> = expect.into_iter().map(|(d, _)| d).collect();
        assert_eq!(*log.borrow(), want);
    }
}
