//! Chaining coroutines: awaiting one after another runs them in sequence.
//!
//! ```python
//! async def fetch_data():
//!     await asyncio.sleep(2)  # Yields control to loop
//!     return "Data Received"
//!
//! async def process_data():
//!     print("Fetching...")
//!     data = await fetch_data()
//!     print(f"Result: {data}")
//!
//! asyncio.run(process_data())
//! ```

use std::time::Duration;

async fn fetch_data() -> &'static str {
    conductor::sleep(Duration::from_secs(2)).await; // yields control to the loop
    "Data Received"
}

#[conductor::main]
pub async fn main() {
    println!("Fetching...");
    let data = fetch_data().await;
    println!("Result: {data}");
}
