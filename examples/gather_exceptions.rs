//! Failures in `gather`: by default the first one propagates; `return_exceptions` collects all.
//!
//! ```python
//! async def coro1():
//!     await asyncio.sleep(0.1); return "one"
//! async def coro2():
//!     await asyncio.sleep(0.2); raise ValueError("two failed")
//! async def coro3():
//!     await asyncio.sleep(0.3); return "three"
//!
//! async def main():
//!     try:
//!         results = await asyncio.gather(coro1(), coro2(), coro3())
//!     except ValueError as e:
//!         print(f"gather raised: {e}")
//!     results = await asyncio.gather(coro1(), coro2(), coro3(), return_exceptions=True)
//!     for r in results:
//!         if isinstance(r, Exception):
//!             print(f"Error: {r}")
//!         else:
//!             print(f"Success: {r}")
//!
//! asyncio.run(main())
//! ```
//!
//! In Rust an exception is an `Err` value: `gather` fails fast on the first `Err` (or panic), and
//! `return_exceptions` collects every outcome, as in asyncio.

use std::time::Duration;

async fn coro(n: u64) -> Result<&'static str, String> {
    conductor::sleep(Duration::from_millis(100 * n)).await;
    match n {
        1 => Ok("one"),
        2 => Err("two failed".to_string()),
        _ => Ok("three"),
    }
}

#[conductor::main]
pub async fn main() {
    if let Err(e) = conductor::gather([1, 2, 3].map(coro)).await {
        println!("gather raised: {}", failure(e));
    }
    let results = conductor::gather([1, 2, 3].map(coro))
        .return_exceptions()
        .await;
    for r in results {
        match r {
            Err(e) => println!("Error: {}", failure(e)),
            Ok(v) => println!("Success: {v}"),
        }
    }
}

fn failure(e: conductor::group::ChildError<String>) -> String {
    match e {
        conductor::group::ChildError::Failed(e) => e,
        conductor::group::ChildError::Task(e) => e.to_string(),
    }
}
