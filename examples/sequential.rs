//! Awaiting one coroutine after another: 1 s + 2 s = 3 s.
//!
//! ```python
//! async def task(name, delay):
//!     print(f"{name} start")
//!     await asyncio.sleep(delay)  # ✅ Async wait
//!     print(f"{name} done")
//!
//! async def main():
//!     start = time.time()
//!     await task("A", 1)
//!     await task("B", 2)
//!     print(f"Elapsed: {time.time() - start:.1f}s")
//!
//! asyncio.run(main())
//! ```

use std::time::{Duration, Instant};

async fn task(name: &str, delay: u64) {
    println!("{name} start");
    conductor::sleep(Duration::from_secs(delay)).await;
    println!("{name} done");
}

#[conductor::main]
pub async fn main() {
    let start = Instant::now();
    task("A", 1).await;
    task("B", 2).await;
    println!("Elapsed: {}", examples::elapsed(start));
}
