//! conductor-bench: the same workloads on conductor, tokio (current thread), smol
//! (`LocalExecutor`) and monoio (legacy driver), side by side in one process.
//!
//! ```text
//! taskset -c 1 cargo run --release -p conductor-bench [-- --quick] [--only W[,W]] [--runtime R[,R]] [--runs N]
//! cargo run --release -p conductor-bench -- --instructions [--quick] [--only W[,W]] [--runtime R[,R]]
//! ```
//! See README.md for what each workload measures.

mod harness;
mod instructions;
mod workloads;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use workloads::Contender;

/// The workloads, in table order.
const WORKLOADS: [&str; 9] = [
    "spawn",
    "chained_spawn",
    "yield",
    "ping_pong",
    "timeout",
    "timeout_burst",
    "sleep_lateness",
    "parked_memory",
    "parked_rss",
];

/// Workload sizes and repetitions.
struct Sizes {
    runs: usize,
    spawn: usize,
    chained: usize,
    yield_tasks: usize,
    yields: usize,
    ping_pong: usize,
    timeout: usize,
    sleepers: usize,
    parked: usize,
}

impl Sizes {
    fn full() -> Sizes {
        Sizes {
            runs: 5,
            spawn: 1_000_000,
            chained: 1_000_000,
            yield_tasks: 1_000,
            yields: 1_000,
            ping_pong: 1_000_000,
            timeout: 1_000_000,
            sleepers: 100_000,
            parked: 1_000_000,
        }
    }

    fn quick() -> Sizes {
        Sizes {
            runs: 2,
            spawn: 100_000,
            chained: 100_000,
            yield_tasks: 1_000,
            yields: 100,
            ping_pong: 100_000,
            timeout: 100_000,
            sleepers: 10_000,
            parked: 100_000,
        }
    }
}

/// One row of the table: a figure per runtime (None where it does not apply).
struct Row {
    label: &'static str,
    unit: &'static str,
    /// Digits after the point.
    precision: usize,
    cells: Vec<Option<f64>>,
    /// The row whose tokio figure this row's ratios use, when tokio has none of its own (a
    /// variant only some runtimes have, compared with tokio's plain form).
    ratio_to: Option<&'static str>,
}

/// The realistic `timeout` shape: a scheduler turn every this many timeouts, as a program
/// that does other work between them has. `timeout_burst` arms them all in one poll.
const TIMEOUTS_PER_TURN: usize = 1_000;

fn per_op(d: Duration, ops: usize) -> f64 {
    d.as_nanos() as f64 / ops as f64
}

/// One run of `workload` on `c`: one figure per row of that workload.
fn run_once(c: &dyn Contender, workload: &str, s: &Sizes) -> Vec<Option<f64>> {
    match workload {
        "spawn" => vec![
            Some(per_op(c.spawn(s.spawn), s.spawn)),
            c.spawn_eager(s.spawn).map(|d| per_op(d, s.spawn)),
        ],
        "chained_spawn" => vec![Some(per_op(c.chained_spawn(s.chained), s.chained))],
        "yield" => {
            let d = c.yield_now(s.yield_tasks, s.yields);
            vec![d.map(|d| per_op(d, s.yield_tasks * s.yields))]
        }
        "ping_pong" => vec![
            Some(per_op(c.ping_pong(s.ping_pong), s.ping_pong)),
            c.ping_pong_native(s.ping_pong)
                .map(|d| per_op(d, s.ping_pong)),
        ],
        "timeout" => vec![Some(per_op(
            c.timeout(s.timeout, TIMEOUTS_PER_TURN),
            s.timeout,
        ))],
        "timeout_burst" => vec![Some(per_op(c.timeout(s.timeout, usize::MAX), s.timeout))],
        "sleep_lateness" => {
            let sleepers = c.sleep_lateness(s.sleepers);
            assert_eq!(sleepers.len(), s.sleepers);
            let mut late: Vec<Duration> = sleepers.iter().map(|t| t.late).collect();
            let (mean, p99) = harness::lateness_ms(&mut late);
            let armed = sleepers.iter().map(|t| t.armed).max().unwrap_or_default();
            vec![Some(mean), Some(p99), Some(armed.as_secs_f64() * 1e3)]
        }
        "parked_memory" => {
            let (bytes, kept) = harness::counting(|| c.parked_memory(s.parked));
            // What survives dropping the runtime: process-wide state built on first use, or a
            // leak. More than a byte per task is worth a look.
            if kept > s.parked as isize {
                eprintln!(
                    "  note: {} kept {kept} bytes after its runtime was dropped",
                    c.name()
                );
            }
            vec![Some(bytes as f64 / s.parked as f64)]
        }
        "parked_rss" => vec![Some(parked_rss_in_child(c.name(), s.parked))],
        _ => unreachable!("unknown workload {workload}"),
    }
}

