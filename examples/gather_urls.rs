//! `gather` over a list: five one-second "requests" take one second, results in order.
//!
//! ```python
//! async def fetch(url):
//!     await asyncio.sleep(1)  # Simulate network request
//!     return f"Data from {url}"
//!
//! async def main():
//!     urls = ["url1", "url2", "url3", "url4", "url5"]
//!     results = await asyncio.gather(*[fetch(url) for url in urls])
//!     for r in results:
//!         print(r)
//!
//! asyncio.run(main())
//! ```

use std::time::Duration;

async fn fetch(url: String) -> String {
    conductor::sleep(Duration::from_secs(1)).await; // simulate a network request
    format!("Data from {url}")
}

#[conductor::main]
pub async fn main() {
    let urls = ["url1", "url2", "url3", "url4", "url5"];
    let results = conductor::gather(urls.map(|u| fetch(u.to_string())))
        .await
        .unwrap();
    for r in results {
        println!("{r}");
    }
}
