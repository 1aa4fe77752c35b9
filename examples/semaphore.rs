//! `asyncio.Semaphore(2)`: at most two coroutines inside at once.
//!
//! The guide prints three "Acquired the semaphore" lines before the first release, which no
//! `Semaphore(2)` can do; real asyncio prints two acquisitions, two releases, two acquisitions,
//! two releases (checked with Python 3.11), and so does this port.
//!
//! ```python
//! import asyncio
//!
//! async def semaphoring(semaphore):
//!     async with semaphore:
//!         print('Acquired the semaphore')
//!         await asyncio.sleep(2)
//!     print('Released the semaphore')
//!
//! async def main():
//!     semaphore = asyncio.Semaphore(2)
//!     await asyncio.gather(
//!         semaphoring(semaphore),
//!         semaphoring(semaphore),
//!         semaphoring(semaphore),
//!         semaphoring(semaphore)
//!     )
//!
//! asyncio.run(main())
//! ```

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::Semaphore;

async fn semaphoring(semaphore: Arc<Semaphore>) {
    {
        let _permit = semaphore.acquire().await; // released at the end of the block
        println!("Acquired the semaphore");
        conductor::sleep(Duration::from_secs(2)).await;
    }
    println!("Released the semaphore");
}

#[conductor::main]
pub async fn main() {
    let semaphore = Arc::new(Semaphore::new(2));
    conductor::gather((0..4).map(|_| semaphoring(semaphore.clone())))
        .await
        .unwrap();
}
