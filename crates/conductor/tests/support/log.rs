//! Logs of what a test program did, to compare with the lines the same asyncio program prints.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use conductor::Runtime;

/// Lines in the order the tasks wrote them (shared by the tasks of one loop).
pub type Log = Rc<RefCell<Vec<String>>>;

/// An empty [`Log`].
pub fn log() -> Log {
    Rc::default()
}

pub fn push(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

/// The lines written since the last `take`, leaving the log empty.
pub fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.borrow_mut())
}

/// Lines stamped with the loop time since the log was made, in seconds with `decimals`
/// digits, as a Python program prints `f"{loop.time() - t0:.1f}: ..."`.
#[derive(Clone)]
pub struct TimedLog {
    t0: Instant,
    decimals: usize,
    lines: Log,
}

impl TimedLog {
    pub fn new(rt: &Runtime, decimals: usize) -> Self {
        TimedLog {
            t0: rt.now(),
            decimals,
            lines: log(),
        }
    }

    pub fn push(&self, line: impl AsRef<str>) {
        let at = (conductor::now() - self.t0).as_secs_f64();
        let line = format!("{at:.*}: {}", self.decimals, line.as_ref());
        push(&self.lines, line);
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }
}
