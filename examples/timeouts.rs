//! `asyncio.timeout` and `wait_for`.
//!
//! ```python
//! async def long_running_task():
//!     await asyncio.sleep(10)
//!     return "finished"
//!
//! async def main():
//!     try:
//!         async with asyncio.timeout(0.5):
//!             await long_running_task()
//!     except TimeoutError:
//!         print("Timed out!")
//!     try:
//!         result = await asyncio.wait_for(long_running_task(), timeout=0.5)
//!     except asyncio.TimeoutError:
//!         print("Timed out!")
//!
//! asyncio.run(main())
//! ```

use std::time::Duration;

async fn long_running_task() -> &'static str {
    conductor::sleep(Duration::from_secs(10)).await;
    "finished"
}

#[conductor::main]
pub async fn main() {
    if conductor::timeout(Duration::from_millis(500), long_running_task())
        .await
        .is_err()
    {
        println!("Timed out!");
    }
    if let Err(conductor::TimedOut) =
        conductor::wait_for(long_running_task(), Duration::from_millis(500)).await
    {
        println!("Timed out!");
    }
}
