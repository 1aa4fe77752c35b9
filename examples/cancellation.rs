//! Cancellation is delivered at the next await, and the task may catch it and clean up.
//!
//! ```python
//! async def long_task():
//!     try:
//!         print("Task started")
//!         await asyncio.sleep(5)
//!         print("Task finished")
//!     except asyncio.CancelledError:
//!         print("Task cancelled")
//!
//! async def main():
//!     task = asyncio.create_task(long_task())
//!     await asyncio.sleep(1)
//!     task.cancel()
//!     await task
//!
//! asyncio.run(main())
//! ```
//!
//! `catch_cancel` is the `try/except CancelledError` block. Without it the task's future would
//! simply be dropped at the `sleep` (Rust's usual cancellation).

use std::time::Duration;

async fn long_task() {
    println!("Task started");
    match conductor::catch_cancel(conductor::sleep(Duration::from_secs(5))).await {
        Ok(()) => println!("Task finished"),
        Err(_cancelled) => println!("Task cancelled"),
    }
}

#[conductor::main]
pub async fn main() {
    let task = conductor::spawn(long_task());
    conductor::sleep(Duration::from_secs(1)).await;
    task.cancel();
    // The task caught the cancellation and returned normally, so this is Ok.
    task.await.unwrap();
}
