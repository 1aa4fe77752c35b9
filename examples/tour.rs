//! The tour: every program of the asyncio guides that conductor covers so far, run one after the
//! other, each on a fresh event loop (as `asyncio.run` does), with its wall-clock time.
//!
//! ```sh
//! cargo run --release --example tour
//! ```
//!
//! It takes about 56 s, nearly all of it the programs' own sleeps. Each section names its file.
//! Each program is also its own example (`cargo run --example cancellation`); its source starts
//! with the Python program it ports.

use std::time::Instant;

macro_rules! programs {
    ($($name:ident: $what:literal),+ $(,)?) => {
        $( mod $name; )+
        const PROGRAMS: &[(&str, &str, fn())] = &[$((stringify!($name), $what, $name::main)),+];
    };
}

programs! {
    hello: "asyncio.run(main())",
    awaitables: "three awaitables: a coroutine, a task, a future (0.1 s)",
    chaining: "awaiting coroutines one after another (2 s)",
    sequential: "sequential awaits add up (3 s)",
    create_tasks: "create_task schedules at once (1 s, not 3 s)",
    concurrent_tasks: "concurrent tasks take as long as the longest (2 s)",
    gather_tasks: "gather: results as they come (3 s)",
    gather_urls: "gather over a list, results in order (1 s)",
    gather_exceptions: "gather with failures: fail fast, or collect every outcome",
    exceptions: "catching an error from awaited work",
    print_values: "deterministic interleaving, no locks needed",
    fetch_and_compute: "fetch and compute at the same time (5 s)",
    cancellation: "cancel, catch, clean up (1 s)",
    wait_first: "wait(FIRST_COMPLETED) (1 s)",
    timeouts: "asyncio.timeout and wait_for (1 s)",
    task_group: "TaskGroup: one failure cancels the rest",
    callbacks: "call_soon, call_later, call_at (3 s; the 5 s call_at is meant not to run: the loop closes at 3 s)",
    lock: "asyncio.Lock: one at a time, in FIFO order (6 s)",
    lock_counter: "a lock around a read-modify-write",
    semaphore: "asyncio.Semaphore(2): two at a time (4 s)",
    event: "asyncio.Event wakes every waiter (2 s)",
    producer_consumer: "asyncio.Queue: producer and consumers with join",
    async_iteration: "async iteration",
    executor: "blocking work on the thread pool (2 s + compute)",
    nested_run: "pitfall: a loop inside a running loop",
    read_files: "aiofiles: three files read concurrently",
    subprocess_pipeline: "subprocesses: printf | sort | uniq -c through the loop",
    graceful_server: "Ctrl-C: stop accepting, finish in-flight work, cancel the rest (0.6 s)",
    echo_server: "streams: the TCP echo server and client",
    chat: "a chat server: lines broadcast to every client",
    fetch_concurrent: "gather + Semaphore(3): nine fetches from a local server (0.3 s)",
    sqlite_users: "aiosqlite: create a table, insert, commit, iterate a cursor (conductor-sqlite)",
    asyncpg_basics: "asyncpg: connect, fetch with $1, insert, close (needs a PostgreSQL server; skipped without one)",
    asyncpg_pool: "asyncpg: a pool and ten concurrent fetchrows (needs a PostgreSQL server; skipped without one)",
    http_hello: "aiohttp.web: hello, JSON, a path parameter, graceful stop (conductor-http)",
    http_axum: "an axum Router served by conductor-http unchanged",
    http_local_state: "HTTP handlers holding Rc state, no locks",
    http_pg_api: "aiohttp.web over an asyncpg pool: a small JSON API (needs a PostgreSQL server; skipped without one)",
    aiohttp_get_json: "aiohttp's ClientSession: GET a JSON user (conductor-http's client, a local server)",
    aiohttp_concurrent_fetch: "three delayed URLs through one ClientSession (2 s, not 4 s)",
    aiohttp_post_json: "aiohttp's session.post(url, json=payload)",
    aiohttp_semaphore: "ten 1 s fetches: all at once (1 s), then Semaphore(5) (2 s)",
    aiohttp_sync_vs_async: "five 1 s fetches: one after another (5 s), then all at once (1 s)",
}

fn main() {
    let total = Instant::now();
    for (name, what, run) in PROGRAMS {
        println!("\n=== {name} (examples/{name}.rs): {what}");
        let start = Instant::now();
        run();
        println!("--- {name} took {:.2?}", start.elapsed());
    }
    println!("\n{} programs in {:.2?}", PROGRAMS.len(), total.elapsed());
}
