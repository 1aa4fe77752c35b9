//! A per-loop allocator of task blocks.
//!
//! Spawning and finishing many tasks in bursts makes the system allocator do most of the work
//! (a burst of a million tasks overflows glibc's thread cache: about 290 instructions a task in
//! `malloc` and `free`). The loop instead takes blocks from the system allocator in chunks of
//! about 4 KiB, carves each chunk into blocks of one size class, and keeps the blocks of finished
//! tasks on a free list per class: a spawn pops a block, a freed task pushes it back. When the
//! loop is about to sleep with more than a few blocks free, it gives back the chunks whose
//! blocks are all free (a chunk goes back whole, so finding them costs a sort, paid only then).
//!
//! Only the loop's own thread touches the cache (it lives in the loop's owner-only state). A task
//! freed on another thread cannot touch it: its block goes to the loop's `Foreign` list (a
//! mutex, rarely used), which the loop takes back when it next trims. Every block of a chunk is
//! free when the loop's `Shared` is dropped (every live task pins it, see `Header::pin_loop`),
//! so the cache then frees all its chunks.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Blocks are rounded up to a multiple of this, which is also their alignment.
const GRANULE: usize = 16;
/// Larger tasks are not cached.
const MAX_CACHED: usize = 512;
const CLASSES: usize = MAX_CACHED / GRANULE;
/// Blocks kept per class when the loop idles.
const KEEP: usize = 64;
/// The size a chunk aims at; a chunk holds at least one block.
const CHUNK_BYTES: usize = 4096;

/// Free blocks by size class, each class an intrusive list: a free block's first word points
/// to the next one, so keeping or reusing a block is two memory operations and never grows a
/// vector in the middle of a spawn burst.
#[derive(Default)]
pub(crate) struct BlockCache {
    classes: [Class; CLASSES],
    /// Some class holds more than `KEEP` free blocks: only then has an idle loop anything to
    /// trim (it checks before every park, so the common answer must cost one load).
    over_keep: bool,
}

