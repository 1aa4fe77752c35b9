//! Plain callbacks on the loop: `call_soon`, `call_later`, `call_at`. The 5-second callback never
//! runs: the loop closes at 3 s.
//!
//! ```python
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     loop.call_soon(print, "Execute immediately")
//!     loop.call_later(2.0, print, "Execute after 2 seconds")
//!     loop.call_at(loop.time() + 5.0, print, "Execute after 5 seconds")
//!     await asyncio.sleep(3)
//! asyncio.run(main())
//! ```

use std::time::Duration;

#[conductor::main]
pub async fn main() {
    conductor::call_soon(|| println!("Execute immediately"));
    conductor::call_later(Duration::from_secs(2), || {
        println!("Execute after 2 seconds")
    });
    conductor::call_at(conductor::now() + Duration::from_secs(5), || {
        println!("Execute after 5 seconds")
    });
    conductor::sleep(Duration::from_secs(3)).await;
}
