//! `asyncio.Event`: waiters block until the event is set; `set` wakes all of them.
//!
//! ```python
//! import asyncio
//!
//! async def waiter(event, name):
//!     print(f"{name} waiting...")
//!     await event.wait()
//!     print(f"{name} received signal, continuing")
//!
//! async def setter(event):
//!     await asyncio.sleep(2)
//!     print("Triggering event!")
//!     event.set()
//!
//! async def main():
//!     event = asyncio.Event()
//!     await asyncio.gather(
//!         waiter(event, "W1"),
//!         waiter(event, "W2"),
//!         setter(event)
//!     )
//!
//! asyncio.run(main())
//! ```

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::Event;

async fn waiter(event: Arc<Event>, name: &str) {
    println!("{name} waiting...");
    event.wait().await;
    println!("{name} received signal, continuing");
}

async fn setter(event: Arc<Event>) {
    conductor::sleep(Duration::from_secs(2)).await;
    println!("Triggering event!");
    event.set();
}

#[conductor::main]
pub async fn main() {
    let event = Arc::new(Event::new());
    conductor::gather!(
        waiter(event.clone(), "W1"),
        waiter(event.clone(), "W2"),
        setter(event),
    )
    .await
    .unwrap();
}
