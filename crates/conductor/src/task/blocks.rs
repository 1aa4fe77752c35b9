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

#[derive(Default)]
pub(crate) struct BlockCache {
    free: [Vec<NonNull<u8>>; CLASSES],
}

/// The layout a task of `layout` is allocated with: cached sizes are rounded up to their class.
pub(crate) fn block_layout(layout: Layout) -> Layout {
    match class(layout) {
        Some(c) => Layout::from_size_align((c + 1) * GRANULE, GRANULE).expect("small layout"),
        None => layout,
    }
}

fn class(layout: Layout) -> Option<usize> {
    (layout.size() <= MAX_CACHED && layout.align() <= GRANULE && layout.size() > 0)
        .then(|| layout.size().div_ceil(GRANULE) - 1)
}

impl BlockCache {
    /// A block for `layout` (already passed through `block_layout`).
    pub(crate) fn alloc(&mut self, layout: Layout) -> NonNull<u8> {
        if let Some(p) = class(layout).and_then(|c| self.free[c].pop()) {
            return p;
        }
        // SAFETY: task layouts have a non-zero size (the header alone is 64 bytes).
        let p = unsafe { alloc::alloc(layout) };
        NonNull::new(p).unwrap_or_else(|| alloc::handle_alloc_error(layout))
    }

    /// Keeps a block of `layout` (from `alloc`) for reuse, or frees it.
    ///
    /// # Safety
    /// `p` was allocated with `layout` and nothing uses it any more.
    pub(crate) unsafe fn free(&mut self, p: NonNull<u8>, layout: Layout) {
        match class(layout) {
            Some(c) => self.free[c].push(p),
            // SAFETY: forwarded contract.
            None => unsafe { alloc::dealloc(p.as_ptr(), layout) },
        }
    }

    /// Gives back all but `KEEP` blocks of each class (the loop is idle) or all of them (`0`).
    pub(crate) fn trim(&mut self, keep: usize) {
        for (c, blocks) in self.free.iter_mut().enumerate() {
            if blocks.len() <= keep {
                continue;
            }
            let layout = Layout::from_size_align((c + 1) * GRANULE, GRANULE).expect("class");
            for p in blocks.drain(keep..) {
                // SAFETY: cached blocks were allocated with their class's layout and are unused.
                unsafe { alloc::dealloc(p.as_ptr(), layout) };
            }
            blocks.shrink_to(keep.max(blocks.len()));
        }
    }

    /// Trims to what an idle loop keeps.
    pub(crate) fn trim_idle(&mut self) {
        self.trim(KEEP);
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
        assert!(cache.free.iter().all(Vec::is_empty));
        let big = block_layout(Layout::from_size_align(4096, 8).unwrap());
        assert_eq!(big.size(), 4096, "large tasks are not rounded");
        let q = cache.alloc(big);
        // SAFETY: just allocated with `big`.
        unsafe { cache.free(q, big) };
    }
}
