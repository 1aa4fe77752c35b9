//! Blocking and CPU-heavy work goes to the thread pool, so the loop stays responsive.
//!
//! ```python
//! def blocking_io():
//!     import time
//!     time.sleep(2)
//!     return "done"
//!
//! def cpu_heavy():
//!     return sum(i * i for i in range(10**7))
//!
//! async def main():
//!     loop = asyncio.get_event_loop()
//!     result = await loop.run_in_executor(None, blocking_io)
//!     print(result)
//!     result = await asyncio.to_thread(cpu_heavy)
//!     print(result)
//! asyncio.run(main())
//! ```
//!
//! (The guide sends `cpu_heavy` to a process pool to escape Python's GIL; Rust threads need no
//! such detour, so both go to `to_thread`.)

use std::time::Duration;

fn blocking_io() -> &'static str {
    std::thread::sleep(Duration::from_secs(2));
    "done"
}

fn cpu_heavy() -> u128 {
    (0..10u128.pow(7)).map(|i| i * i).sum()
}

#[conductor::main]
pub async fn main() {
    let result = conductor::to_thread(blocking_io).await.unwrap();
    println!("{result}");
    let result = conductor::to_thread(cpu_heavy).await.unwrap();
    println!("{result}");
}
