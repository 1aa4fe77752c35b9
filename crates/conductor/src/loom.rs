//! The concurrency primitives of the lock-free core, taken from `std` normally and from `loom`
//! under `--cfg loom`, so that the model checker explores every interleaving of the real code
//! (the task's remote word and the loop's remote queue), not of a copy.

#[cfg(not(loom))]
pub(crate) mod sync {
    #[allow(unused_imports)]
    pub(crate) use std::sync::{Arc, Mutex};

    pub(crate) mod atomic {
        #[allow(unused_imports)]
        pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::{Arc, Mutex};

    pub(crate) mod atomic {
        #[allow(unused_imports)]
        pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    }
}
