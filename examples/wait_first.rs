//! `wait` with FIRST_COMPLETED returns as soon as one task is done; the rest are cancelled by hand.
//!
//! ```python
//! async def task(n):
//!     await asyncio.sleep(n)
//!     return n
//!
//! async def main():
//!     tasks = [asyncio.create_task(task(i)) for i in [3, 1, 2]]
//!     done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
//!     for t in done:
//!         print(f"Done: {t.result()}")
//!     for t in pending:
//!         t.cancel()
//!
//! asyncio.run(main())
//! ```

use std::time::Duration;

use conductor::ReturnWhen;

async fn task(n: u64) -> u64 {
    conductor::sleep(Duration::from_secs(n)).await;
    n
}

#[conductor::main]
pub async fn main() {
    let tasks = [3, 1, 2].map(|i| conductor::spawn(task(i)));
    let (done, pending) = conductor::wait(tasks, ReturnWhen::FirstCompleted, None).await;
    for mut t in done {
        println!("Done: {}", t.result().unwrap());
    }
    for t in pending {
        t.cancel();
    }
}
