//! aiofiles: three files read concurrently, the first 100 characters of each printed.
//!
//! The guide's program reads `file1.txt`..`file3.txt`; here both versions first create them in
//! a fresh temporary directory and remove it at the end. (Without aiofiles installed, the Python
//! program runs the same calls through a small stand-in that does what aiofiles does: the
//! blocking call in a thread.)
//!
//! ```python
//! import asyncio, contextlib, os, shutil, tempfile, types
//! try:
//!     import aiofiles
//! except ImportError:
//!     class _File:
//!         def __init__(self, f): self._f = f
//!         async def read(self): return await asyncio.to_thread(self._f.read)
//!         async def write(self, s): return await asyncio.to_thread(self._f.write, s)
//!     @contextlib.asynccontextmanager
//!     async def _open(path, mode="r", encoding=None):
//!         f = await asyncio.to_thread(open, path, mode, encoding=encoding)
//!         try:
//!             yield _File(f)
//!         finally:
//!             await asyncio.to_thread(f.close)
//!     aiofiles = types.SimpleNamespace(open=_open)
//!
//! async def read_file(path):
//!     async with aiofiles.open(path, "r", encoding="utf-8") as f:
//!         return await f.read()
//!
//! async def write_file(path, content):
//!     async with aiofiles.open(path, "w", encoding="utf-8") as f:
//!         await f.write(content)
//!
//! def text(n):
//!     return f"File {n}: " + " ".join(f"line {i} of file {n}." for i in range(1, 30))
//!
//! async def main():
//!     await asyncio.gather(*[write_file(f"file{n}.txt", text(n)) for n in (1, 2, 3)])
//!     # Concurrently read multiple files
//!     contents = await asyncio.gather(
//!         read_file("file1.txt"),
//!         read_file("file2.txt"),
//!         read_file("file3.txt"),
//!     )
//!     for content in contents:
//!         print(content[:100])
//!
//! home, work = os.getcwd(), tempfile.mkdtemp()
//! os.chdir(work)
//! try:
//!     asyncio.run(main())
//! finally:
//!     os.chdir(home)
//!     shutil.rmtree(work)
//! ```

use std::path::Path;

fn text(n: u32) -> String {
    let lines: Vec<String> = (1..30).map(|i| format!("line {i} of file {n}.")).collect();
    format!("File {n}: {}", lines.join(" "))
}

async fn read_file(path: impl AsRef<Path>) -> std::io::Result<String> {
    conductor::fs::read_to_string(path).await
}

#[conductor::main]
pub async fn main() {
    let dir = std::env::temp_dir().join(format!("conductor-read-files-{}", std::process::id()));
    conductor::fs::create_dir_all(&dir).await.unwrap();
    let path = |n: u32| dir.join(format!("file{n}.txt"));

    let writes = [1, 2, 3].map(|n| conductor::fs::write(path(n), text(n)));
    conductor::gather(writes).await.unwrap();
    // Concurrently read multiple files
    let contents = conductor::gather([1, 2, 3].map(|n| read_file(path(n))))
        .await
        .unwrap();
    for content in contents {
        // content[:100]: the first 100 characters (not bytes).
        println!("{}", content.chars().take(100).collect::<String>());
    }
    conductor::fs::remove_dir_all(&dir).await.unwrap();
}
