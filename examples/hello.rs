//! The first program of the guides (asyncio.run(main())).
//!
//! ```python
//! import asyncio
//! async def main():
//!     print("Hello, Asyncio!")
//! asyncio.run(main())
//! ```

#[conductor::main]
pub async fn main() {
    println!("Hello, Asyncio!");
}
