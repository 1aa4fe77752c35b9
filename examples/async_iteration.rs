//! Async iteration: a stream that sleeps before each item (the guide's `AsyncRange`), and the
//! collecting loop that stands in for an async generator (stable Rust has none).
//!
//! ```python
//! class AsyncRange:
//!     def __init__(self, n): self.n = n; self.i = 0
//!     def __aiter__(self): return self
//!     async def __anext__(self):
//!         if self.i >= self.n:
//!             raise StopAsyncIteration
//!         await asyncio.sleep(0.1)
//!         val = self.i
//!         self.i += 1
//!         return val
//!
//! async def async_range(n):
//!     for i in range(n):
//!         await asyncio.sleep(0.1)
//!         yield i
//!
//! async def main():
//!     async for num in AsyncRange(5):
//!         print(num)
//!     results = [i async for i in async_range(5)]
//!     print(results)
//! asyncio.run(main())
//! ```

use std::time::Duration;

/// The `__anext__` of the guide, as an async method.
struct AsyncRange {
    n: u32,
    i: u32,
}

impl AsyncRange {
    async fn next(&mut self) -> Option<u32> {
        if self.i >= self.n {
            return None; // StopAsyncIteration
        }
        conductor::sleep(Duration::from_millis(100)).await;
        let val = self.i;
        self.i += 1;
        Some(val)
    }
}

#[conductor::main]
pub async fn main() {
    let mut range = AsyncRange { n: 5, i: 0 };
    while let Some(num) = range.next().await {
        println!("{num}");
    }
    let mut results = Vec::new();
    for i in 0..5 {
        conductor::sleep(Duration::from_millis(100)).await;
        results.push(i);
    }
    println!("{results:?}");
}
