//! `asyncio.Lock`: one coroutine at a time in the critical section. The waiters get the lock in
//! the order they asked for it, so the lines come in exactly asyncio's order: the first task
//! takes the free lock at once, before the others even start waiting.
//!
//! ```python
//! import asyncio
//!
//! async def locking(lock):
//!     print('Waiting for the lock')
//!     async with lock:
//!         print('Acquired the lock')
//!         await asyncio.sleep(2)
//!     print('Released the lock')
//!
//! async def main():
//!     lock = asyncio.Lock()
//!     await asyncio.gather(
//!         locking(lock),
//!         locking(lock),
//!         locking(lock)
//!     )
//!
//! asyncio.run(main())
//! ```

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::Lock;

async fn locking(lock: Arc<Lock>) {
    println!("Waiting for the lock");
    {
        // `async with lock:` is a guard; the block's end releases the lock.
        let _guard = lock.acquire().await;
        println!("Acquired the lock");
        conductor::sleep(Duration::from_secs(2)).await;
    }
    println!("Released the lock");
}

#[conductor::main]
pub async fn main() {
    let lock = Arc::new(Lock::new());
    conductor::gather((0..3).map(|_| locking(lock.clone())))
        .await
        .unwrap();
}
