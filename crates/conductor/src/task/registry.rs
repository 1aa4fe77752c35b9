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

#[derive(Default)]
pub(crate) struct Registry {
    slots: Vec<Slot>,
    free: Vec<u32>,
    next_id: u64,
}

impl Registry {
    /// Registers a task and returns its slot index and id (ids count from 1, like asyncio's
    /// `Task-N` names).
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
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                u32::try_from(self.slots.len() - 1).expect("more than 2^32 live tasks")
            }
        };
        (index, self.next_id)
    }

    /// How many tasks were ever registered (the last id given).
    pub(crate) fn spawned(&self) -> u64 {
        self.next_id
    }

    pub(crate) fn remove(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        debug_assert!(slot.task.is_some());
        slot.task = None;
        self.free.push(index);
    }

    pub(crate) fn get(&self, index: u32) -> &Slot {
        &self.slots[index as usize]
    }

    /// Every registered task, in slot order.
    pub(crate) fn tasks(&self) -> impl Iterator<Item = &Slot> + '_ {
        self.slots.iter().filter(|s| s.task.is_some())
    }
}
