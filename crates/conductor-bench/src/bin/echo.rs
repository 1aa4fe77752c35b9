//! TCP echo: one server per runtime, one shared load client, side by side.
//!
//! ```text
//! cargo run --release -p conductor-bench --bin echo [-- --quick] [--seconds S] [--runtime a,b] [--no-strace]
//! ```
//!
//! Each server runs in a child process (this binary with `--serve RUNTIME`) pinned to CPU 0;
//! the load client (raw epoll, one thread) runs here, pinned to CPU 1. For each runtime and each
//! cell (10 and 100 connections, 1 KiB and 16 KiB messages; ping-pong: each connection sends a
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
//! The output is Markdown: the figures, then their ratios to tokio.

#[path = "../echo/mod.rs"]
mod echo;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use echo::client::{idle_connections, Client};
use echo::servers::{self, ACCEPTED, RUNTIMES};
use echo::sys;

const CELLS: &[(usize, usize)] = &[(10, 1024), (10, 16 * 1024), (100, 1024), (100, 16 * 1024)];
const IDLE: usize = 10_000;

struct Options {
    seconds: f64,
    warmup: f64,
    strace_seconds: f64,
    runtimes: Vec<String>,
    strace: bool,
}

fn parse_args() -> Result<Option<String>, Options> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        seconds: 5.0,
        warmup: 1.0,
        strace_seconds: 1.0,
        runtimes: RUNTIMES.iter().map(|s| s.to_string()).collect(),
        strace: true,
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--serve" => return Ok(args.next()),
            "--quick" => {
                o.seconds = 1.0;
                o.warmup = 0.3;
                o.strace_seconds = 0.5;
            }
            "--seconds" => {
                o.seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--seconds S")
            }
            "--runtime" => {
                o.runtimes = args
                    .next()
                    .expect("--runtime a,b")
                    .split(',')
                    .map(str::to_owned)
                    .collect()
            }
            "--no-strace" => o.strace = false,
            other => panic!("unknown argument {other:?} (see the doc comment of src/bin/echo.rs)"),
        }
    }
    Err(o)
}

fn main() {
    match parse_args() {
        Ok(runtime) => serve(&runtime.expect("--serve RUNTIME")),
        Err(options) => bench(options),
    }
}

/// The child: the server on one thread, a control channel on stdin/stdout.
fn serve(runtime: &str) {
    sys::pin_to_cpu(0).expect("pin the server to CPU 0");
    sys::raise_nofile();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    println!("{}", listener.local_addr().unwrap());
    let runtime = runtime.to_owned();
    std::thread::Builder::new()
        .name("server".into())
        .spawn(move || servers::serve(&runtime, listener))
        .unwrap();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        match line.as_deref() {
            Ok("stats") => {
                let (user, system) = sys::cpu_times();
                let accepted = ACCEPTED.load(std::sync::atomic::Ordering::Relaxed);
                println!("{} {} {accepted}", user.as_nanos(), system.as_nanos());
            }
            _ => break,
        }
    }
    std::process::exit(0);
}

struct Server {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    addr: SocketAddr,
}

struct Stats {
    user: Duration,
    system: Duration,
    accepted: usize,
}

impl Server {
    fn start(runtime: &str) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--serve", runtime])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let mut output = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        let addr = line.trim().parse().expect("the server's address");
        Server {
            child,
            input,
            output,
            addr,
        }
    }

    fn stats(&mut self) -> Stats {
        writeln!(self.input, "stats").unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        let f: Vec<u128> = line
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        Stats {
            user: Duration::from_nanos(f[0] as u64),
            system: Duration::from_nanos(f[1] as u64),
            accepted: f[2] as usize,
        }
    }

    fn stop(mut self) {
        let _ = writeln!(self.input, "quit");
        let _ = self.child.wait();
    }
}

#[derive(Default, Clone)]
struct Cell {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    user_us: f64,
    sys_us: f64,
    syscalls: Option<f64>,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn run_cell(server: &mut Server, conns: usize, size: usize, o: &Options, strace: bool) -> Cell {
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
    };
    if strace {
        if let Ok(tracer) = sys::Strace::attach(server.child.id()) {
            let traced = client.run(size, Duration::from_secs_f64(o.strace_seconds));
            if let (Some(calls), Ok(traced)) = (tracer.finish(), traced) {
                cell.syscalls = Some(calls as f64 / traced.requests.max(1) as f64);
            }
        }
    }
    cell
}

/// Bytes of resident memory per idle connection, on a fresh server.
fn idle_memory(runtime: &str) -> f64 {
    let mut server = Server::start(runtime);
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id();
    let before = sys::rss_bytes(pid);
    let conns = idle_connections(server.addr, IDLE).expect("open the idle connections");
    for _ in 0..3000 {
        if server.stats().accepted >= IDLE {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300)); // every handler parked
    let after = sys::rss_bytes(pid);
    drop(conns);
    server.stop();
    (after as f64 - before as f64) / IDLE as f64
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
    let mut results: Vec<(String, Vec<Cell>, f64)> = Vec::new();
    for runtime in &o.runtimes {
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
        let memory = if nofile as usize > IDLE + 100 {
            idle_memory(runtime)
        } else {
            f64::NAN
        };
        results.push((runtime.clone(), cells, memory));
    }
    print_tables(&results);
}

fn print_tables(results: &[(String, Vec<Cell>, f64)]) {
    let tokio = results.iter().find(|r| r.0 == "tokio");
    println!("\n| cell | runtime | req/s | p50 us | p99 us | user us/req | sys us/req | total us/req | syscalls/req |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (i, &(conns, size)) in CELLS.iter().enumerate() {
        for (name, cells, _) in results {
            let c = &cells[i];
            println!(
                "| {conns} conns, {} KiB | {name} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {} |",
                size / 1024,
                c.rps,
                c.p50_us,
                c.p99_us,
                c.user_us,
                c.sys_us,
                c.user_us + c.sys_us,
                c.syscalls.map_or("—".into(), |s| format!("{s:.2}")),
            );
        }
    }
    let Some((_, t, tmem)) = tokio else {
        return;
    };
    println!("\nRatios to tokio (runtime / tokio; for req/s higher is better, elsewhere lower):\n");
    println!("| cell | runtime | req/s | p99 | user CPU | total CPU | syscalls |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (i, &(conns, size)) in CELLS.iter().enumerate() {
        for (name, cells, _) in results {
            let (c, t) = (&cells[i], &t[i]);
            let syscalls = match (c.syscalls, t.syscalls) {
                (Some(a), Some(b)) => format!("{:.2}x", a / b),
                _ => "—".into(),
            };
            println!(
                "| {conns} conns, {} KiB | {name} | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {syscalls} |",
                size / 1024,
                c.rps / t.rps,
                c.p99_us / t.p99_us,
                c.user_us / t.user_us,
                (c.user_us + c.sys_us) / (t.user_us + t.sys_us),
            );
        }
    }
    println!("\n| idle connections ({IDLE}) | resident bytes per connection | ratio to tokio |");
    println!("|---|---:|---:|");
    for (name, _, mem) in results {
        println!("| {name} | {mem:.0} | {:.2}x |", mem / tmem);
    }
}
