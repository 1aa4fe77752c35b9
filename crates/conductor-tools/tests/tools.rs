//! The command-line tools against a real conductor program: this test binary, re-executed as a
//! child process with `CONDUCTOR_DEBUG_ENDPOINT=1` and `CONDUCTOR_DEBUG=1` (no builder option:
//! the environment alone turns both on), running tasks with known names.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{CHILD, Proc};

/// The program the tools question: a gather of named sleepers, a lock waiter, and a main task
/// that never ends (the test kills the process).
fn child_program() {
    conductor::run(async {
        conductor::current_task().unwrap().set_name("main");
        let lock = std::sync::Arc::new(conductor::sync::Lock::new());
        let held = lock.clone().try_acquire_owned().unwrap();
        let l = lock.clone();
        conductor::spawn_named("lock-waiter", async move {
            let _g = l.acquire().await;
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
        println!("ready debug={}", conductor::runtime::is_debug());
        let _ = sleepers.await;
        drop(held);
    });
}

/// The program above, started and ready.
fn start_child(dir: &std::path::Path) -> Proc {
    let (child, ready) = support::program("1", dir, "ready debug=");
    // libtest prints "test child_entry ... " before the child's own line.
    assert!(ready.ends_with("ready debug=true"), "{ready}");
    child
}

fn tool(name: &str, pid: u32, dir: &std::path::Path, extra: &[&str]) -> String {
    let exe = match name {
        "conductor-ps" => env!("CARGO_BIN_EXE_conductor-ps"),
        "conductor-pstree" => env!("CARGO_BIN_EXE_conductor-pstree"),
        _ => env!("CARGO_BIN_EXE_conductor-stats"),
    };
    let out = Command::new(exe)
        .arg(pid.to_string())
        .args(extra)
        .env("XDG_RUNTIME_DIR", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn child_entry() {
    if std::env::var_os(CHILD).is_some() {
        child_program();
    }
}

#[test]
fn ps_pstree_and_stats_name_the_known_tasks_of_a_running_process() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("conductor-tools-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let child = start_child(&dir);
    let pid = child.id();

    let ps = tool("conductor-ps", pid, &dir, &[]);
    for name in ["main", "lock-waiter", "sleepers", "sleeper-1", "sleeper-2"] {
        assert!(ps.contains(name), "{name} missing from:\n{ps}");
    }
    assert!(ps.contains("suspended"), "{ps}");

    let tree = tool("conductor-pstree", pid, &dir, &[]);
    assert!(tree.contains("\"main\" suspended, awaiting task"), "{tree}");
    assert!(
        tree.contains("\"sleepers\" suspended, awaiting gather"),
        "{tree}"
    );
    assert!(
        tree.contains("\"sleeper-2\" suspended, awaiting sleep (fires in "),
        "{tree}"
    );
    assert!(
        tree.contains("\"lock-waiter\" suspended, awaiting acquire"),
        "{tree}"
    );
    // sleepers is under main, the sleepers under the gather.
    let main_at = tree.find("\"main\"").unwrap();
    let sleepers_at = tree.find("\"sleepers\"").unwrap();
    let sleeper_at = tree.find("\"sleeper-1\"").unwrap();
    assert!(main_at < sleepers_at && sleepers_at < sleeper_at, "{tree}");

    let stats = tool("conductor-stats", pid, &dir, &[]);
    assert!(stats.contains("tasks_alive 5"), "{stats}");
    let prom = tool("conductor-stats", pid, &dir, &["--prometheus"]);
    assert!(
        prom.contains("# TYPE conductor_tasks_alive gauge"),
        "{prom}"
    );
    assert!(prom.contains("conductor_tasks_alive{loop=\""), "{prom}");
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_process_without_an_endpoint_is_an_error_that_says_what_to_do() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let err = conductor_tools::request(u32::MAX, "ps").unwrap_err();
    assert!(
        err.to_string().contains("CONDUCTOR_DEBUG_ENDPOINT=1"),
        "{err}"
    );
}
