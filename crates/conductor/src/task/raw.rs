//! One allocation per task: the header, then the future, whose slot later holds the output.
//!
//! This file owns the layout (`TaskCell`), the per-type vtable, and the owner-side reference
//! operations (`LocalRef`, `inc_local`, `dec_local`). Which thread may call what is stated on each
//! function; the overall protocol is in `state.rs`.

use std::alloc::Layout;
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll};

use super::blocks;
use super::header::{Header, TaskPtr, Vtable, flags::*};
use super::join_waker::JoinWaker;
use super::state::{DropOutcome, RemoteState};
use crate::runtime::shared::{OnLoop, Shared};
use std::sync::Arc;

#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// The future until it completes, then its output. `Header::flags` says which is live:
/// the future while `COMPLETE` is clear, the output while `HAS_OUTPUT` is set, else nothing.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<F::Output>,
}

struct VtableFor<F>(PhantomData<F>);

impl<F: Future> VtableFor<F> {
    const VTABLE: Vtable = Vtable {
        poll: poll::<F>,
        drop_future: drop_future::<F>,
        drop_output: drop_output::<F>,
        take_output: take_output::<F>,
        output: output::<F>,
        dealloc: dealloc::<F>,
    };
    /// The task's block: `TaskCell<F>` rounded up to its cache class (see `blocks`).
    const BLOCK: Layout = blocks::block_layout(Layout::new::<TaskCell<F>>());
}

/// Allocates a task for `future` on the loop `shared`. The new task has no references yet
/// (`local == 0`); the spawner adds the ones it hands out before anything can observe it.
/// Allocates a task on the loop `shared`, from its thread (`on`).
pub(crate) fn allocate<F: Future>(future: F, shared: &Arc<Shared>, on: OnLoop) -> TaskPtr {
    // A pointer with the provenance of the whole `Arc` allocation (see `Header::pin_loop`).
    let shared = NonNull::new(Arc::as_ptr(shared).cast_mut()).expect("Arc::as_ptr is never null");
    let cell = TaskCell {
        header: Header {
            state: RemoteState::new(),
            vtable: &VtableFor::<F>::VTABLE,
            shared,
            local: Cell::new(0),
            flags: Cell::new(0),
            slot: Cell::new(u32::MAX),
            join_waker: JoinWaker::new(),
            extra: Cell::new(ptr::null_mut()),
            #[cfg(feature = "tracing")]
            span_id: std::sync::atomic::AtomicU64::new(0),
        },
        stage: UnsafeCell::new(Stage {
            future: ManuallyDrop::new(future),
        }),
    };
    let layout = VtableFor::<F>::BLOCK;
    let block = cell.header.shared().alloc_block(on, layout);
    let ptr = block.cast::<TaskCell<F>>();
    // SAFETY: the block is fresh, at least as large as `TaskCell<F>` and aligned for it
    // (`block_layout` only rounds the size up and the alignment to 16).
    unsafe { ptr.as_ptr().write(cell) };
    TaskPtr::from_header(ptr.cast())
}

/// # Safety
/// Owner thread; the task is alive, its future is live, and nothing else is polling it.
unsafe fn poll<F: Future>(task: TaskPtr, cx: &mut Context<'_>) -> bool {
    // SAFETY: `task` was allocated by `allocate::<F>` (the vtable is per type), and is alive.
    let cell = unsafe { task.cast::<TaskCell<F>>().as_ref() };
    let stage = cell.stage.get();
    let polled = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the future is live (the caller checked `COMPLETE`) and pinned: the allocation
        // never moves, and `stage` is not otherwise borrowed during the poll.
        let fut = unsafe { Pin::new_unchecked(&mut *(*stage).future) };
        fut.poll(cx)
    }));
    let header = &cell.header;
    match polled {
        Ok(Poll::Pending) => false,
        Ok(Poll::Ready(output)) => {
            // SAFETY: the future is live and is dropped exactly once, here.
            let dropped = unsafe { drop_future::<F>(task) };
            // SAFETY: the future's storage is dead; the output takes its place.
            unsafe { ptr::addr_of_mut!((*stage).output).write(ManuallyDrop::new(output)) };
            header.set(HAS_OUTPUT);
            if let Some(payload) = dropped {
                record_panic(header, payload);
            }
            true
        }
        Err(payload) => {
            // SAFETY: the future is still live after a panic in `poll`; drop it once.
            let _ = unsafe { drop_future::<F>(task) };
            record_panic(header, payload);
            true
        }
    }
}

