//! TCP echo: one server per runtime, one shared load client, side by side.
//!
//! ```text
//! cargo run --release -p conductor-bench --bin echo [-- --quick] [--seconds S] [--runtime a,b|all] [--no-strace]
//! cargo run --release -p conductor-bench --bin echo -- --instructions [--seconds S] [--runtime a,b]
//! ```
//!
//! The rows (`--runtime`, comma-separated; the default is all but `asyncio`; `all` is every
//! row):
//! - `c-floor`: a bare epoll server against libc, no runtime: one `recv` and one `send` per
//!   message, the least user-space CPU a server can spend (the floor the issue measures
//!   against);
//! - `conductor` (its `TcpStream`), `conductor-streams` (its asyncio streams), `tokio`
//!   (current_thread), `smol` (`LocalExecutor`), `monoio` (legacy epoll driver);
//! - `conductor-per-core`: `conductor::net::serve_per_core` with 2 loops, both on CPU 0, with
//!   the share of the connections each loop accepted;
//! - `uvloop`, `asyncio`: `src/echo/echo_server.py` (asyncio streams) in `python3`, on uvloop or
//!   on the default loop; a row whose Python or uvloop is missing is skipped, with one line
//!   saying how to install it (`pip install uvloop`).
//!
//! Each server runs in a child process (this binary with `--serve RUNTIME`, or `python3`)
//! pinned to CPU 0; the load client (raw epoll, one thread) runs here, pinned to CPU 1. The two
//! talk over the child's stdin/stdout (`src/echo/control.rs`). For each runtime and each cell
//! (10 and 100 connections, 1 KiB and 16 KiB messages; ping-pong: each connection sends a
//! message and waits for its whole echo) it measures, over `--seconds` (5, or 1 with `--quick`)
//! after a warm-up:
//! - requests per second, and the round trip's p50 and p99 as the client sees it;
//! - the server process's CPU time per request, user and system (`getrusage` in the child,
//!   read before and after through its control channel);
//! - system calls per request, from `strace -c -f` attached to the server for a short extra run
//!   (strace slows the server; the count per request is what it gives);
//! - resident memory per idle connection: a fresh server's `VmRSS` before and after 10,000
//!   connections that send nothing.
//!
//! The output is Markdown: the figures, their ratios to tokio, the issue's targets (req/s
//! against uvloop, CPU per request against the C floor, the per-core row against one loop),
//! and the idle memory.
//!
//! `--instructions` instead counts each Rust server's user-space instructions per request under
//! callgrind (`src/echo/instructions.rs`): exact and repeatable where CPU time is not.

#[path = "../args.rs"]
mod args;
#[path = "../echo/mod.rs"]
mod echo;

use std::time::Duration;

use echo::client::{Client, idle_connections};
use echo::control::{self, Server, Stats};
use echo::report::{self, Cell, Row};
use echo::servers::{self, ACCEPTED, RUNTIMES};
use echo::{instructions, python, sys};

/// What `--help` prints (the doc comment's command lines).
const USAGE: args::Usage = args::Usage {
    source: "src/bin/echo.rs",
    lines: "cargo run --release -p conductor-bench --bin echo [-- --quick] [--seconds S] [--runtime a,b|all] [--no-strace]\ncargo run --release -p conductor-bench --bin echo -- --instructions [--seconds S] [--runtime a,b]",
};

const CELLS: &[(usize, usize)] = &[(10, 1024), (10, 16 * 1024), (100, 1024), (100, 16 * 1024)];
const IDLE: usize = 10_000;

struct Options {
    seconds: f64,
    warmup: f64,
    strace_seconds: f64,
    runtimes: Vec<String>,
    strace: bool,
    instructions: bool,
}

fn parse_args() -> Result<Option<String>, Options> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        seconds: 5.0,
        warmup: 1.0,
        strace_seconds: 1.0,
        runtimes: servers::default_runtimes().map(str::to_owned).collect(),
        strace: true,
        instructions: false,
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--serve" => return Ok(args.next()),
            "--quick" => {
                o.seconds = 1.0;
                o.warmup = 0.3;
                o.strace_seconds = 0.5;
            }
            "--seconds" => o.seconds = USAGE.value(&mut args, "--seconds"),
            "--runtime" => {
                let list: String = USAGE.value(&mut args, "--runtime");
                let list = if list == "all" {
                    RUNTIMES.join(",")
                } else {
                    list
                };
                o.runtimes = list.split(',').map(str::to_owned).collect();
                if let Some(bad) = o.runtimes.iter().find(|r| !RUNTIMES.contains(&r.as_str())) {
                    USAGE.fail(&format!(
                        "unknown runtime {bad:?}; expected some of {RUNTIMES:?}, or all"
                    ));
                }
            }
            "--no-strace" => o.strace = false,
            "--instructions" => o.instructions = true,
            other => USAGE.help_or_unknown(other),
        }
    }
    Err(o)
}

fn main() {
    match parse_args() {
        Ok(runtime) => serve(&runtime.unwrap_or_else(|| USAGE.fail("--serve needs a runtime"))),
        Err(options) if options.instructions => count_instructions(options),
        Err(options) => bench(options),
    }
}

