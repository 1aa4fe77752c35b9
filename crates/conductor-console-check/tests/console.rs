//! tokio-console sees conductor's tasks: a conductor program runs under the real
//! console-subscriber, and this test reads console-subscriber's gRPC stream as `tokio-console`
//! does, then checks the tasks' names, spawn locations, polls and wakes (a cancellation's too),
//! and the timers, made where the user called `sleep`, `timeout` and `interval`.

#[allow(dead_code)] // each test file uses part of it
mod support;

use std::time::Duration;

use support::{Console, at_line, run_watched};

const FILE: &str = "tests/console.rs";

/// Where the program spawns and sleeps, to compare with the console's locations.
#[derive(Debug)]
struct Lines {
    sleeper: u32,
    yielder: u32,
    sleep: u32,
    timeout: u32,
    interval: u32,
}

/// The program the console watches: a task that sleeps (woken by its timer), one that yields
/// (waking itself), both awaited; a task cancelled in its sleep (woken by the cancellation); a
/// timeout that expires and an interval that ticks.
fn program() -> Lines {
    conductor::run(async {
        let sleeper_line = line!() + 1;
        let sleeper = conductor::spawn_named("console-sleeper", async {
            for _ in 0..3 {
                conductor::sleep(Duration::from_millis(2)).await;
            }
        });
        let yielder_line = line!() + 1;
        let yielder = conductor::spawn_named("console-yielder", async {
            for _ in 0..4 {
                conductor::yield_now().await;
            }
        });
        sleeper.await.unwrap();
        yielder.await.unwrap();
        let victim = conductor::spawn_named(
            "console-victim",
            conductor::sleep(Duration::from_secs(3600)),
        );
        conductor::yield_now().await;
        victim.cancel();
        assert!(victim.await.unwrap_err().is_cancelled());
        let timeout_line = line!() + 1;
        let timed_out = conductor::timeout(Duration::from_millis(1), std::future::pending::<()>());
        assert!(timed_out.await.is_err());
        let interval_line = line!() + 1;
        let mut every = conductor::interval(Duration::from_millis(1));
        for _ in 0..3 {
            every.tick().await;
        }
        Lines {
            sleeper: sleeper_line,
            yielder: yielder_line,
            sleep: sleeper_line + 2,
            timeout: timeout_line,
            interval: interval_line,
        }
    })
}

#[test]
fn tokio_console_shows_conductor_tasks_with_names_locations_polls_and_wakes() {
    let ready = |c: &Console| {
        ["console-sleeper", "console-yielder", "console-victim"]
            .iter()
            .all(|n| c.task(n).is_some_and(|t| t.completed && t.polls > 0))
            && c.resources.values().filter(|r| r.timer).count() >= 5
    };
    let (lines, console) = run_watched(program, ready);

    let sleeper = console.task("console-sleeper").expect("the sleeper");
    assert!(
        at_line(&sleeper.location, FILE, lines.sleeper),
        "{sleeper:?}, {lines:?}"
    );
    assert_eq!(sleeper.kind.as_deref(), Some("local"));
    assert!(sleeper.completed, "{sleeper:?}");
    assert_eq!(sleeper.polls, 4, "three sleeps: four polls ({sleeper:?})");
    assert!(sleeper.wakes >= 3, "each timer woke it ({sleeper:?})");

    let yielder = console.task("console-yielder").expect("the yielder");
    assert!(
        at_line(&yielder.location, FILE, lines.yielder),
        "{yielder:?}, {lines:?}"
    );
    assert_eq!(yielder.polls, 5, "four yields: five polls ({yielder:?})");
    assert_eq!(
        yielder.self_wakes, 4,
        "each yield woke itself ({yielder:?})"
    );
    assert!(yielder.wakes >= yielder.self_wakes);

    // Woken once, by `cancel()`, which calls no waker: the wake is reported all the same.
    let victim = console.task("console-victim").expect("the victim");
    assert_eq!(victim.wakes, 1, "the cancellation woke it ({victim:?})");

    // Each timer where the user made it: the sleeps, the timeout's, the interval's.
    let timers: Vec<_> = console.resources.values().filter(|r| r.timer).collect();
    assert!(
        timers.iter().all(|t| t.concrete_type == "Sleep"),
        "{timers:?}"
    );
    for (what, line) in [
        ("sleep", lines.sleep),
        ("timeout", lines.timeout),
        ("interval", lines.interval),
    ] {
        assert!(
            timers.iter().any(|t| at_line(&t.location, FILE, line)),
            "no timer at the {what}'s line {line}: {timers:?}"
        );
    }
    assert!(
        timers.iter().all(|t| t
            .location
            .as_ref()
            .and_then(|l| l.file.as_deref())
            .is_some_and(|f| f.ends_with(FILE))),
        "every timer shows the user's location, none conductor's: {timers:?}"
    );
}
