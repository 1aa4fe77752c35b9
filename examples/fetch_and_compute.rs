//! Fetch data and run an algorithm at the same time.
//!
//! ```python
//! async def fetch_data():
//!     print("Start fetching")
//!     await asyncio.sleep(2)
//!     print("Done fetching")
//!     return [1, 2, 3]
//!
//! async def run_algorithm():
//!     for i in range(10):
//!         print(i)
//!         await asyncio.sleep(0.5)
//!
//! async def main():
//!     data, _ = await asyncio.gather(fetch_data(), run_algorithm())
//!     print(data)
//! asyncio.run(main())
//! ```

use std::time::Duration;

async fn fetch_data() -> Vec<u32> {
    println!("Start fetching");
    conductor::sleep(Duration::from_secs(2)).await;
    println!("Done fetching");
    vec![1, 2, 3]
}

async fn run_algorithm() {
    for i in 0..10 {
        println!("{i}");
        conductor::sleep(Duration::from_millis(500)).await;
    }
}

#[conductor::main]
pub async fn main() {
    let (data, ()) = conductor::gather!(fetch_data(), run_algorithm())
        .await
        .unwrap();
    println!("{data:?}");
}
