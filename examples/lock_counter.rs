//! A lock around shared state: each worker reads, awaits, and writes back, and the lock keeps
//! the read-modify-write whole. In Rust the lock owns the value (`Mutex<T>`), so the value cannot
//! be reached without it; a `const` constructor lets it be a `static`, as the guide's
//! module-level lock is.
//!
//! ```python
//! import asyncio
//!
//! lock = asyncio.Lock()
//! shared_resource = 0
//!
//! async def worker(name):
//!     global shared_resource
//!     async with lock:  # Acquire lock; others wait
//!         val = shared_resource
//!         await asyncio.sleep(0.1)  # Simulate work
//!         shared_resource = val + 1
//!         print(f"{name}: {shared_resource}")
//!
//! async def main():
//!     await asyncio.gather(*[worker(f"W{i}") for i in range(5)])
//!
//! asyncio.run(main())
//! ```

use std::time::Duration;

use conductor::sync::Mutex;

static SHARED_RESOURCE: Mutex<u32> = Mutex::new(0);

async fn worker(name: String) {
    let mut shared = SHARED_RESOURCE.lock().await; // acquire; others wait
    let val = *shared;
    conductor::sleep(Duration::from_millis(100)).await; // simulate work
    *shared = val + 1;
    println!("{name}: {}", *shared);
}

#[conductor::main]
pub async fn main() {
    conductor::gather((0..5).map(|i| worker(format!("W{i}"))))
        .await
        .unwrap();
}
