//! conductor::sync against tokio::sync, in one process.
//!
//! ```text
//! taskset -c 1 cargo run --release -p conductor-bench --bin sync [-- --quick] [--runs N] [--only TEXT]
//! ```
//!
//! Every workload runs twice per primitive family: on the same executor (a conductor loop, so
//! that only the primitives differ; tokio's primitives work on any executor, their cooperative
//! budget is simply off there), and each on its home runtime (conductor's loop, tokio's
//! current-thread runtime, each with its own budget). Each cell is the median of `runs` runs,
//! the two families interleaved within each repetition.
//!
//! Workloads:
//! - `lock`: one task locks and unlocks a free mutex `n` times (the uncontended path);
//! - `semaphore`: 1,000 tasks contend for 10 permits, each acquiring, yielding while holding,
//!   and releasing, `rounds` times;
//! - `queue_1p`, `queue_4p`: 1,000,000 items through a queue of 1,024 slots, from 1 or 4
//!   producer tasks to one consumer (conductor's `Queue` and `mpsc::channel`; tokio's
//!   `mpsc::channel`, as tokio has no multi-consumer queue);
//! - `oneshot`: ping-pong, two tasks exchanging replies over fresh oneshot channels (each message
//!   carries the sender for the answer).

#[path = "../args.rs"]
mod args;

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Boxed = Pin<Box<dyn Future<Output = ()>>>;

/// Where a workload runs: block on the main future, spawn tasks, yield.
trait Exec {
    fn block_on<F: Future<Output = Duration> + 'static>(f: F) -> Duration;
    fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) -> Boxed;
    fn yield_now() -> impl Future<Output = ()> + Send;
}

/// A conductor loop.
struct OnConductor;

impl Exec for OnConductor {
    fn block_on<F: Future<Output = Duration> + 'static>(f: F) -> Duration {
        conductor::Runtime::new().expect("conductor").block_on(f)
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) -> Boxed {
        let t = conductor::spawn(f);
        Box::pin(async move { t.await.expect("task failed") })
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        conductor::yield_now()
    }
}

/// tokio's current-thread runtime.
struct OnTokio;

