//! Pitfall: starting a loop inside a running loop fails, with a clear message.
//!
//! ```python
//! async def inner():
//!     return 1
//! async def main():
//!     try:
//!         asyncio.run(inner())
//!     except RuntimeError as e:
//!         print(f"RuntimeError: {e}")
//! asyncio.run(main())
//! ```
//!
//! Python prints `asyncio.run() cannot be called from a running event loop`; conductor panics
//! with that sentence in its message (the fix is the same: `await` the future instead).

#[conductor::main]
pub async fn main() {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // keep the demo's output clean
    let err = std::panic::catch_unwind(|| conductor::run(async { 1 })).unwrap_err();
    std::panic::set_hook(hook);
    let msg = err
        .downcast_ref::<&str>()
        .copied()
        .unwrap_or("(non-string panic)");
    let said = msg.contains("asyncio.run() cannot be called from a running event loop");
    println!("RuntimeError: asyncio.run() cannot be called from a running event loop");
    assert!(said, "{msg}");
}
