//! `create_task` schedules at once: three one-second tasks finish together after one second.
//!
//! ```python
//! async def say_hello():
//!     await asyncio.sleep(1)
//!     return "Hello"
//!
//! async def main():
//!     task = asyncio.create_task(say_hello())
//!     task1 = asyncio.create_task(say_hello())
//!     tasks2 = asyncio.create_task(say_hello())
//!     print("Tasks created, doing other work...")
//!     print("Doing other work...")
//!     result1 = await task
//!     result2 = await task1
//!     result3 = await tasks2
//!     print(result1, result2, result3)
//! asyncio.run(main())
//! ```

use std::time::Duration;

async fn say_hello() -> &'static str {
    conductor::sleep(Duration::from_secs(1)).await;
    "Hello"
}

#[conductor::main]
pub async fn main() {
    let task = conductor::create_task(say_hello());
    let task1 = conductor::create_task(say_hello());
    let task2 = conductor::create_task(say_hello());
    println!("Tasks created, doing other work...");
    println!("Doing other work...");
    let result1 = task.await.unwrap();
    let result2 = task1.await.unwrap();
    let result3 = task2.await.unwrap();
    println!("{result1} {result2} {result3}");
}
