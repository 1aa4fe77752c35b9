//! The loop's registry of tasks: what `all_tasks()`, the task dump and loop shutdown iterate.
//!
//! A task is registered from spawn until its owner-side references are all gone (not merely until
//! it completes), so that a closing loop can find every task whose references it must hand over
//! to the atomic count. Slots are reused through a free list; a task knows its slot index.

use std::panic::Location;

use super::TaskPtr;

pub(crate) struct Slot {
    pub(crate) task: Option<TaskPtr>,
    pub(crate) id: u64,
    pub(crate) spawned_at: &'static Location<'static>,
}

/// No free slot (the free list's end).
const NONE: u32 = u32::MAX;

pub(crate) struct Registry {
    slots: Vec<Slot>,
    /// The first free slot; a free slot's `id` holds the next one (an intrusive list, so that
    /// freeing and reusing a slot touches no second vector).
    free: u32,
    next_id: u64,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            slots: Vec::new(),
            free: NONE,
            next_id: 0,
        }
    }
}

impl Registry {
    /// Registers a task and returns its slot index and id (ids count from 1, like asyncio's
    /// `Task-N` names).
    #[inline]
    pub(crate) fn insert(
        &mut self,
        task: TaskPtr,
        spawned_at: &'static Location<'static>,
    ) -> (u32, u64) {
        self.next_id += 1;
        let slot = Slot {
            task: Some(task),
            id: self.next_id,
            spawned_at,
        };
        let index = self.free;
        if index != NONE {
            let s = &mut self.slots[index as usize];
            debug_assert!(s.task.is_none());
            // A free slot's `id` is the next free index (written by `remove`, below `NONE`).
            self.free = s.id as u32;
            *s = slot;
            (index, self.next_id)
        } else {
            self.push(slot)
        }
    }

    /// How many tasks were ever registered (the last id given).
    pub(crate) fn spawned(&self) -> u64 {
        self.next_id
    }

    fn push(&mut self, slot: Slot) -> (u32, u64) {
        let id = slot.id;
        self.slots.push(slot);
        let index = u32::try_from(self.slots.len() - 1)
            .ok()
            .filter(|&i| i != NONE)
            .expect("more than 2^32 - 1 live tasks");
        (index, id)
    }

    #[inline]
    pub(crate) fn remove(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        debug_assert!(slot.task.is_some());
        slot.task = None;
        slot.id = u64::from(self.free);
        self.free = index;
    }

    pub(crate) fn get(&self, index: u32) -> &Slot {
        &self.slots[index as usize]
    }

    /// Every registered task, in slot order.
    pub(crate) fn tasks(&self) -> impl Iterator<Item = &Slot> + '_ {
        self.slots.iter().filter(|s| s.task.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::NonNull;

    #[test]
    fn freed_slots_are_reused_last_freed_first_and_ids_keep_counting() {
        let mut r = Registry::default();
        let at = Location::caller();
        let t = TaskPtr::from_header(NonNull::dangling());
        assert_eq!(r.insert(t, at), (0, 1));
        assert_eq!(r.insert(t, at), (1, 2));
        assert_eq!(r.insert(t, at), (2, 3));
        r.remove(0);
        r.remove(2);
        assert_eq!(r.tasks().count(), 1);
        assert_eq!(r.insert(t, at), (2, 4));
        assert_eq!(r.insert(t, at), (0, 5));
        assert_eq!(r.insert(t, at), (3, 6), "no free slot left: a new one");
        assert_eq!(r.get(0).id, 5);
        assert_eq!(r.tasks().count(), 4);
    }
}