fn record_panic(header: &Header, payload: Box<dyn Any + Send>) {
    header.set(PANICKED);
    let mut slot = header.extra().panic.borrow_mut();
    if slot.is_none() {
        *slot = Some(payload);
    }
}

/// Drops the future, catching a panic in its destructor and handing the payload back.
///
/// # Safety
/// Owner thread; the future is live and is not dropped again.
unsafe fn drop_future<F: Future>(task: TaskPtr) -> Option<Box<dyn Any + Send>> {
    // SAFETY: as for `poll`.
    let cell = unsafe { task.cast::<TaskCell<F>>().as_ref() };
    let stage = cell.stage.get();
    panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller guarantees the future is live and dropped only here.
        unsafe { ManuallyDrop::drop(&mut (*stage).future) }
    }))
    .err()
}

/// # Safety
/// Owner thread; `HAS_OUTPUT` is set.
unsafe fn drop_output<F: Future>(task: TaskPtr) {
    // SAFETY: as for `poll`.
    let cell = unsafe { task.cast::<TaskCell<F>>().as_ref() };
    cell.header.clear(HAS_OUTPUT);
    let stage = cell.stage.get();
    // SAFETY: the output is live (HAS_OUTPUT was set) and, with the flag now clear, dropped once.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
        ManuallyDrop::drop(&mut (*stage).output)
    }));
}

/// # Safety
/// Owner thread; `HAS_OUTPUT` is set; `dst` points to a writable `MaybeUninit<F::Output>`.
unsafe fn take_output<F: Future>(task: TaskPtr, dst: *mut ()) {
    // SAFETY: as for `poll`.
    let cell = unsafe { task.cast::<TaskCell<F>>().as_ref() };
    cell.header.clear(HAS_OUTPUT);
    cell.header.set(TAKEN);
    let stage = cell.stage.get();
    // SAFETY: the output is live and moved out exactly once (the flag is now clear); the caller
    // guarantees `dst` has the output's type.
    unsafe {
        let out = ManuallyDrop::take(&mut (*stage).output);
        dst.cast::<MaybeUninit<F::Output>>()
            .write(MaybeUninit::new(out));
    }
}

/// # Safety
/// Owner thread; `HAS_OUTPUT` is set. The address stays valid until the output is taken or
/// dropped.
unsafe fn output<F: Future>(task: TaskPtr) -> *const () {
    // SAFETY: as for `poll`.
    let cell = unsafe { task.cast::<TaskCell<F>>().as_ref() };
    let stage = cell.stage.get();
    // SAFETY: only the address is taken; `ManuallyDrop<F::Output>` has the output's layout.
    unsafe { ptr::addr_of!((*stage).output).cast() }
}

/// # Safety
/// Called once, by whoever observed the task's last reference go; the payload is gone.
unsafe fn dealloc<F: Future>(task: TaskPtr) {
    let cell = task.cast::<TaskCell<F>>();
    // SAFETY: nobody references the task any more; its header is still initialized.
    let header = unsafe { &cell.as_ref().header };
    header.free_extra();
    header.join_waker.clear_at_free();
    let shared = header.shared;
    let pinned = header.has(PINS_LOOP);
    // The stage holds nothing (the payload is gone) and the header's other fields need no drop.
    let layout = VtableFor::<F>::BLOCK;
    let block = cell.cast::<u8>();
    // SAFETY: the task pins its loop's `Shared` until below.
    let shared_ref = unsafe { shared.as_ref() };
    if let Some(on) = shared_ref.on_loop_here() {
        // SAFETY: the block came from `allocate` with `layout`, and nothing uses it any more.
        unsafe { shared_ref.free_block(on, block, layout) };
    } else {
        // SAFETY: the block came from this loop's `allocate` with `layout` and is unused; the
        // task pins `shared` (it is freed off its loop only after `pin_loop`) until below.
        unsafe { shared_ref.free_block_elsewhere(block, layout) };
    }
    if pinned {
        // SAFETY: `pin_loop` took this count; the flag says so, and this is its only release.
        unsafe { Arc::decrement_strong_count(shared.as_ptr()) };
    }
}

/// Frees a task whose last reference just went away.
///
/// # Safety
/// The caller observed `Free` (or `release_local() == true`) for this task.
pub(crate) unsafe fn free(task: TaskPtr) {
    // SAFETY: the header is alive until `dealloc` returns; the caller owns the last reference.
    unsafe { (task.header().vtable.dealloc)(task) }
}

/// Adds one owner-side reference.
///
/// # Safety
/// Owner thread, and the task is alive (the caller holds a reference).
pub(crate) unsafe fn inc_local(task: TaskPtr) {
    // SAFETY: the caller holds a reference.
    let h = unsafe { task.header() };
    if h.has(ORPHANED) {
        h.state.clone_ref();
    } else {
        h.local.set(h.local.get() + 1);
    }
}

