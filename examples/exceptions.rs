//! Handling errors from awaited work.
//!
//! ```python
//! async def risky():
//!     raise ValueError("Oops!")
//!
//! async def main():
//!     try:
//!         await risky()
//!     except ValueError as e:
//!         print(f"Caught: {e}")
//!
//! asyncio.run(main())
//! ```

async fn risky() -> Result<(), String> {
    Err("Oops!".to_string())
}

#[conductor::main]
pub async fn main() {
    if let Err(e) = risky().await {
        println!("Caught: {e}");
    }
}
