//! `gather` runs coroutines concurrently; they finish in order of their delays.
//!
//! ```python
//! async def task(name, delay):
//!     print(f"Task {name} started")
//!     await asyncio.sleep(delay)
//!     print(f"Task {name} finished")
//!
//! async def main():
//!     await asyncio.gather(
//!         task("A", 2),
//!         task("B", 1),
//!         task("C", 3)
//!     )
//! asyncio.run(main())
//! ```

use std::time::Duration;

async fn task(name: &str, delay: u64) {
    println!("Task {name} started");
    conductor::sleep(Duration::from_secs(delay)).await;
    println!("Task {name} finished");
}

#[conductor::main]
pub async fn main() {
    conductor::gather!(task("A", 2), task("B", 1), task("C", 3))
        .await
        .unwrap();
}