/// The child: the server on its own thread(s), the control channel on this one.
fn serve(runtime: &str) {
    sys::pin_to_cpu(0).expect("pin the server to CPU 0");
    sys::raise_nofile();
    let server = servers::start(runtime);
    println!("{}", server.addr);
    control::answer(|| {
        let (user, system) = sys::cpu_times();
        Stats {
            user,
            system,
            accepted: ACCEPTED.load(std::sync::atomic::Ordering::Relaxed) as u64,
            loops: server.loop_counts(),
        }
    });
    std::process::exit(0);
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Connections each loop accepted between two readings.
fn loop_delta(before: &Stats, after: &Stats) -> Vec<u64> {
    let zip = after.loops.iter().zip(before.loops.iter());
    zip.map(|(a, b)| a - b).collect()
}

fn run_cell(server: &mut Server, conns: usize, size: usize, o: &Options, strace: bool) -> Cell {
    let fresh = server.stats();
    let mut client = Client::connect(server.addr, conns).expect("connect to the server");
    client
        .run(size, Duration::from_secs_f64(o.warmup))
        .expect("warm-up");
    let before = server.stats();
    let mut load = client
        .run(size, Duration::from_secs_f64(o.seconds))
        .expect("timed run");
    let after = server.stats();
    let requests = load.requests.max(1) as f64;
    load.latencies.sort_unstable();
    let mut cell = Cell {
        rps: load.requests as f64 / load.elapsed.as_secs_f64(),
        p50_us: percentile(&load.latencies, 0.50),
        p99_us: percentile(&load.latencies, 0.99),
        user_us: (after.user - before.user).as_secs_f64() * 1e6 / requests,
        sys_us: (after.system - before.system).as_secs_f64() * 1e6 / requests,
        syscalls: None,
        loops: loop_delta(&fresh, &after),
    };
    if strace && let Ok(tracer) = sys::Strace::attach(server.child.id()) {
        let traced = client.run(size, Duration::from_secs_f64(o.strace_seconds));
        if let (Some(calls), Ok(traced)) = (tracer.finish(), traced) {
            cell.syscalls = Some(calls as f64 / traced.requests.max(1) as f64);
        }
    }
    cell
}

/// Bytes of resident memory per idle connection on a fresh server, and how many of those
/// connections each of its loops accepted.
fn idle_memory(runtime: &str) -> (f64, Vec<u64>) {
    let mut server = Server::start(runtime);
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id();
    let before = sys::rss_bytes(pid);
    let conns = idle_connections(server.addr, IDLE).expect("open the idle connections");
    let mut stats = server.stats();
    for _ in 0..3000 {
        if stats.accepted >= IDLE as u64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
        stats = server.stats();
    }
    std::thread::sleep(Duration::from_millis(300)); // every handler parked
    let after = sys::rss_bytes(pid);
    drop(conns);
    server.stop();
    ((after as f64 - before as f64) / IDLE as f64, stats.loops)
}

fn bench(o: Options) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Err(e) = sys::pin_to_cpu(1) {
        eprintln!("could not pin the client to CPU 1 ({e}); running unpinned");
    }
    let nofile = sys::raise_nofile();
    let strace = o.strace && sys::have_strace();
    println!(
        "# TCP echo, {} s per cell after {} s of warm-up; server on CPU 0, client on CPU 1 ({cores} CPUs); strace: {}",
        o.seconds,
        o.warmup,
        if strace { "yes" } else { "no" }
    );
    let mut rows: Vec<Row> = Vec::new();
    for runtime in &o.runtimes {
        if python::is_python(runtime)
            && let Some(why) = python::missing(runtime)
        {
            println!("\n{runtime}: skipped: {why}.");
            continue;
        }
        eprintln!("== {runtime}");
        let mut server = Server::start(runtime);
        let cells = CELLS
            .iter()
            .map(|&(conns, size)| {
                let c = run_cell(&mut server, conns, size, &o, strace);
                eprintln!(
                    "   {conns} conns x {size} B: {:.0} req/s, {:.2} us/req",
                    c.rps,
                    c.user_us + c.sys_us
                );
                c
            })
            .collect();
        server.stop();
        let (memory, idle_loops) = if nofile as usize > IDLE + 100 {
            idle_memory(runtime)
        } else {
            (f64::NAN, Vec::new())
        };
        rows.push(Row {
            name: runtime.clone(),
            cells,
            memory,
            idle_loops,
        });
    }
    report::print(&rows, CELLS, IDLE);
}

/// `--instructions`: user-space instructions per request of each Rust server, by callgrind.
fn count_instructions(o: Options) {
    if !instructions::available() {
        eprintln!("--instructions needs valgrind (apt-get install valgrind)");
        std::process::exit(2);
    }
    let _ = sys::pin_to_cpu(1);
    sys::raise_nofile();
    println!(
        "# TCP echo under callgrind: user-space instructions per request, {} s per cell",
        o.seconds
    );
    let mut rows = Vec::new();
    for runtime in o.runtimes.iter().filter(|r| !python::is_python(r)) {
        eprintln!("== {runtime}");
        let server = Server::start_counted(runtime);
        let pid = server.child.id();
        let counts: Vec<Option<f64>> = CELLS
            .iter()
            .map(|&(conns, size)| {
                let mut client = Client::connect(server.addr, conns).expect("connect");
                client.run(size, Duration::from_secs_f64(o.warmup)).ok()?;
                instructions::start(pid);
                let load = client.run(size, Duration::from_secs_f64(o.seconds)).ok()?;
                let n = instructions::stop(pid)?;
                Some(n as f64 / load.requests.max(1) as f64)
            })
            .collect();
        server.stop();
        rows.push((runtime.clone(), counts));
    }
    report::print_instructions(&rows, CELLS);
}
