//! HTTP: conductor-http beside hyper on tokio current_thread, axum on tokio and Python's aiohttp,
//! one shared load client (wrk), side by side.
//!
//! ```text
//! cargo run --release -p conductor-bench --bin http [-- --quick] [--seconds S] [--runtime a,b]
//! cargo run --release -p conductor-bench --bin http -- --instructions [--seconds S]
//! ```
//!
//! Each server (`src/httpbench/servers.rs`) runs in a child process pinned to CPU 0; wrk (one
//! thread) runs pinned to CPU 1, as this process is. For each runtime, route (`/`: hello;
//! `/json`: a 1 KiB JSON document) and connection count (10, 100; keep-alive), over `--seconds`
//! (5, or 2 with `--quick`) after a one-second warm-up: requests per second and p99 as wrk sees
//! them, and the server's CPU time per request (user + system, `getrusage` in the child).
//!
//! `--instructions` counts each server's user-space instructions per request under callgrind
//! instead (10 connections; exact and repeatable where CPU time is not; under valgrind the
//! servers are ~50x slower, so rates mean nothing there). The target: conductor's CPU and
//! instructions per request at most 0.9x hyper-tokio's in the same run, and at least 5x
//! aiohttp's requests per second (the aiohttp row has no instruction count: callgrind under
//! CPython measures the interpreter).
//!
//! wrk is installed with apt when missing (as root); without it the benchmark says so and
//! exits.

#[path = "../args.rs"]
mod args;
#[path = "../httpbench/mod.rs"]
mod httpbench;

use std::time::Duration;

use httpbench::servers::{self, RUNTIMES};
use httpbench::{instructions, sys, wrk};

/// What `--help` prints (the doc comment's command lines).
const USAGE: args::Usage = args::Usage {
    source: "src/bin/http.rs",
    lines: "cargo run --release -p conductor-bench --bin http [-- --quick] [--seconds S] [--runtime a,b]\ncargo run --release -p conductor-bench --bin http -- --instructions [--seconds S]",
};

const ROUTES: &[(&str, &str)] = &[("hello", "/"), ("json 1 KiB", "/json")];
const CONNS: &[usize] = &[10, 100];

struct Options {
    seconds: f64,
    runtimes: Vec<String>,
    instructions: bool,
}

fn parse_args() -> Result<Option<String>, Options> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        seconds: 5.0,
        runtimes: RUNTIMES.iter().map(|s| s.to_string()).collect(),
        instructions: false,
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--serve" => return Ok(args.next()),
            "--quick" => o.seconds = 2.0,
            "--seconds" => o.seconds = USAGE.value(&mut args, "--seconds"),
            "--runtime" => {
                o.runtimes = USAGE
                    .value::<String>(&mut args, "--runtime")
                    .split(',')
                    .map(str::to_owned)
                    .collect()
            }
            "--instructions" => o.instructions = true,
            other => USAGE.help_or_unknown(other),
        }
    }
    Err(o)
}

fn main() {
    let o = match parse_args() {
        Ok(Some(runtime)) => return servers::serve(&runtime),
        Ok(None) => USAGE.fail("--serve needs a runtime"),
        Err(o) => o,
    };
    if wrk::missing().is_some() {
        eprintln!("wrk not found: installing it with apt-get");
        wrk::install();
    }
    if let Some(why) = wrk::missing() {
        println!("SKIPPED: {why}");
        return;
    }
    let _ = sys::pin_to_cpu(1);
    if o.instructions {
        return count_instructions(&o);
    }
    let mut o = o;
    if o.runtimes.iter().any(|r| servers::is_python(r))
        && let Some(why) = servers::python_missing()
    {
        println!("aiohttp: skipped: {why}.\n");
        o.runtimes.retain(|r| !servers::is_python(r));
    }
    println!(
        "# HTTP: req/s, p99 and server CPU per request (server on CPU 0, wrk -t1 on CPU 1, {} s per cell)\n",
        o.seconds
    );
    println!(
        "| runtime | route | conns | req/s | p99 | server CPU µs/req | CPU vs hyper-tokio | req/s vs aiohttp |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut hyper_cpu = std::collections::HashMap::new();
    let mut aiohttp_rate = std::collections::HashMap::new();
    let mut rows = Vec::new();
    for (route_name, path) in ROUTES {
        for &conns in CONNS {
            for runtime in &o.runtimes {
                let mut server = servers::start(runtime);
                let _ = wrk::run(server.addr, path, conns, 1.0); // warm-up
                let before = server.stats();
                let run = wrk::run(server.addr, path, conns, o.seconds);
                let after = server.stats();
                server.stop();
                let cpu = (after.user + after.system).saturating_sub(before.user + before.system);
                let per_req = cpu.as_secs_f64() * 1e6 / run.requests.max(1) as f64;
                if runtime == "hyper-tokio" {
                    hyper_cpu.insert((route_name.to_string(), conns), per_req);
                }
                if runtime == "aiohttp" {
                    aiohttp_rate.insert((route_name.to_string(), conns), run.per_sec);
                }
                rows.push((runtime.clone(), route_name.to_string(), conns, run, per_req));
            }
        }
    }
    for (runtime, route, conns, run, per_req) in rows {
        let key = (route.clone(), conns);
        let ratio = hyper_cpu
            .get(&key)
            .map_or("—".to_owned(), |h| format!("{:.2}x", per_req / h));
        let vs_aiohttp = aiohttp_rate
            .get(&key)
            .map_or("—".to_owned(), |a| format!("{:.1}x", run.per_sec / a));
        println!(
            "| {runtime} | {route} | {conns} | {:.0} | {:.2} ms | {per_req:.2} | {ratio} | {vs_aiohttp} |",
            run.per_sec,
            run.p99.as_secs_f64() * 1e3,
        );
    }
}

fn count_instructions(o: &Options) {
    if !instructions::available() {
        println!(
            "SKIPPED: --instructions needs valgrind and callgrind_control (apt-get install valgrind)"
        );
        return;
    }
    let seconds = o.seconds.max(3.0);
    println!(
        "# HTTP: user-space instructions per request under callgrind (10 connections, {seconds} s)\n"
    );
    println!("| runtime | route | instructions/req | vs hyper-tokio |");
    println!("|---|---|---|---|");
    let mut hyper = std::collections::HashMap::new();
    let mut rows = Vec::new();
    for (route_name, path) in ROUTES {
        for runtime in o.runtimes.iter().filter(|r| !servers::is_python(r)) {
            let server = httpbench::control::Server::start_counted(runtime);
            let pid = server.child.id();
            let _ = wrk::run(server.addr, path, 10, 1.0); // warm-up (JIT of valgrind, caches)
            instructions::start(pid);
            let run = wrk::run(server.addr, path, 10, seconds);
            let counted = instructions::stop(pid).unwrap_or(0);
            server.stop();
            let per_req = counted as f64 / run.requests.max(1) as f64;
            if runtime == "hyper-tokio" {
                hyper.insert(route_name.to_string(), per_req);
            }
            rows.push((runtime.clone(), route_name.to_string(), per_req));
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    for (runtime, route, per_req) in rows {
        let ratio = hyper
            .get(&route)
            .map_or("—".to_owned(), |h| format!("{:.2}x", per_req / h));
        println!("| {runtime} | {route} | {per_req:.0} | {ratio} |");
    }
}
