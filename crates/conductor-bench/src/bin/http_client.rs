//! The HTTP client benchmark: 10,000 GETs over one keep-alive connection to a local server
//! (conductor-http's, in a child process pinned to CPU 0), made by conductor-http's
//! `ClientSession`, by reqwest on tokio current_thread and by Python's aiohttp `ClientSession`,
//! each pinned to CPU 1 after 500 warm-up requests: requests per second and the client's CPU
//! time per request (user + system; `getrusage` for the Rust clients, `time.process_time()` in
//! Python). The target: conductor's client CPU per request at most reqwest's.
//!
//! ```text
//! cargo run --release -p conductor-bench --bin http_client [-- --requests N]
//! ```

#[path = "../args.rs"]
mod args;
#[allow(dead_code)]
#[path = "../httpbench/mod.rs"]
mod httpbench;

use std::time::{Duration, Instant};

use httpbench::control::Server;
use httpbench::{servers, sys};

/// What `--help` prints (the doc comment's command lines).
const USAGE: args::Usage = args::Usage {
    source: "src/bin/http_client.rs",
    lines: "cargo run --release -p conductor-bench --bin http_client [-- --requests N]",
};

const WARMUP: usize = 500;

/// What one client measured: CPU time and wall time for the requests.
struct Measured {
    cpu: Duration,
    wall: Duration,
}

fn cpu_now() -> Duration {
    let (user, system) = sys::cpu_times();
    user + system
}

fn conductor_client(url: &str, n: usize) -> Measured {
    use conductor_http::client::ClientSession;
    let url = url.to_owned();
    conductor::run(async move {
        let session = ClientSession::new();
        let get = || async {
            let resp = session.get(&url).send().await.expect("a response");
            assert_eq!(resp.status(), 200);
            resp.bytes().await.expect("the body");
        };
        for _ in 0..WARMUP {
            get().await;
        }
        let (cpu, start) = (cpu_now(), Instant::now());
        for _ in 0..n {
            get().await;
        }
        assert_eq!(session.pool_stats().open, 1, "one keep-alive connection");
        Measured {
            cpu: cpu_now() - cpu,
            wall: start.elapsed(),
        }
    })
}

fn reqwest_client(url: &str, n: usize) -> Measured {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let get = || async {
            let resp = client.get(url).send().await.expect("a response");
            assert_eq!(resp.status(), 200);
            resp.bytes().await.expect("the body");
        };
        for _ in 0..WARMUP {
            get().await;
        }
        let (cpu, start) = (cpu_now(), Instant::now());
        for _ in 0..n {
            get().await;
        }
        Measured {
            cpu: cpu_now() - cpu,
            wall: start.elapsed(),
        }
    })
}

const AIOHTTP: &str = r#"
import asyncio, sys, time
import aiohttp
async def main(url, n, warmup):
    async with aiohttp.ClientSession() as s:
        for _ in range(warmup):
            async with s.get(url) as r:
                await r.read()
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            async with s.get(url) as r:
                assert r.status == 200
                await r.read()
        print(time.process_time() - c0, time.perf_counter() - t0)
asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"#;

fn aiohttp_client(url: &str, n: usize) -> Result<Measured, String> {
    let out = std::process::Command::new("python3")
        .args(["-c", AIOHTTP, url, &n.to_string(), &WARMUP.to_string()])
        .output()
        .map_err(|e| format!("python3 did not run: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text
        .split_whitespace()
        .map(|v| v.parse::<f64>().unwrap_or(0.0));
    let (cpu, wall) = (it.next().unwrap_or(0.0), it.next().unwrap_or(0.0));
    Ok(Measured {
        cpu: Duration::from_secs_f64(cpu),
        wall: Duration::from_secs_f64(wall),
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut n = 10_000;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--serve" => return servers::serve(&USAGE.value::<String>(&mut args, "--serve")),
            "--requests" => n = USAGE.value(&mut args, "--requests"),
            other => USAGE.help_or_unknown(other),
        }
    }
    let _ = sys::pin_to_cpu(1); // the clients; the server child pins itself to CPU 0
    let server = Server::start("conductor");
    let url = format!("http://{}/", server.addr);
    println!(
        "# HTTP client: {n} keep-alive GETs of a 13-byte body (server: conductor-http on CPU 0, client on CPU 1)\n"
    );
    println!("| client | req/s | client CPU µs/req | CPU vs reqwest |");
    println!("|---|---|---|---|");
    let rows = [
        (
            "conductor-http ClientSession",
            Ok(conductor_client(&url, n)),
        ),
        (
            "reqwest on tokio current_thread",
            Ok(reqwest_client(&url, n)),
        ),
        ("Python aiohttp ClientSession", aiohttp_client(&url, n)),
    ];
    let per_req = |m: &Measured| m.cpu.as_secs_f64() * 1e6 / n as f64;
    let reqwest = rows[1].1.as_ref().map(per_req).unwrap_or(f64::NAN);
    for (name, m) in &rows {
        match m {
            Ok(m) => println!(
                "| {name} | {:.0} | {:.1} | {:.2}x |",
                n as f64 / m.wall.as_secs_f64(),
                per_req(m),
                per_req(m) / reqwest
            ),
            Err(why) => println!("| {name} | skipped: {why} | | |"),
        }
    }
    server.stop();
}
