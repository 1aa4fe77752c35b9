//! `asyncio.Queue(maxsize=5)`: a producer and two consumers, with `task_done`.
//!
//! The guide's program puts a single `None` end signal for two consumers, so one consumer never
//! gets one and `gather` waits forever (Python prints the lines below, then hangs). The port puts
//! one end signal per consumer, the usual fix, so that it ends; the Python below has the same
//! fix, and both print the same lines in the same order. `qsize()` is 1 after each put because
//! the woken consumer has not taken the item yet, as in asyncio. Consumption takes 1.2 s where
//! the guide has 1 s: with 0.5 s and 1 s, producer and consumers wake at the same instants, and
//! which runs first then depends on microseconds of drift (in asyncio too), so the two programs
//! could print ties in either order on a loaded machine; 1.2 s keeps every wake-up 100 ms apart.
//!
//! ```python
//! import asyncio
//!
//! async def producer(queue, n):
//!     for i in range(n):
//!         await asyncio.sleep(0.5)  # Simulate production
//!         await queue.put(i)
//!         print(f"Produced: {i}, queue size: {queue.qsize()}")
//!     for _ in range(2):
//!         await queue.put(None)  # End signal, one per consumer
//!
//! async def consumer(queue, name):
//!     while True:
//!         item = await queue.get()
//!         if item is None:
//!             queue.task_done()
//!             break
//!         await asyncio.sleep(1.2)  # Simulate consumption
//!         print(f"[{name}] Consumed: {item}")
//!         queue.task_done()
//!
//! async def main():
//!     queue = asyncio.Queue(maxsize=5)  # Max capacity: 5
//!
//!     await asyncio.gather(
//!         producer(queue, 10),
//!         consumer(queue, "Consumer A"),
//!         consumer(queue, "Consumer B"),
//!     )
//!
//! asyncio.run(main())
//! ```

use std::sync::Arc;
use std::time::Duration;

use conductor::sync::Queue;

async fn producer(queue: Arc<Queue<Option<u32>>>, n: u32) {
    for i in 0..n {
        conductor::sleep(Duration::from_millis(500)).await; // simulate production
        queue.put(Some(i)).await.unwrap();
        println!("Produced: {i}, queue size: {}", queue.qsize());
    }
    for _ in 0..2 {
        queue.put(None).await.unwrap(); // end signal, one per consumer
    }
}

async fn consumer(queue: Arc<Queue<Option<u32>>>, name: &str) {
    while let Some(item) = queue.get().await.unwrap() {
        conductor::sleep(Duration::from_millis(1200)).await; // simulate consumption
        println!("[{name}] Consumed: {item}");
        queue.task_done().unwrap();
    }
    queue.task_done().unwrap(); // the end signal
}

#[conductor::main]
pub async fn main() {
    let queue = Arc::new(Queue::new(5)); // max capacity: 5
    conductor::gather!(
        producer(queue.clone(), 10),
        consumer(queue.clone(), "Consumer A"),
        consumer(queue, "Consumer B"),
    )
    .await
    .unwrap();
}