#[derive(Default)]
struct Class {
    free: FreeList,
    /// Every chunk of this class, by its start address.
    chunks: Vec<NonNull<u8>>,
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

/// How many blocks of class `c` one chunk holds.
const fn per_chunk(c: usize) -> usize {
    let n = CHUNK_BYTES / ((c + 1) * GRANULE);
    if n == 0 { 1 } else { n }
}

/// The layout of a chunk of class `c`.
fn chunk_layout(c: usize) -> Layout {
    Layout::from_size_align(per_chunk(c) * (c + 1) * GRANULE, GRANULE)
        .expect("a chunk is a valid layout")
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
    #[inline]
    pub(crate) fn alloc(&mut self, layout: Layout) -> NonNull<u8> {
        match class(layout) {
            Some(c) => match self.classes[c].free.pop() {
                Some(p) => p,
                None => self.carve(c),
            },
            None => {
                // SAFETY: task layouts have a non-zero size (the header alone is 56 bytes).
                let p = unsafe { alloc::alloc(layout) };
                NonNull::new(p).unwrap_or_else(|| alloc::handle_alloc_error(layout))
            }
        }
    }

    /// Takes a new chunk of class `c`: returns its first block and lists the others as free.
    #[cold]
    fn carve(&mut self, c: usize) -> NonNull<u8> {
        let layout = chunk_layout(c);
        // SAFETY: a chunk has a non-zero size.
        let chunk = unsafe { alloc::alloc(layout) };
        let chunk = NonNull::new(chunk).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        let class = &mut self.classes[c];
        class.chunks.push(chunk);
        let size = (c + 1) * GRANULE;
        // Pushed from the last block down, so that the list hands them out in address order.
        for i in (1..per_chunk(c)).rev() {
            // SAFETY: block `i` lies inside the fresh chunk (`i < per_chunk`), is unused, and is
            // aligned to `GRANULE` (the chunk is, and `size` is a multiple of it).
            unsafe { class.free.push(chunk.add(i * size)) };
        }
        chunk
    }

    /// Keeps a block of `layout` (from `alloc`, on this loop's thread) for reuse, or frees it.
    ///
    /// # Safety
    /// `p` was allocated by this cache's `alloc` with `layout` and nothing uses it any more.
    #[inline]
    pub(crate) unsafe fn free(&mut self, p: NonNull<u8>, layout: Layout) {
        match class(layout) {
            Some(c) => {
                let list = &mut self.classes[c].free;
                // SAFETY: `p` is unused (forwarded contract) and, having a class, at least
                // `GRANULE` bytes aligned to `GRANULE` (`block_layout` made it so).
                unsafe { list.push(p) };
                self.over_keep |= list.len > KEEP;
            }
            // SAFETY: forwarded contract: blocks without a class come from the allocator.
            None => unsafe { alloc::dealloc(p.as_ptr(), layout) },
        }
    }

    /// Takes back the blocks that tasks freed on other threads.
    fn take_foreign(&mut self, foreign: &Foreign) {
        if !foreign.pending.load(Ordering::Acquire) {
            return;
        }
        let blocks = {
            let mut list = foreign.blocks.lock().unwrap_or_else(|e| e.into_inner());
            foreign.pending.store(false, Ordering::Relaxed);
            std::mem::take(&mut *list)
        };
        for (p, c) in blocks {
            // SAFETY: `Foreign::free` lists only unused blocks of class `c`, from this cache.
            unsafe { self.free(p.0, class_layout(c)) };
        }
    }

    /// Gives back the chunks whose blocks are all free, keeping about `keep` free blocks per
    /// class (all of them with `0`).
    pub(crate) fn trim(&mut self, keep: usize) {
        self.over_keep = false;
        for (c, class) in self.classes.iter_mut().enumerate() {
            if class.free.len > keep {
                class.trim(c, keep);
            }
        }
    }

    /// Trims to what an idle loop keeps, after taking back the blocks freed elsewhere.
    pub(crate) fn trim_idle(&mut self, foreign: &Foreign) {
        self.take_foreign(foreign);
        if self.over_keep {
            self.trim(KEEP);
        }
    }
}

impl Class {
    fn trim(&mut self, c: usize, keep: usize) {
        let per = per_chunk(c);
        self.chunks.sort_unstable();
        let chunk_bytes = chunk_layout(c).size();
        // Which chunk each free block lies in: the last chunk starting at or before it.
        let chunk_of = |chunks: &[NonNull<u8>], p: NonNull<u8>| {
            let i = chunks.partition_point(|&ch| ch <= p) - 1;
            debug_assert!((p.as_ptr() as usize) < chunks[i].as_ptr() as usize + chunk_bytes);
            i
        };
        let mut free_in = vec![0usize; self.chunks.len()];
        let mut p = self.free.head;
        while let Some(block) = NonNull::new(p) {
            free_in[chunk_of(&self.chunks, block)] += 1;
            // SAFETY: a listed block holds the next pointer in its first word.
            p = unsafe { block.as_ptr().cast::<*mut u8>().read() };
        }
        // Blocks of partly used chunks stay listed anyway; wholly free chunks are kept only
        // until about `keep` blocks are listed.
        let mut listed = self.free.len - free_in.iter().filter(|&&n| n == per).count() * per;
        let mut release = vec![false; self.chunks.len()];
        for (i, &n) in free_in.iter().enumerate() {
            if n == per {
                if listed < keep {
                    listed += per;
                } else {
                    release[i] = true;
                }
            }
        }
        let mut kept = FreeList::default();
        while let Some(block) = self.free.pop() {
            if !release[chunk_of(&self.chunks, block)] {
                // SAFETY: a listed block: unused, of its class's size and alignment.
                unsafe { kept.push(block) };
            }
        }
        self.free = kept;
        let layout = chunk_layout(c);
        let mut i = 0;
        self.chunks.retain(|&chunk| {
            let go = release[i];
            i += 1;
            if go {
                // SAFETY: every block of the chunk is free (counted above) and no longer
                // listed; the chunk came from the allocator with `layout`.
                unsafe { alloc::dealloc(chunk.as_ptr(), layout) };
            }
            !go
        });
    }
}

impl Drop for BlockCache {
    fn drop(&mut self) {
        // The loop's `Shared` is going: every task of this loop is gone (each live one pins
        // it), so every block is free, listed here or in `Foreign`.
        for (c, class) in self.classes.iter_mut().enumerate() {
            let layout = chunk_layout(c);
            for chunk in class.chunks.drain(..) {
                // SAFETY: no block of the chunk is in use (see above); it came from the
                // allocator with `layout`.
                unsafe { alloc::dealloc(chunk.as_ptr(), layout) };
            }
        }
    }
}

/// A block freed off its loop's thread, with its class.
struct SendBlock(NonNull<u8>);

// SAFETY: a free block is plain memory, owned by whoever holds the pointer.
unsafe impl Send for SendBlock {}

/// The blocks of tasks freed on other threads, waiting for their loop to take them back.
#[derive(Default)]
pub(crate) struct Foreign {
    pending: AtomicBool,
    blocks: Mutex<Vec<(SendBlock, usize)>>,
}

impl Foreign {
    /// Frees a task block from a thread that is not running its loop.
    ///
    /// # Safety
    /// `p` was allocated with `layout` by the cache this list belongs to, nothing uses it any
    /// more, and the caller keeps the loop's `Shared` alive until this returns.
    pub(crate) unsafe fn free(&self, p: NonNull<u8>, layout: Layout) {
        match class(layout) {
            Some(c) => {
                let mut list = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
                list.push((SendBlock(p), c));
                self.pending.store(true, Ordering::Release);
            }
            // SAFETY: forwarded contract: blocks without a class come from the allocator.
            None => unsafe { alloc::dealloc(p.as_ptr(), layout) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_reused_by_size_class_and_whole_chunks_trimmed() {
        let mut cache = BlockCache::default();
        let foreign = Foreign::default();
        let a = block_layout(Layout::from_size_align(72, 8).unwrap());
        assert_eq!((a.size(), a.align()), (80, 16));
        let c = class(a).unwrap();
        let per = per_chunk(c);
        assert_eq!(per, 51);
        let p = cache.alloc(a);
        // SAFETY: just allocated with `a`.
        unsafe { cache.free(p, a) };
        assert_eq!(cache.alloc(a), p, "the freed block comes back");
        // SAFETY: as above.
        unsafe { cache.free(p, a) };
        cache.trim(0);
        assert!(
            cache.classes[c].chunks.is_empty(),
            "a wholly free chunk goes"
        );
        assert_eq!(cache.classes[c].free.len, 0);

        // Four chunks' worth, one block of the last chunk kept in use.
        let blocks: Vec<_> = (0..4 * per).map(|_| cache.alloc(a)).collect();
        assert_eq!(cache.classes[c].chunks.len(), 4);
        for &p in &blocks[..4 * per - 1] {
            // SAFETY: allocated above with `a`, unused.
            unsafe { cache.free(p, a) };
        }
        cache.trim_idle(&foreign);
        assert_eq!(
            cache.classes[c].chunks.len(),
            2,
            "the partly used chunk stays, and wholly free ones until KEEP blocks are listed"
        );
        assert_eq!(cache.classes[c].free.len, 2 * per - 1);
        // The last block is freed on another thread: the loop takes it back when it trims.
        let last = blocks[4 * per - 1];
        // SAFETY: allocated above with `a`, unused; the cache outlives the call.
        unsafe { foreign.free(last, a) };
        cache.trim_idle(&foreign);
        assert_eq!(cache.classes[c].free.len, 2 * per);
        cache.trim(0);
        assert!(cache.classes[c].chunks.is_empty());

        let big = block_layout(Layout::from_size_align(4096, 8).unwrap());
        assert_eq!(big.size(), 4096, "large tasks are not rounded");
        let q = cache.alloc(big);
        // SAFETY: just allocated with `big`.
        unsafe { cache.free(q, big) };
        let q = cache.alloc(big);
        // SAFETY: as above.
        unsafe { foreign.free(q, big) };
        // The drop frees the chunks.
        let r = cache.alloc(a);
        // SAFETY: as above.
        unsafe { cache.free(r, a) };
    }
}
