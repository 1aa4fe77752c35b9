//! Traces that pin asyncio's iteration-by-iteration order.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use conductor::{Runtime, Task, yield_now};

/// A log whose lines start with the number of the loop iteration that wrote them, as the
/// Python programs print them: a `call_soon` ticker there counts iterations, starting at 0 for
/// the one that runs the main task's first step.
#[derive(Clone, Default)]
pub struct Trace {
    iteration: Rc<Cell<u32>>,
    lines: Rc<RefCell<Vec<String>>>,
}

impl Trace {
    pub fn log(&self, line: impl AsRef<str>) {
        let line = format!("{}: {}", self.iteration.get(), line.as_ref());
        self.lines.borrow_mut().push(line);
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }

    /// Spawns `main` on `rt` and steps the loop one iteration at a time until it is done,
    /// numbering the iterations for `log`. Panics after 1000 iterations.
    pub fn run<T: 'static>(&self, rt: &Runtime, main: impl Future<Output = T> + 'static) -> T {
        let mut task: Task<T> = rt.spawn(main);
        for n in 0..1000 {
            self.iteration.set(n);
            rt.run_once();
            if task.is_done() {
                return task
                    .result()
                    .expect("the traced program ended with a value");
            }
        }
        panic!("the traced program did not end within 1000 iterations");
    }
}

/// Compares a trace with the lines a Python program printed, one per line.
pub fn assert_trace(got: &[String], python: &str) {
    let expected: Vec<&str> = python
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(got, expected.as_slice());
}

/// A child that takes `n` loop iterations, then logs and returns its name, or fails with it.
pub async fn child(
    trace: Trace,
    name: &'static str,
    n: u32,
    fails: bool,
) -> Result<&'static str, String> {
    for _ in 0..n {
        yield_now().await;
    }
    if fails {
        trace.log(format!("{name} fails"));
        Err(name.to_string())
    } else {
        trace.log(format!("{name} done"));
        Ok(name)
    }
}
