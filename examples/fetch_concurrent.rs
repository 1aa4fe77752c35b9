//! The concurrent-fetch pattern: start every download at once with `gather`, and let a
//! `Semaphore` cap how many run at the same time (asyncio's `async with semaphore:` around
//! each fetch). The "web server" is local: it answers `GET <page>` after 100 ms and counts how
//! many requests it serves at once.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use conductor::streams::{StreamReader, StreamWriter};
use conductor::sync::Semaphore;

const LIMIT: usize = 3;

async fn fetch(addr: std::net::SocketAddr, page: u32, limit: Arc<Semaphore>) -> usize {
    let _permit = limit.acquire().await; // at most LIMIT fetches past this line
    println!("fetching page {page}");
    let (mut reader, mut writer) = conductor::open_connection(addr).await.unwrap();
    writer.write(format!("GET {page}\n").as_bytes());
    let body = reader.read_to_end().await.unwrap();
    println!("page {page}: {} bytes", body.len());
    body.len()
}

#[conductor::main]
pub async fn main() {
    let busy = Rc::new(Cell::new(0));
    let most = Rc::new(Cell::new(0));
    let server = conductor::start_server(
        {
            let (busy, most) = (busy.clone(), most.clone());
            move |mut reader: StreamReader, mut writer: StreamWriter| {
                let (busy, most) = (busy.clone(), most.clone());
                async move {
                    let request = reader.readline().await?;
                    busy.set(busy.get() + 1);
                    most.set(most.get().max(busy.get()));
                    conductor::sleep(Duration::from_millis(100)).await;
                    let page = String::from_utf8_lossy(&request).trim().to_owned();
                    writer.write(format!("<html>{page}</html>").repeat(10).as_bytes());
                    busy.set(busy.get() - 1);
                    writer.wait_closed().await
                }
            }
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();

    let start = Instant::now();
    let limit = Arc::new(Semaphore::new(LIMIT));
    let sizes = conductor::gather((1..=9).map(|page| fetch(addr, page, limit.clone())))
        .await
        .unwrap();
    println!(
        "{} pages, {} bytes, in {:.1} s (9 pages, {LIMIT} at a time, 100 ms each: 0.3 s)",
        sizes.len(),
        sizes.iter().sum::<usize>(),
        start.elapsed().as_secs_f64()
    );
    println!("the server saw at most {} requests at once", most.get());
    server.close();
    server.wait_closed().await;
}