/// Drops one owner-side reference, freeing the task when it was the last.
///
/// # Safety
/// Owner thread, and the caller gives up one reference it holds.
#[inline]
pub(crate) unsafe fn dec_local(task: TaskPtr) {
    // SAFETY: the caller holds a reference until this call ends.
    let h = unsafe { task.header() };
    if h.has(ORPHANED) {
        // SAFETY: as ours.
        unsafe { dec_orphaned(task) };
        return;
    }
    let n = h.local.get() - 1;
    h.local.set(n);
    if n == 0 {
        // SAFETY: owner thread; the local count just reached zero.
        unsafe { local_released(task) };
    }
}

/// `dec_local` for a task whose loop is gone: the count is the shared state's.
///
/// # Safety
/// As `dec_local`.
#[cold]
unsafe fn dec_orphaned(task: TaskPtr) {
    // SAFETY: the caller holds a reference until this call ends.
    if unsafe { task.header() }.state.drop_ref() == DropOutcome::Free {
        // SAFETY: `Free` means ours was the last reference.
        unsafe { free(task) };
    }
}

/// Subtracts `debt` owner-side references that foreign threads dropped (see `state`).
///
/// # Safety
/// Owner thread; the task is alive (its remote-queue entry pins it).
pub(crate) unsafe fn merge_debt(task: TaskPtr, debt: u32) {
    // SAFETY: pinned by the caller's entry.
    let h = unsafe { task.header() };
    let n = h.local.get() - debt;
    h.local.set(n);
    if n == 0 {
        // SAFETY: owner thread; the local count just reached zero.
        unsafe { local_released(task) };
    }
}

/// The owner holds no reference any more: unregister, and free unless foreign threads still hold
/// references.
unsafe fn local_released(task: TaskPtr) {
    // SAFETY: the task is alive until `release_local` says otherwise.
    let h = unsafe { task.header() };
    debug_assert!(
        h.has(COMPLETE) && !h.has(HAS_OUTPUT),
        "released a task with a live payload"
    );
    let slot = h.slot.get();
    // SAFETY: owner thread (the caller's contract).
    let on = unsafe { OnLoop::new_unchecked() };
    h.shared().unregister(on, slot);
    // A task nobody else ever referenced needs no atomic update. Otherwise other threads may
    // still reach it: it pins its loop first, so that their wakes and drops find the loop's
    // `Shared` alive even after the runtime is dropped.
    let unreferenced = h.state.is_only_local() || {
        h.pin_loop();
        h.state.release_local()
    };
    if unreferenced {
        // SAFETY: nobody else references the task.
        unsafe { free(task) };
    }
}

/// An owner-side reference to a task. `!Send`: it lives and dies on the loop's thread.
pub(crate) struct LocalRef {
    task: TaskPtr,
    _not_send: PhantomData<*const ()>,
}

impl LocalRef {
    /// The proof that this is the task's loop's thread: a `LocalRef` is made only there (its
    /// constructors' contract) and is `!Send`.
    #[inline]
    pub(crate) fn on_loop(&self) -> OnLoop {
        // SAFETY: see above.
        unsafe { OnLoop::new_unchecked() }
    }

    /// Adopts a reference the caller already counted.
    ///
    /// # Safety
    /// Owner thread; the caller transfers one counted reference to the new `LocalRef`.
    pub(crate) unsafe fn adopt(task: TaskPtr) -> Self {
        LocalRef {
            task,
            _not_send: PhantomData,
        }
    }

    /// Takes a new reference.
    ///
    /// # Safety
    /// Owner thread; the task is alive.
    pub(crate) unsafe fn new(task: TaskPtr) -> Self {
        // SAFETY: forwarded contract.
        unsafe { inc_local(task) };
        // SAFETY: the reference was just counted.
        unsafe { Self::adopt(task) }
    }

    pub(crate) fn ptr(&self) -> TaskPtr {
        self.task
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: we hold a reference.
        unsafe { self.task.header() }
    }
}

impl Clone for LocalRef {
    fn clone(&self) -> Self {
        // SAFETY: `LocalRef` is `!Send`, so we are on the owner thread, and we hold a reference.
        unsafe { LocalRef::new(self.task) }
    }
}

impl Drop for LocalRef {
    fn drop(&mut self) {
        // SAFETY: `!Send`, so owner thread; we give up our reference.
        unsafe { dec_local(self.task) }
    }
}
