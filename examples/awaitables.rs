//! The three kinds of awaitable objects: a coroutine, a task, and a future set by hand
//! (asyncio's `loop.create_future()`, here `conductor::create_future()`).
//!
//! ```python
//! import asyncio
//! async def coro():
//!     return "coroutine"
//! async def main():
//!     print(await coro())
//!     task = asyncio.create_task(coro())
//!     print(await task)
//!     loop = asyncio.get_running_loop()
//!     future = loop.create_future()
//!     loop.call_later(0.1, future.set_result, "future")
//!     print(await future)
//! asyncio.run(main())
//! ```

use std::time::Duration;

async fn coro() -> &'static str {
    "coroutine"
}

#[conductor::main]
pub async fn main() {
    // 1. A coroutine (a Rust future): awaited in place.
    println!("{}", coro().await);
    // 2. A task: scheduled on the loop, awaited for its result.
    let task = conductor::spawn(coro());
    println!("{}", task.await.unwrap());
    // 3. A future whose result something else sets (here a timer callback).
    let future = conductor::create_future::<&str, String>();
    let setter = future.clone();
    conductor::call_later(Duration::from_millis(100), move || {
        setter.set_result("future").unwrap();
    });
    println!("{}", future.await.unwrap());
}
