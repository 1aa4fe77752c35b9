//! Tasks run concurrently: the total is the longest task, 2 s, not 4 s.
//!
//! ```python
//! async def task(name, delay):
//!     print(f"{name} start")
//!     await asyncio.sleep(delay)
//!     print(f"{name} done")
//!     return f"{name}'s result"
//!
//! async def main():
//!     start = time.time()
//!     task_a = asyncio.create_task(task("A", 1))
//!     task_b = asyncio.create_task(task("B", 2))
//!     task_c = asyncio.create_task(task("C", 1))
//!     result_a = await task_a
//!     result_b = await task_b
//!     result_c = await task_c
//!     print(f"Elapsed: {time.time() - start:.1f}s")
//!
//! asyncio.run(main())
//! ```

use std::time::{Duration, Instant};

async fn task(name: &'static str, delay: u64) -> String {
    println!("{name} start");
    conductor::sleep(Duration::from_secs(delay)).await;
    println!("{name} done");
    format!("{name}'s result")
}

#[conductor::main]
pub async fn main() {
    let start = Instant::now();
    let task_a = conductor::spawn(task("A", 1));
    let task_b = conductor::spawn(task("B", 2));
    let task_c = conductor::spawn(task("C", 1));
    let _result_a = task_a.await.unwrap();
    let _result_b = task_b.await.unwrap();
    let _result_c = task_c.await.unwrap();
    println!("Elapsed: {}", examples::elapsed(start));
}
