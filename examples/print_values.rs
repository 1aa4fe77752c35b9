//! Interleaving is deterministic: two tasks print 1 2 3 4 5 in order, with no locks.
//!
//! ```python
//! async def print_values(values, delay):
//!     for item in values:
//!         print(item)
//!         await asyncio.sleep(delay)
//!     return delay
//!
//! async def main():
//!     task1 = asyncio.create_task(print_values([1, 3, 5], 0.2))
//!     task2 = asyncio.create_task(print_values([2, 4], 0.3))
//!     await task1
//!     await task2
//!     results = await asyncio.gather(
//!         print_values([1, 3, 5], 0.2),
//!         print_values([2, 4], 0.3)
//!     )
//!     print(results)
//!
//! asyncio.run(main())
//! ```

use std::time::Duration;

async fn print_values(values: &'static [u32], delay: f64) -> f64 {
    for item in values {
        println!("{item}");
        conductor::sleep(Duration::from_secs_f64(delay)).await;
    }
    delay
}

#[conductor::main]
pub async fn main() {
    let task1 = conductor::spawn(print_values(&[1, 3, 5], 0.2));
    let task2 = conductor::spawn(print_values(&[2, 4], 0.3));
    task1.await.unwrap();
    task2.await.unwrap();
    let (a, b) = conductor::gather!(print_values(&[1, 3, 5], 0.2), print_values(&[2, 4], 0.3))
        .await
        .unwrap();
    println!("[{a}, {b}]");
}
