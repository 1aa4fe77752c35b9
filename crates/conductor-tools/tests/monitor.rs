//! `conductor-monitor` against real processes, in a real browser: this test binary re-executed
//! as the watched program (debug mode and the debug endpoint from the environment), the
//! monitor binary serving its page, and Debian's chromium (headless) rendering it. The test
//! checks what the page shows against the program's known tasks, cancels one from the page,
//! pages through 100,000 tasks of a loop under load, and keeps a screenshot in
//! `target/browser-artefacts/`.
//!
//! Without chromium the browser parts say SKIPPED, unless `CI` is set (`.ci/run` installs it).

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::chromium::{self, CHROMIUM, artefacts};
use support::{CHILD, Proc};

const MANY: usize = 100_000;

/// The known program: a gather of sleepers, a lock waiter, a task the page cancels, a task
/// whose steps are slow, a socket accept, a blocking job on the pool.
async fn known_tasks() {
    conductor::current_task().unwrap().set_name("main");
    let lock = std::sync::Arc::new(conductor::sync::Lock::new());
    let held = lock.clone().try_acquire_owned().unwrap();
    let l = lock.clone();
    conductor::spawn_named("lock-waiter", async move {
        let _g = l.acquire().await;
    })
    .detach();
    conductor::spawn_named("victim", async {
        if conductor::catch_cancel(std::future::pending::<()>())
            .await
            .is_err()
        {
            println!("victim cancelled");
        }
    })
    .detach();
    conductor::spawn_named("slowpoke", async {
        loop {
            // Longer than the 10 ms slow_callback_duration, whatever the machine.
            std::thread::sleep(Duration::from_millis(30));
            conductor::sleep(Duration::from_millis(200)).await;
        }
    })
    .detach();
    let listener = conductor::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    conductor::spawn_named("acceptor", async move {
        let _ = listener.accept().await;
    })
    .detach();
    conductor::spawn_named("pool-user", async {
        let _ = conductor::to_thread(|| std::thread::sleep(Duration::from_secs(3600))).await;
    })
    .detach();
    let sleepers = conductor::spawn_named("sleepers", async {
        conductor::gather((1..=2u64).map(|i| async move {
            conductor::current_task()
                .unwrap()
                .set_name(format!("sleeper-{i}"));
            conductor::sleep(Duration::from_secs(3600 * i)).await;
        }))
        .await
        .unwrap();
    });
    conductor::yield_now().await;
    conductor::yield_now().await;
    println!("ready");
    let _ = sleepers.await;
    drop(held);
}

/// 100,000 tasks waiting on an event, and one that keeps the loop busy: it never parks.
async fn many_tasks() {
    let event = std::rc::Rc::new(conductor::sync::Event::new());
    for i in 0..MANY {
        let e = event.clone();
        conductor::spawn_named(format!("idle-{i}"), async move { e.wait().await }).detach();
    }
    conductor::spawn_named("busy", async {
        loop {
            let until = std::time::Instant::now() + Duration::from_millis(1);
            while std::time::Instant::now() < until {}
            conductor::yield_now().await;
        }
    })
    .detach();
    conductor::yield_now().await;
    println!("ready");
    std::future::pending::<()>().await;
}

#[test]
fn child_entry() {
    let Some(mode) = std::env::var_os(CHILD) else {
        return;
    };
    let rt = conductor::Runtime::builder()
        .slow_callback_duration(Duration::from_millis(10))
        .build()
        .unwrap();
    if mode == "many" {
        rt.block_on(many_tasks());
    } else if mode == "blocked" {
        rt.block_on(async {
            println!("ready");
            // A step that never ends: the loop cannot answer.
            std::thread::sleep(Duration::from_secs(3600));
        });
    } else {
        rt.block_on(known_tasks());
    }
}

fn program(mode: &str, dir: &Path) -> Proc {
    support::program(mode, dir, "ready").0
}

/// The monitor for `pid`, and the address it serves on.
fn monitor(pid: u32, dir: &Path) -> (Proc, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conductor-monitor"));
    cmd.args([&pid.to_string(), "--listen", "127.0.0.1:0"])
        .env("XDG_RUNTIME_DIR", dir);
    let (proc, line) = Proc::start(cmd, "conductor-monitor: http://");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    (proc, addr)
}

/// One HTTP/1.1 request with `Connection: close`; the status and the body.
fn http(addr: &str, method: &str, path: &str) -> (u16, String) {
    http_with(addr, method, path, "")
}