/// `parked_rss`: the `parked_memory` workload in a fresh child process (this binary with
/// `--parked-rss-child`), whose peak resident memory less its resident memory before the
/// runtime was built, per task. A fresh process, because memory an earlier cell freed stays
/// resident in the allocator and would hide the growth. It counts what the kernel charges: the
/// task, its future, the scheduler's structures, allocator overhead and the caller's handle
/// (one pointer-sized handle per task for every runtime here).
fn parked_rss_in_child(runtime: &str, n: usize) -> f64 {
    let exe = std::env::current_exe().expect("current_exe");
    let out = std::process::Command::new(exe)
        .args(["--parked-rss-child", runtime, &n.to_string()])
        .output()
        .expect("spawn the parked_rss child");
    assert!(
        out.status.success(),
        "parked_rss child for {runtime} failed"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse().expect("parked_rss child's figure")
}

/// The child of [`parked_rss_in_child`]: prints peak RSS growth per parked task.
fn parked_rss_child(c: &dyn Contender, n: usize) {
    let before = harness::proc_status_bytes("VmRSS");
    c.parked_memory(n);
    let peak = harness::proc_status_bytes("VmHWM");
    println!("{:.1}", peak.saturating_sub(before) as f64 / n as f64);
}

/// The rows a workload produces, empty of figures.
fn rows_of(workload: &str, n: usize) -> Vec<Row> {
    let row = |label, unit, precision| Row {
        label,
        unit,
        precision,
        cells: vec![None; n],
        ratio_to: None,
    };
    match workload {
        "spawn" => vec![
            row("spawn", "ns/task", 1),
            Row {
                ratio_to: Some("spawn"),
                ..row("spawn (eager)", "ns/task", 1)
            },
        ],
        "chained_spawn" => vec![row("chained_spawn", "ns/spawn", 1)],
        "yield" => vec![row("yield", "ns/yield", 1)],
        "ping_pong" => vec![
            row("ping_pong", "ns/round trip", 1),
            row("ping_pong (native)", "ns/round trip", 1),
        ],
        "timeout" => vec![row("timeout", "ns/timeout", 1)],
        "timeout_burst" => vec![row("timeout (burst)", "ns/timeout", 1)],
        "sleep_lateness" => vec![
            row("sleep_lateness (mean)", "ms late", 3),
            row("sleep_lateness (p99)", "ms late", 3),
            row("sleep_lateness (all armed)", "ms after start", 3),
        ],
        "parked_memory" => vec![row("parked_memory", "bytes/task", 0)],
        "parked_rss" => vec![row("parked_memory (peak RSS)", "bytes/task", 0)],
        _ => unreachable!(),
    }
}

/// Runs every selected cell `runs` times (runtimes interleaved within each repetition, each run
/// on a fresh runtime) and keeps each cell's median.
fn measure(contenders: &[Box<dyn Contender>], workloads: &[&str], s: &Sizes) -> Vec<Row> {
    let mut table = Vec::new();
    for &w in workloads {
        let mut rows = rows_of(w, contenders.len());
        // samples[row][contender] = one figure per run
        let mut samples = vec![vec![Vec::new(); contenders.len()]; rows.len()];
        let began = Instant::now();
        for _ in 0..s.runs {
            for (ci, c) in contenders.iter().enumerate() {
                for (ri, v) in run_once(c.as_ref(), w, s).into_iter().enumerate() {
                    if let Some(v) = v {
                        samples[ri][ci].push(v);
                    }
                }
            }
        }
        for (row, per_contender) in rows.iter_mut().zip(&mut samples) {
            for (cell, runs) in row.cells.iter_mut().zip(per_contender) {
                if !runs.is_empty() {
                    *cell = Some(harness::median(runs));
                }
            }
        }
        eprintln!("  {w}: {:.1} s", began.elapsed().as_secs_f64());
        table.extend(rows);
    }
    table
}

fn print_tables(contenders: &[Box<dyn Contender>], table: &[Row]) {
    let names: Vec<&str> = contenders.iter().map(|c| c.name()).collect();
    println!("| workload | unit | {} |", names.join(" | "));
    println!("|---|---|{}", "---:|".repeat(names.len()));
    for row in table {
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|c| c.map_or("—".to_string(), |v| format!("{v:.*}", row.precision)))
            .collect();
        println!("| {} | {} | {} |", row.label, row.unit, cells.join(" | "));
    }

    let Some(tokio) = names.iter().position(|&n| n == "tokio") else {
        return;
    };
    println!();
    println!("Ratio to tokio (runtime / tokio; lower is better):");
    println!();
    println!("| workload | {} |", names.join(" | "));
    println!("|---|{}", "---:|".repeat(names.len()));
    for row in table {
        let base = row.cells[tokio].or_else(|| {
            let to = row.ratio_to?;
            table.iter().find(|r| r.label == to)?.cells[tokio]
        });
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|c| match (c, base) {
                (Some(v), Some(b)) if b > 0.0 => format!("{:.2}", v / b),
                _ => "—".to_string(),
            })
            .collect();
        println!("| {} | {} |", row.label, cells.join(" | "));
    }
}

