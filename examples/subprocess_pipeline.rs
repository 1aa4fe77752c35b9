//! A subprocess pipeline, `printf ... | sort | uniq -c`, with the bytes between the processes
//! moved by the event loop through their pipes (asyncio's `StreamReader`/`StreamWriter` on each
//! end), all three stages at once.
//!
//! ```python
//! import asyncio
//! from asyncio.subprocess import PIPE
//!
//! WORDS = ["pear", "apple", "pear", "fig", "apple", "pear"]
//!
//! async def pump(reader, writer):
//!     while data := await reader.read(65536):
//!         writer.write(data)
//!         await writer.drain()
//!     writer.close()
//!     await writer.wait_closed()
//!
//! async def main():
//!     echo = await asyncio.create_subprocess_exec("printf", "%s\n", *WORDS, stdout=PIPE)
//!     sort = await asyncio.create_subprocess_exec("sort", stdin=PIPE, stdout=PIPE)
//!     uniq = await asyncio.create_subprocess_exec("uniq", "-c", stdin=PIPE, stdout=PIPE)
//!     _, _, out = await asyncio.gather(
//!         pump(echo.stdout, sort.stdin),
//!         pump(sort.stdout, uniq.stdin),
//!         uniq.stdout.read(),
//!     )
//!     codes = [await p.wait() for p in (echo, sort, uniq)]
//!     print(out.decode(), end="")
//!     print("exit codes:", codes)
//!
//! asyncio.run(main())
//! ```

use conductor::process::{ChildStdin, ChildStdout, Command, Stdio};
use conductor::streams::{StreamReader, StreamWriter};

const WORDS: [&str; 6] = ["pear", "apple", "pear", "fig", "apple", "pear"];

/// Copies one process's output into the next one's input, then closes that input.
async fn pump(from: ChildStdout, to: ChildStdin) -> std::io::Result<()> {
    let (mut reader, mut writer) = (StreamReader::new(from), StreamWriter::new(to));
    loop {
        let data = reader.read(65536).await.map_err(std::io::Error::other)?;
        if data.is_empty() {
            break;
        }
        writer.write(&data);
        writer.drain().await?;
    }
    writer.wait_closed().await
}

#[conductor::main]
pub async fn main() {
    let piped = Stdio::piped;
    let mut echo = Command::new("printf")
        .arg("%s\n")
        .args(WORDS)
        .stdout(piped())
        .spawn()
        .unwrap();
    let mut sort = Command::new("sort")
        .stdin(piped())
        .stdout(piped())
        .spawn()
        .unwrap();
    let mut uniq = Command::new("uniq")
        .arg("-c")
        .stdin(piped())
        .stdout(piped())
        .spawn()
        .unwrap();

    let first = pump(echo.stdout.take().unwrap(), sort.stdin.take().unwrap());
    let second = pump(sort.stdout.take().unwrap(), uniq.stdin.take().unwrap());
    let mut last = StreamReader::new(uniq.stdout.take().unwrap());
    let (a, b, out) = conductor::gather!(first, second, async move { last.read_to_end().await })
        .await
        .unwrap();
    a.unwrap();
    b.unwrap();

    let mut codes = Vec::new();
    for p in [&mut echo, &mut sort, &mut uniq] {
        codes.push(p.wait().await.unwrap().code().unwrap());
    }
    print!("{}", String::from_utf8(out.unwrap()).unwrap());
    println!("exit codes: {codes:?}");
}