fn http_with(addr: &str, method: &str, path: &str, headers: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

fn snapshot(addr: &str, query: &str) -> serde_json::Value {
    let (status, body) = http(addr, "GET", &format!("/api/snapshot?{query}"));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn row<'a>(s: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    s["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no task {name} in {s}"))
}

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conductor-monitor-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Chromium, headless, on `url` with `extra` flags; its standard output.
fn chromium(profile: &Path, extra: &[String], url: &str) -> String {
    let out = Command::new(CHROMIUM)
        .args(chromium::args(profile))
        .arg("--virtual-time-budget=20000")
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn dom(profile: &Path, url: &str) -> String {
    let dom = chromium(profile, &["--dump-dom".to_owned()], url);
    assert!(
        dom.contains("<p id=\"done\">done "),
        "the page did not finish: {dom}"
    );
    dom
}

#[test]
fn the_snapshot_holds_the_known_tasks_queues_sources_pool_and_slow_steps() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let dir = temp_dir("api");
    let child = program("known", &dir);
    let (_monitor, addr) = monitor(child.child.id(), &dir);
    // The slow steps come every 200 ms; wait for one without a clock threshold.
    let s = loop {
        let s = snapshot(&addr, "limit=100");
        if !s["slow_steps"].as_array().unwrap().is_empty() {
            break s;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(s["debug"], true);
    assert_eq!(row(&s, "lock-waiter")["awaiting"][0]["kind"], "acquire");
    let sleepers = row(&s, "sleepers");
    assert_eq!(sleepers["awaiting"][0]["kind"], "gather");
    let sleeper = row(&s, "sleeper-2");
    assert_eq!(sleeper["awaiting"][0]["kind"], "sleep");
    assert_eq!(sleeper["awaited_by"][0], sleepers["id"]);
    assert!(sleeper["polls"].as_u64().unwrap() >= 1, "{sleeper}");
    assert!(row(&s, "slowpoke")["busy"].as_f64().unwrap() >= 0.03);
    let slow = &s["slow_steps"][0];
    assert_eq!(slow["name"], "slowpoke");
    assert!(slow["took"].as_f64().unwrap() >= 0.03, "{slow}");
    // The timer queue: the sleepers' deadlines, an hour and two ahead, among the next ones.
    let timers: Vec<f64> = s["timers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["fires_in"].as_f64().unwrap())
        .collect();
    assert!(
        timers.iter().any(|t| (3500.0..=3600.0).contains(t)),
        "{timers:?}"
    );
    assert!(
        timers.iter().any(|t| (7100.0..=7200.0).contains(t)),
        "{timers:?}"
    );
    // The selector: the listener, with the acceptor waiting to read.
    let sources = s["sources"].as_array().unwrap();
    assert!(sources.iter().any(|x| x["readers"] == 1), "{sources:?}");
    assert_eq!(s["stats"]["pool_busy"], 1);
    // A page is a page: one row, and the count of all that match.
    let one = snapshot(&addr, "limit=1&name=sleeper-");
    assert_eq!(
        (
            one["matching"].as_u64(),
            one["tasks"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    let mark = "X-Conductor-Monitor: 1\r\n";
    let (status, body) = http_with(&addr, "POST", "/api/cancel/999999", mark);
    assert_eq!(
        (status, body.as_str()),
        (404, "error: no task 999999 is pending")
    );
    // Without the page's header (what another site's page could send): refused.
    let victim = row(&s, "victim")["id"].as_u64().unwrap();
    let (status, _) = http(&addr, "POST", &format!("/api/cancel/{victim}"));
    assert_eq!(status, 403);
    assert_eq!(
        row(&snapshot(&addr, "name=victim"), "victim")["state"],
        "suspended"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_page_in_chromium_shows_the_known_tasks_and_cancels_one() {
    if std::env::var_os(CHILD).is_some() || !chromium::here() {
        return;
    }
    let dir = temp_dir("page");
    let child = program("known", &dir);
    let (_monitor, addr) = monitor(child.child.id(), &dir);
    let profile = dir.join("profile");
    // Wait for a slow step, so that the page has one to show.
    while snapshot(&addr, "limit=1")["slow_steps"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        std::thread::sleep(Duration::from_millis(100));
    }

    let page = dom(
        &profile,
        &format!("http://{addr}/?updates=3&interval_ms=200"),
    );
    for (name, kind) in [
        ("lock-waiter", "acquire"),
        ("sleepers", "gather"),
        ("sleeper-1", "sleep"),
        ("victim", ""),
    ] {
        let tr = format!("data-name=\"{name}\" data-state=\"suspended\" data-awaiting=\"{kind}\"");
        assert!(page.contains(&tr), "{tr} missing: {page}");
    }
    assert!(
        page.contains("<small id=\"status\" class=\"live\">live</small>"),
        "{page}"
    );
    assert!(page.contains("<b id=\"debug\">on</b>"), "{page}");
    assert!(
        page.contains("(wakes a task)</li>"),
        "the timer queue: {page}"
    );
    assert!(
        page.contains("<div id=\"pool\">busy 1, idle 0, queued 0</div>"),
        "{page}"
    );
    assert!(
        page.contains(", 1 reading, 0 writing</li>"),
        "the selector: {page}"
    );
    assert!(
        page.contains("\"slowpoke\" (spawned at "),
        "the slow steps: {page}"
    );
    // The await graph: the sleepers under their gather.
    let tree = page.split("<div id=\"tree\">").nth(1).unwrap();
    let at = |what: &str| tree.find(what).unwrap_or_else(|| panic!("{what}: {tree}"));
    assert!(at("\"sleepers\" suspended, awaiting gather") < at("\"sleeper-1\" suspended"));
    assert!(
        tree.contains("│   ├── Task-") || tree.contains("    ├── Task-"),
        "{tree}"
    );

    let page = dom(
        &profile,
        &format!("http://{addr}/?updates=3&interval_ms=200&cancel=victim"),
    );
    assert!(
        page.contains("<span id=\"cancel-result\">cancelled "),
        "{page}"
    );
    assert!(
        page.contains("<span id=\"cancel-status\">victim gone</span>"),
        "{page}"
    );
    assert!(!page.contains("data-name=\"victim\""), "{page}");
    child.wait_for("victim cancelled");

    let shot = artefacts().join("conductor-monitor.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &profile,
        &[
            "--window-size=1400,1000".to_owned(),
            format!("--screenshot={}", shot.display()),
        ],
        &format!("http://{addr}/?updates=2&interval_ms=200"),
    );
    let png = std::fs::read(&shot).unwrap_or_default();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        shot.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_loop_of_100000_busy_tasks_gets_a_bounded_page_and_answers() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let dir = temp_dir("many");
    let child = program("many", &dir);
    let (_monitor, addr) = monitor(child.child.id(), &dir);
    let started = std::time::Instant::now();
    let (status, body) = http(&addr, "GET", "/api/snapshot?limit=100000");
    eprintln!(
        "a snapshot of {MANY} tasks: {} bytes in {:?}",
        body.len(),
        started.elapsed()
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.len() < 500_000,
        "the page is bounded: {} bytes",
        body.len()
    );
    let s: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        s["tasks"].as_array().unwrap().len(),
        500,
        "MAX_PAGE rows at most"
    );
    assert!(s["matching"].as_u64().unwrap() > MANY as u64);
    assert!(
        s["states"]["suspended"].as_u64().unwrap() >= MANY as u64,
        "{}",
        s["states"]
    );
    // Under load: the busy task is always ready or running, the loop never parks idle; between
    // two steps, where the snapshot is taken, it waits in the ready queue, named.
    let ready = s["ready"].as_array().unwrap();
    assert!(
        ready
            .iter()
            .any(|r| r["name"] == "busy" && r["id"].is_u64()),
        "{ready:?}"
    );
    let last = snapshot(&addr, "limit=1&name=idle-99999");
    assert_eq!(last["tasks"][0]["name"], "idle-99999");

    if !chromium::here() {
        return;
    }
    let page = dom(
        &dir.join("profile"),
        &format!("http://{addr}/?updates=2&interval_ms=200"),
    );
    assert_eq!(page.matches("<tr data-id=").count(), 50, "one page of rows");
    assert!(
        page.contains("<li>busy #"),
        "the ready queue's box names its tasks: {page}"
    );
    let total = format!("of {}</span>", s["matching"]);
    assert!(page.contains(&total), "{total}: {page}");
    let page = dom(
        &dir.join("profile"),
        &format!("http://{addr}/?updates=2&interval_ms=200&name=idle-99999"),
    );
    assert_eq!(page.matches("<tr data-id=").count(), 1, "{page}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_blocked_loop_gets_a_page_that_says_it_is_stalled() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let dir = temp_dir("blocked");
    let child = program("blocked", &dir);
    let (_monitor, addr) = monitor(child.child.id(), &dir);
    let (status, body) = http(&addr, "GET", "/api/snapshot");
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("did not answer within 5s"), "{body}");
    if chromium::here() {
        let page = dom(&dir.join("profile"), &format!("http://{addr}/?updates=1"));
        assert!(
            page.contains(
                "<small id=\"status\" class=\"stalled\">error: the event loop did not answer"
            ),
            "{page}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