impl Exec for OnTokio {
    fn block_on<F: Future<Output = Duration> + 'static>(f: F) -> Duration {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio");
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, f)
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) -> Boxed {
        let t = tokio::spawn(f);
        Box::pin(async move { t.await.expect("task failed") })
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

// ---- lock ----------------------------------------------------------------------------------

async fn lock_conductor(n: usize) -> Duration {
    let m = conductor::sync::Mutex::new(0u64);
    let start = Instant::now();
    for _ in 0..n {
        *m.lock().await += 1;
    }
    black_box(m.into_inner());
    start.elapsed()
}

async fn lock_tokio(n: usize) -> Duration {
    let m = tokio::sync::Mutex::new(0u64);
    let start = Instant::now();
    for _ in 0..n {
        *m.lock().await += 1;
    }
    black_box(m.into_inner());
    start.elapsed()
}

// ---- semaphore -----------------------------------------------------------------------------

async fn semaphore_conductor<E: Exec>(tasks: usize, rounds: usize) -> Duration {
    let sem = Arc::new(conductor::sync::Semaphore::new(10));
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let sem = sem.clone();
            E::spawn(async move {
                for _ in 0..rounds {
                    let _permit = sem.acquire().await;
                    E::yield_now().await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await;
    }
    start.elapsed()
}

async fn semaphore_tokio<E: Exec>(tasks: usize, rounds: usize) -> Duration {
    let sem = Arc::new(tokio::sync::Semaphore::new(10));
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let sem = sem.clone();
            E::spawn(async move {
                for _ in 0..rounds {
                    let _permit = sem.acquire().await.expect("closed");
                    E::yield_now().await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await;
    }
    start.elapsed()
}

// ---- queues --------------------------------------------------------------------------------

const SLOTS: usize = 1024;

async fn queue_conductor<E: Exec>(items: usize, producers: usize) -> Duration {
    let q = Arc::new(conductor::sync::Queue::new(SLOTS));
    let start = Instant::now();
    for p in 0..producers {
        let q = q.clone();
        let share = items / producers + usize::from(p < items % producers);
        drop(E::spawn(async move {
            for i in 0..share {
                q.put(i as u64).await.expect("shut down");
            }
        }));
    }
    let mut sum = 0u64;
    for _ in 0..items {
        sum += q.get().await.expect("shut down");
    }
    black_box(sum);
    start.elapsed()
}

async fn mpsc_conductor<E: Exec>(items: usize, producers: usize) -> Duration {
    let (tx, mut rx) = conductor::sync::mpsc::channel(SLOTS);
    let start = Instant::now();
    for p in 0..producers {
        let tx = tx.clone();
        let share = items / producers + usize::from(p < items % producers);
        drop(E::spawn(async move {
            for i in 0..share {
                tx.send(i as u64).await.expect("closed");
            }
        }));
    }
    drop(tx);
    let mut sum = 0u64;
    while let Some(v) = rx.recv().await {
        sum += v;
    }
    black_box(sum);
    start.elapsed()
}

async fn mpsc_tokio<E: Exec>(items: usize, producers: usize) -> Duration {
    let (tx, mut rx) = tokio::sync::mpsc::channel(SLOTS);
    let start = Instant::now();
    for p in 0..producers {
        let tx = tx.clone();
        let share = items / producers + usize::from(p < items % producers);
        drop(E::spawn(async move {
            for i in 0..share {
                tx.send(i as u64).await.expect("closed");
            }
        }));
    }
    drop(tx);
    let mut sum = 0u64;
    while let Some(v) = rx.recv().await {
        sum += v;
    }
    black_box(sum);
    start.elapsed()
}

// ---- oneshot ping-pong ---------------------------------------------------------------------

// Ping carries the sender of the answer; Pong carries the sender of the next ping. One channel
// type carries both, so the message is an enum, and the sender a newtype (a recursive type).
enum Msg<S> {
    Ping(u32, S),
    Pong(u32, S),
}

struct CondTx(conductor::sync::oneshot::Sender<Msg<CondTx>>);
struct TokioTx(tokio::sync::oneshot::Sender<Msg<TokioTx>>);

macro_rules! oneshot_ping_pong {
    ($name:ident, $module:path, $tx:ident) => {
        async fn $name<E: Exec>(n: usize) -> Duration {
            use $module as oneshot;
            let (first_tx, first_rx) = oneshot::channel::<Msg<$tx>>();
            let start = Instant::now();
            let ponger = E::spawn(async move {
                let mut rx = first_rx;
                for _ in 0..n {
                    let Ok(Msg::Ping(v, $tx(reply))) = rx.await else {
                        panic!("ping side gone");
                    };
                    let (next_tx, next_rx) = oneshot::channel();
                    rx = next_rx;
                    if reply.send(Msg::Pong(v, $tx(next_tx))).is_err() {
                        panic!("ping side gone");
                    }
                }
            });
            let mut tx = first_tx;
            for i in 0..n as u32 {
                let (reply_tx, reply_rx) = oneshot::channel();
                if tx.send(Msg::Ping(i, $tx(reply_tx))).is_err() {
                    panic!("pong side gone");
                }
                let Ok(Msg::Pong(v, $tx(next))) = reply_rx.await else {
                    panic!("pong side gone");
                };
                debug_assert_eq!(v, i);
                tx = next;
            }
            ponger.await;
            start.elapsed()
        }
    };
}

oneshot_ping_pong!(oneshot_conductor, conductor::sync::oneshot, CondTx);
oneshot_ping_pong!(oneshot_tokio, tokio::sync::oneshot, TokioTx);

// ---- the table -----------------------------------------------------------------------------

struct Sizes {
    runs: usize,
    lock: usize,
    sem_tasks: usize,
    sem_rounds: usize,
    items: usize,
    ping_pong: usize,
}

impl Sizes {
    fn full() -> Sizes {
        Sizes {
            runs: 5,
            lock: 5_000_000,
            sem_tasks: 1_000,
            sem_rounds: 200,
            items: 1_000_000,
            ping_pong: 500_000,
        }
    }

    fn quick() -> Sizes {
        Sizes {
            runs: 2,
            lock: 500_000,
            sem_tasks: 1_000,
            sem_rounds: 20,
            items: 100_000,
            ping_pong: 50_000,
        }
    }
}

/// A row: what is compared, the operation count, then a sampler per contender (conductor first,
/// tokio second).
struct Row {
    label: String,
    unit: &'static str,
    ops: usize,
    samplers: [Box<dyn Fn() -> Duration>; 2],
    /// Whether the target is 0.8x (uncontended) rather than 1.0x.
    uncontended: bool,
}

fn rows<E: Exec + 'static>(where_: &'static str, s: &Sizes) -> Vec<Row> {
    let (n, tasks, rounds, items, pp) = (s.lock, s.sem_tasks, s.sem_rounds, s.items, s.ping_pong);
    let mut rows = vec![
        Row {
            label: format!("lock, uncontended ({where_})"),
            unit: "ns/lock+unlock",
            ops: n,
            samplers: [
                Box::new(move || E::block_on(lock_conductor(n))),
                Box::new(move || E::block_on(lock_tokio(n))),
            ],
            uncontended: true,
        },
        Row {
            label: format!("semaphore, 1000 tasks / 10 permits ({where_})"),
            unit: "ns/acquire",
            ops: tasks * rounds,
            samplers: [
                Box::new(move || E::block_on(semaphore_conductor::<E>(tasks, rounds))),
                Box::new(move || E::block_on(semaphore_tokio::<E>(tasks, rounds))),
            ],
            uncontended: false,
        },
    ];
    for producers in [1, 4] {
        rows.push(Row {
            label: format!("Queue, {producers} producer(s) vs tokio mpsc ({where_})"),
            unit: "ns/item",
            ops: items,
            samplers: [
                Box::new(move || E::block_on(queue_conductor::<E>(items, producers))),
                Box::new(move || E::block_on(mpsc_tokio::<E>(items, producers))),
            ],
            uncontended: false,
        });
        rows.push(Row {
            label: format!("mpsc, {producers} producer(s) ({where_})"),
            unit: "ns/item",
            ops: items,
            samplers: [
                Box::new(move || E::block_on(mpsc_conductor::<E>(items, producers))),
                Box::new(move || E::block_on(mpsc_tokio::<E>(items, producers))),
            ],
            uncontended: false,
        });
    }
    rows.push(Row {
        label: format!("oneshot ping-pong ({where_})"),
        unit: "ns/round trip",
        ops: pp,
        samplers: [
            Box::new(move || E::block_on(oneshot_conductor::<E>(pp))),
            Box::new(move || E::block_on(oneshot_tokio::<E>(pp))),
        ],
        uncontended: false,
    });
    rows
}

/// Runs a sampler on the conductor executor while the tokio primitive is measured on the home
/// runtime: the "home" rows pair conductor-on-conductor with tokio-on-tokio.
fn home_rows(s: &Sizes) -> Vec<Row> {
    let mut on_conductor = rows::<OnConductor>("home runtimes", s);
    let on_tokio = rows::<OnTokio>("home runtimes", s);
    for (c, t) in on_conductor.iter_mut().zip(on_tokio) {
        let [_, tokio_sampler] = t.samplers;
        c.samplers[1] = tokio_sampler;
    }
    on_conductor
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What `--help` prints (the doc comment's command line).
const USAGE: args::Usage = args::Usage {
    source: "src/bin/sync.rs",
    lines: "taskset -c 1 cargo run --release -p conductor-bench --bin sync [-- --quick] [--runs N] [--only TEXT]",
};

fn main() {
    let flags = USAGE.flags(&["--runs", "--only"], &["--quick"]);
    let mut sizes = if flags.has("--quick") {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    sizes.runs = flags.parsed(&USAGE, "--runs", sizes.runs);
    if sizes.runs == 0 {
        USAGE.fail("--runs needs a positive number");
    }
    let only = flags.get("--only").map(str::to_owned);
    let mut table = rows::<OnConductor>("same executor", &sizes);
    table.extend(home_rows(&sizes));
    if let Some(only) = &only {
        table.retain(|r| r.label.contains(only.as_str()));
    }

    println!("# conductor::sync vs tokio::sync");
    println!();
    println!(
        "{} runs per cell (median); debug assertions {}",
        sizes.runs,
        if cfg!(debug_assertions) {
            "ON (use --release)"
        } else {
            "off"
        }
    );
    println!();
    println!("| workload | unit | conductor::sync | tokio::sync | ratio | target |");
    println!("|---|---|---:|---:|---:|---:|");
    for row in &table {
        let began = Instant::now();
        let mut samples = [Vec::new(), Vec::new()];
        for _ in 0..sizes.runs {
            for (i, sampler) in row.samplers.iter().enumerate() {
                samples[i].push(sampler().as_nanos() as f64 / row.ops as f64);
            }
        }
        let c = median(&mut samples[0]);
        let t = median(&mut samples[1]);
        let target = if row.uncontended { 0.8 } else { 1.0 };
        let mark = if c / t <= target { "" } else { " (over)" };
        println!(
            "| {} | {} | {c:.1} | {t:.1} | {:.2}{mark} | {target:.1} |",
            row.label,
            row.unit,
            c / t
        );
        eprintln!("  {}: {:.1} s", row.label, began.elapsed().as_secs_f64());
    }
}
