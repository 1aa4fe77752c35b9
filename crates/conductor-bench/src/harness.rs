//! Measuring: a counting allocator, medians and percentiles, and the poll-once helper every
//! contender shares.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};
use std::task::Poll;
use std::time::Duration;

/// The system allocator, counting the bytes currently allocated while [`counting`] is on.
/// Off, it costs one relaxed load per call, so the timed workloads are not skewed.
struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicIsize = AtomicIsize::new(0);

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count(delta: isize) {
    if ON.load(Relaxed) {
        CURRENT.fetch_add(delta, Relaxed);
    }
}

fn size(layout: Layout) -> isize {
    isize::try_from(layout.size()).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded unchanged to `System`; counting has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System.alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(size(layout));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System.alloc_zeroed`'s.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(size(layout));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System.dealloc`'s.
        unsafe { System.dealloc(ptr, layout) };
        count(-size(layout));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is `System.realloc`'s.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(isize::try_from(new_size).unwrap_or(isize::MAX) - size(layout));
        }
        p
    }
}

/// Counts allocations (on all threads) while `f` runs; `f` reads [`allocated`] to take deltas.
/// Returns `f`'s result and the bytes still allocated at the end that `f`'s window allocated
/// (what the runtime leaked, or kept in process-wide state).
pub fn counting<R>(f: impl FnOnce() -> R) -> (R, isize) {
    let before = allocated();
    ON.store(true, Relaxed);
    let r = f();
    ON.store(false, Relaxed);
    (r, allocated() - before)
}

/// Bytes allocated minus bytes freed while counting was on.
pub fn allocated() -> isize {
    CURRENT.load(Relaxed)
}

/// The median (mean of the two middle values for an even count); NaN for none.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let m = values.len() / 2;
    if values.len() % 2 == 1 {
        values[m]
    } else {
        (values[m - 1] + values[m]) / 2.0
    }
}

/// Mean and 99th percentile (nearest rank) of latenesses, in milliseconds.
pub fn lateness_ms(samples: &mut [Duration]) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = samples.iter().copied().map(ms).sum::<f64>() / samples.len() as f64;
    let rank = (samples.len() * 99).div_ceil(100).max(1) - 1;
    (mean, ms(samples[rank]))
}

/// Polls `fut` exactly once; true if it was pending.
pub async fn poll_once<F: Future>(mut fut: Pin<&mut F>) -> bool {
    std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_pending())).await
}

/// A field of `/proc/self/status` in bytes (`VmRSS`: resident now, `VmHWM`: peak resident).
pub fn proc_status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
