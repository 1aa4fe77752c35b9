//! A per-loop cache of task allocations.
//!
//! Spawning and finishing many tasks in bursts makes the system allocator do most of the work
//! (a burst of a million tasks overflows glibc's thread cache and costs it several hundred
//! instructions per task). The loop keeps the blocks of finished tasks, by size class, and hands
//! them to the next spawns; when the loop is about to sleep it gives all but a few back.
//!
//! Only the loop's own thread touches the cache (it lives in the loop's owner-only state). A task
//! freed anywhere else goes back to the system allocator, which is always allowed because every
//! block comes from it with the same layout.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// Blocks are rounded up to a multiple of this, which is also their alignment.
const GRANULE: usize = 16;
/// Larger tasks are not cached.
const MAX_CACHED: usize = 512;
const CLASSES: usize = MAX_CACHED / GRANULE;
/// Blocks kept per class when the loop idles.
const KEEP: usize = 64;

/// Free blocks by size class, each class an intrusive list: a free block's first word points
/// to the next one, so keeping or reusing a block is two memory operations and never grows a
/// vector in the middle of a spawn burst.
#[derive(Default)]
pub(crate) struct BlockCache {
    classes: [FreeList; CLASSES],
    /// Some class holds more than `KEEP` blocks: only then has an idle loop anything to trim
    /// (it checks before every park, so the common answer must cost one load).
    over_keep: bool,
}

struct FreeList {
    head: *mut u8,
    len: usize,
}

impl Default for FreeList {
    fn default() -> Self {
        FreeList {
            head: std::ptr::null_mut(),
            len: 0,
        }
    }
}

impl FreeList {
    /// # Safety
    /// `p` is an unused block of at least `GRANULE` bytes, aligned to `GRANULE`.
    unsafe fn push(&mut self, p: NonNull<u8>) {
        // SAFETY: the block is unused and large and aligned enough for a pointer.
        unsafe { p.as_ptr().cast::<*mut u8>().write(self.head) };
        self.head = p.as_ptr();
        self.len += 1;
    }

    fn pop(&mut self) -> Option<NonNull<u8>> {
        let p = NonNull::new(self.head)?;
        // SAFETY: every block on the list was pushed by `push`, which wrote the next pointer
        // in its first word; the block stays unused until it is popped here.
        self.head = unsafe { p.as_ptr().cast::<*mut u8>().read() };
        self.len -= 1;
        Some(p)
    }
}

/// The layout a task of `layout` is allocated with: cached sizes are rounded up to their class.
/// A `const fn`, so that each task type computes it once, at compile time.
pub(crate) const fn block_layout(layout: Layout) -> Layout {
    match class(layout) {
        Some(c) => class_layout(c),
        None => layout,
    }
}

/// The layout of the blocks of class `c`.
const fn class_layout(c: usize) -> Layout {
    match Layout::from_size_align((c + 1) * GRANULE, GRANULE) {
        Ok(l) => l,
        Err(_) => panic!("a size class is a valid layout"),
    }
}

const fn class(layout: Layout) -> Option<usize> {
    if layout.size() <= MAX_CACHED && layout.align() <= GRANULE && layout.size() > 0 {
        Some(layout.size().div_ceil(GRANULE) - 1)
    } else {
        None
    }
}

impl BlockCache {
    /// A block for `layout` (already passed through `block_layout`).
    pub(crate) fn alloc(&mut self, layout: Layout) -> NonNull<u8> {
        if let Some(p) = class(layout).and_then(|c| self.classes[c].pop()) {
            return p;
        }
        // SAFETY: task layouts have a non-zero size (the header alone is 56 bytes).
        let p = unsafe { alloc::alloc(layout) };
        NonNull::new(p).unwrap_or_else(|| alloc::handle_alloc_error(layout))
    }

    /// Keeps a block of `layout` (from `alloc`) for reuse, or frees it.
    ///
    /// # Safety
    /// `p` was allocated with `layout` and nothing uses it any more.
    pub(crate) unsafe fn free(&mut self, p: NonNull<u8>, layout: Layout) {
        match class(layout) {
            Some(c) => {
                let list = &mut self.classes[c];
                // SAFETY: `p` is unused (forwarded contract) and, having a class, at least
                // `GRANULE` bytes aligned to `GRANULE` (`block_layout` made it so).
                unsafe { list.push(p) };
                self.over_keep |= list.len > KEEP;
            }
            // SAFETY: forwarded contract.
            None => unsafe { alloc::dealloc(p.as_ptr(), layout) },
        }
    }

    /// Gives back all but `KEEP` blocks of each class (the loop is idle) or all of them (`0`).
    pub(crate) fn trim(&mut self, keep: usize) {
        self.over_keep = false;
        for (c, list) in self.classes.iter_mut().enumerate() {
            if list.len <= keep {
                continue;
            }
            let layout = class_layout(c);
            let mut kept = FreeList::default();
            while let Some(p) = list.pop() {
                if kept.len < keep {
                    // SAFETY: a cached block: unused, of its class's size and alignment.
                    unsafe { kept.push(p) };
                } else {
                    // SAFETY: cached blocks were allocated with their class's layout and are
                    // unused.
                    unsafe { alloc::dealloc(p.as_ptr(), layout) };
                }
            }
            *list = kept;
        }
    }

    /// Trims to what an idle loop keeps.
    pub(crate) fn trim_idle(&mut self) {
        if self.over_keep {
            self.trim(KEEP);
        }
    }
}

impl Drop for BlockCache {
    fn drop(&mut self) {
        self.trim(0);
    }
}

/// Frees a task block from a thread that is not running its loop: straight to the allocator.
///
/// # Safety
/// `p` was allocated with `layout` and nothing uses it any more.
pub(crate) unsafe fn free_elsewhere(p: NonNull<u8>, layout: Layout) {
    // SAFETY: forwarded contract; blocks come from the global allocator with this layout.
    unsafe { alloc::dealloc(p.as_ptr(), layout) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_reused_by_size_class_and_trimmed() {
        let mut cache = BlockCache::default();
        let a = block_layout(Layout::from_size_align(72, 8).unwrap());
        assert_eq!((a.size(), a.align()), (80, 16));
        let p = cache.alloc(a);
        // SAFETY: just allocated with `a`.
        unsafe { cache.free(p, a) };
        assert_eq!(cache.alloc(a), p, "the freed block comes back");
        // SAFETY: as above.
        unsafe { cache.free(p, a) };
        cache.trim(0);
        assert!(cache.classes.iter().all(|l| l.len == 0 && l.head.is_null()));
        let blocks: Vec<_> = (0..=KEEP).map(|_| cache.alloc(a)).collect();
        for &p in &blocks[..KEEP] {
            // SAFETY: allocated above with `a`, unused.
            unsafe { cache.free(p, a) };
        }
        cache.trim_idle();
        assert_eq!(
            cache.classes[class(a).unwrap()].len,
            KEEP,
            "up to KEEP stay idle"
        );
        // SAFETY: as above.
        unsafe { cache.free(blocks[KEEP], a) };
        cache.trim_idle();
        assert_eq!(
            cache.classes[class(a).unwrap()].len,
            KEEP,
            "the one past KEEP goes"
        );
        cache.trim(0);
        let big = block_layout(Layout::from_size_align(4096, 8).unwrap());
        assert_eq!(big.size(), 4096, "large tasks are not rounded");
        let q = cache.alloc(big);
        // SAFETY: just allocated with `big`.
        unsafe { cache.free(q, big) };
    }
}
