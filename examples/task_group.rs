//! Structured concurrency (asyncio 3.11's TaskGroup): one failure cancels the rest, and every
//! failure is reported together.
//!
//! ```python
//! async def worker(name, delay, fail=False):
//!     try:
//!         await asyncio.sleep(delay)
//!     except asyncio.CancelledError:
//!         print(f"{name} cancelled")
//!         raise
//!     if fail:
//!         raise ValueError(f"{name} failed")
//!     print(f"{name} done")
//!
//! async def main():
//!     try:
//!         async with asyncio.TaskGroup() as tg:
//!             tg.create_task(worker("fast", 0.1))
//!             tg.create_task(worker("broken", 0.2, fail=True))
//!             tg.create_task(worker("slow", 1.0))
//!     except* ValueError as eg:
//!         print(f"group failed: {[str(e) for e in eg.exceptions]}")
//! asyncio.run(main())
//! ```

use std::time::Duration;

async fn worker(name: &'static str, delay_ms: u64, fail: bool) -> Result<(), String> {
    if let Err(c) = conductor::catch_cancel(conductor::sleep(Duration::from_millis(delay_ms))).await
    {
        println!("{name} cancelled");
        return c.reraise().await;
    }
    if fail {
        return Err(format!("{name} failed"));
    }
    println!("{name} done");
    Ok(())
}

#[conductor::main]
pub async fn main() {
    let result = conductor::task_group(|tg| async move {
        tg.spawn(worker("fast", 100, false));
        tg.spawn(worker("broken", 200, true));
        tg.spawn(worker("slow", 1000, false));
        Ok::<_, String>(())
    })
    .await;
    if let Err(group) = result {
        let errors: Vec<String> = group.errors().iter().map(|e| format!("'{e}'")).collect();
        println!("group failed: [{}]", errors.join(", "));
    }
}