/// Logical processors online in the machine (not only those this process may use).
fn machine_cores() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let n = info.lines().filter(|l| l.starts_with("processor")).count();
    (n > 0).then_some(n)
}

const USAGE: &str =
    "usage: conductor-bench [--quick] [--instructions] [--only W[,W..]] [--runtime R[,R..]] [--runs N]
  workloads: spawn chained_spawn yield ping_pong timeout timeout_burst sleep_lateness parked_memory parked_rss
  runtimes:  conductor tokio smol monoio
  pinned:    taskset -c 1 cargo run --release -p conductor-bench
  --instructions: instructions per operation under callgrind (task and timer workloads)";

/// Splits a comma-separated option, checking each name against `known`.
fn pick(arg: Option<String>, known: &[&'static str]) -> Result<Vec<&'static str>, String> {
    let arg = arg.ok_or("missing value")?;
    arg.split(',')
        .map(|name| {
            known
                .iter()
                .find(|&&k| k == name)
                .copied()
                .ok_or(format!("unknown name {name:?}"))
        })
        .collect()
}

fn main() -> ExitCode {
    let all: Vec<Box<dyn Contender>> = vec![
        Box::new(workloads::conductor::Conductor),
        Box::new(workloads::tokio::Tokio),
        Box::new(workloads::smol::Smol),
        Box::new(workloads::monoio::Monoio),
    ];
    let runtime_names: Vec<&'static str> = all.iter().map(|c| c.name()).collect();
    let argv: Vec<String> = std::env::args().collect();
    if let [_, flag, name, n] = &argv[..]
        && flag == "--parked-rss-child"
    {
        let c = all.iter().find(|c| c.name() == name).expect("runtime name");
        parked_rss_child(c.as_ref(), n.parse().expect("task count"));
        return ExitCode::SUCCESS;
    }

    let mut quick = false;
    let mut count_instructions = false;
    let mut workloads: Vec<&str> = WORKLOADS.to_vec();
    let mut runtimes = runtime_names.clone();
    let mut runs = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let parsed = match arg.as_str() {
            "--quick" => {
                quick = true;
                Ok(())
            }
            "--instructions" => {
                count_instructions = true;
                Ok(())
            }
            "--only" => pick(args.next(), &WORKLOADS).map(|w| workloads = w),
            "--runtime" => pick(args.next(), &runtime_names).map(|r| runtimes = r),
            "--runs" => args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|&n| n > 0)
                .map(|n| runs = Some(n))
                .ok_or("--runs needs a positive number".to_string()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => Err(format!("unknown argument {arg:?}")),
        };
        if let Err(e) = parsed {
            eprintln!("{arg}: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let mut sizes = if quick { Sizes::quick() } else { Sizes::full() };
    if let Some(n) = runs {
        sizes.runs = n;
    }
    if count_instructions {
        if !instructions::available() {
            eprintln!("--instructions needs valgrind (apt-get install valgrind)");
            return ExitCode::FAILURE;
        }
        instructions::run(&workloads, &runtimes, &sizes, quick);
        return ExitCode::SUCCESS;
    }
    let contenders: Vec<Box<dyn Contender>> = all
        .into_iter()
        .filter(|c| runtimes.contains(&c.name()))
        .collect();

    let usable = std::thread::available_parallelism().map_or(1, |n| n.get());
    let machine = machine_cores().map_or("?".to_string(), |n| n.to_string());
    println!("# conductor-bench");
    println!();
    println!(
        "cores: {usable} usable by this process, {machine} in the machine; {} runs per cell \
         (median of each), {} sizes{}",
        sizes.runs,
        if quick { "--quick" } else { "full" },
        if cfg!(debug_assertions) {
            "; DEBUG BUILD: use --release"
        } else {
            ""
        },
    );
    println!();
    eprintln!("running (timings per workload on stderr)...");
    let table = measure(&contenders, &workloads, &sizes);
    print_tables(&contenders, &table);
    println!();
    println!("Notes:");
    println!(
        "- —: not applicable. ping_pong (native) is each runtime's own bounded channel: conductor::sync::mpsc, tokio::sync::mpsc. monoio has \
         no yield_now, and polls a task that wakes itself again at once (front of its queue): \
         it cannot yield to other tasks."
    );
    println!(
        "- sleep_lateness: {} sleepers, task i's deadline 50 ms + (i % 1000) µs after the \
         start; \"all armed\" is when the last one had been spawned, polled and was about to \
         arm its timer. Past 50 ms, lateness includes that backlog.",
        sizes.sleepers
    );
    println!(
        "- parked_memory: bytes allocated per parked task (task, future, scheduler queues; not \
         the caller's handle). parked_memory (peak RSS): the same in a fresh child process, its \
         peak resident memory growth per task (allocator overhead and the handle included)."
    );
    println!(
        "- timeout: each timeout polled once and dropped, a scheduler turn every \
         {TIMEOUTS_PER_TURN} (the realistic shape); timeout (burst): all of them in one poll, \
         which makes tokio's timer write its eventfd on every registration (an artefact, kept \
         to show it)."
    );
    println!(
        "- spawn (eager): conductor::spawn_eager (asyncio's eager task factory); its ratio is to \
         tokio's plain spawn (tokio has no eager start)."
    );
    println!(
        "- Figures are noisy: about 10% run to run on spawn and timers, 30% on yield. Run \
         pinned to one core: `taskset -c 1 cargo run --release -p conductor-bench`."
    );
    ExitCode::SUCCESS
}
