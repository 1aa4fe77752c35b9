//! `debug::snapshot` (the live view's data) and `debug::cancel_task` against known programs,
//! on a paused clock so that deadlines are exact.

use std::time::Duration;

use conductor::debug::{LISTED, MAX_PAGE, TaskQuery, cancel_task, snapshot};
use conductor::{Runtime, TaskState};

fn paused(debug: bool) -> Runtime {
    Runtime::builder()
        .paused_clock()
        .debug(debug)
        .build()
        .unwrap()
}

#[test]
fn the_timer_queue_lists_the_next_deadlines_earliest_first_and_what_they_wake() {
    paused(false).block_on(async {
        let _cb = conductor::call_later(Duration::from_secs(3), || {});
        let a = conductor::spawn(conductor::sleep(Duration::from_secs(2)));
        let b = conductor::spawn(conductor::sleep(Duration::from_secs(1)));
        let never = conductor::spawn(conductor::sleep(Duration::MAX));
        let many: Vec<_> = (0..40u64)
            .map(|i| conductor::spawn(conductor::sleep(Duration::from_secs(100 + i))))
            .collect();
        conductor::yield_now().await;
        let s = snapshot(&TaskQuery::default()).unwrap();
        let first: Vec<(Duration, bool)> = s.timers[..3]
            .iter()
            .map(|t| (t.fires_in, t.wakes_task))
            .collect();
        assert_eq!(
            first,
            [
                (Duration::from_secs(1), true),
                (Duration::from_secs(2), true),
                (Duration::from_secs(3), false)
            ]
        );
        assert_eq!(s.timers.len(), LISTED, "a bounded list");
        assert_eq!(s.timers[LISTED - 1].fires_in, Duration::from_secs(112));
        assert_eq!(s.stats.timers, 44, "the count has them all, `never` too");
        for t in many.iter().chain([&a, &b, &never]) {
            t.cancel();
        }
    });
}

#[test]
fn a_page_is_bounded_and_counts_every_match() {
    paused(false).block_on(async {
        let tasks: Vec<_> = (0..600)
            .map(|i| conductor::spawn_named(format!("w-{i}"), std::future::pending::<()>()))
            .collect();
        // Not polled yet: all 600 wait in the ready queue.
        let s = snapshot(&TaskQuery::page(0, 10_000)).unwrap();
        assert_eq!(s.tasks.len(), MAX_PAGE);
        assert_eq!(s.matching, 601, "the 600 and block_on's task");
        assert_eq!(s.ready.len(), LISTED);
        assert_eq!(s.ready[0].id, tasks[0].id());
        assert_eq!(s.ready[0].name, "w-0", "the ready queue's tasks are named");
        assert!(s.to_json().contains(&format!(
            "\"ready\":[{{\"id\":{},\"name\":\"w-0\"}}",
            tasks[0].id()
        )));
        assert!(
            s.states.contains(&(TaskState::Ready, 600)),
            "{:?}",
            s.states
        );
        conductor::yield_now().await;
        let s = snapshot(&TaskQuery::page(590, 50).named("w-")).unwrap();
        assert_eq!((s.matching, s.tasks.len()), (600, 10));
        assert_eq!(s.tasks[9].name, "w-599");
        assert!(
            s.states.contains(&(TaskState::Suspended, 600)),
            "{:?}",
            s.states
        );
        // A substring of the name, as the page's filter box.
        let s = snapshot(&TaskQuery::default().named("w-42")).unwrap();
        let names: Vec<&str> = s.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names[..3], ["w-42", "w-420", "w-421"]);
        assert_eq!(names.len(), 11);
        for t in &tasks {
            t.cancel();
        }
    });
}

#[test]
fn rows_carry_the_await_graph_and_debug_modes_step_counts() {
    paused(true).block_on(async {
        let lock = std::sync::Arc::new(conductor::sync::Lock::new());
        let held = lock.clone().try_acquire_owned().unwrap();
        let l = lock.clone();
        let waiter = conductor::spawn_named("waiter", async move {
            let _g = l.acquire().await;
        });
        let parent = conductor::spawn_named("parent", async {
            conductor::gather((1..=2u64).map(|i| conductor::sleep(Duration::from_secs(i)))).await
        });
        for _ in 0..3 {
            conductor::yield_now().await;
        }
        let s = snapshot(&TaskQuery::default()).unwrap();
        let row = |name: &str| s.tasks.iter().find(|t| t.name == name).unwrap();
        assert_eq!(row("waiter").awaiting[0].kind, "acquire");
        let p = row("parent");
        assert_eq!(p.awaiting[0].kind, "gather");
        assert_eq!(p.awaiting[0].awaits.len(), 2);
        let child = s
            .tasks
            .iter()
            .find(|t| t.id == p.awaiting[0].awaits[0])
            .unwrap();
        assert_eq!(child.awaited_by, [p.id]);
        assert_eq!(child.awaiting[0].deadline_in, Some(Duration::from_secs(1)));
        assert_eq!(row("waiter").polls, Some(1));
        assert!(row("waiter").age.is_some() && row("waiter").busy.is_some());
        drop(held);
        waiter.await.unwrap();
        parent.cancel();
    });
}

#[test]
fn without_debug_mode_step_counts_are_unknown() {
    paused(false).block_on(async {
        let t = conductor::spawn_named("t", std::future::pending::<()>());
        conductor::yield_now().await;
        let s = snapshot(&TaskQuery::default().named("t")).unwrap();
        assert!(!s.debug);
        assert_eq!((s.tasks[0].polls, s.tasks[0].age), (None, None));
        assert!(s.slow_steps.is_empty());
        t.cancel();
    });
}

#[test]
fn a_slow_step_is_logged_with_its_task() {
    let rt = Runtime::builder()
        .debug(true)
        .slow_callback_duration(Duration::from_millis(5))
        .on_slow_step(|_| {})
        .build()
        .unwrap();
    rt.block_on(async {
        let t = conductor::spawn_named("hog", async {
            // Longer than the 5 ms threshold, whatever the machine.
            std::thread::sleep(Duration::from_millis(20));
        });
        let id = t.id();
        t.await.unwrap();
        let s = snapshot(&TaskQuery::default()).unwrap();
        let slow = s.slow_steps.last().unwrap();
        assert_eq!((slow.task, slow.name.as_str()), (id, "hog"));
        assert!(slow.took >= Duration::from_millis(20));
    });
}

#[test]
fn the_selector_lists_a_listener_with_its_waiting_acceptor() {
    conductor::run(async {
        let listener = conductor::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let acceptor = conductor::spawn(async move { listener.accept().await.map(|_| ()) });
        conductor::yield_now().await;
        let s = snapshot(&TaskQuery::default()).unwrap();
        assert_eq!(s.stats.io_sources, 1);
        assert_eq!((s.sources[0].readers, s.sources[0].writers), (1, 0));
        acceptor.cancel();
    });
}

#[test]
fn cancel_task_cancels_by_id_and_says_when_there_is_none() {
    conductor::run(async {
        let t = conductor::spawn_named("victim", std::future::pending::<()>());
        conductor::yield_now().await;
        assert!(cancel_task(t.id()));
        assert!(t.await.unwrap_err().is_cancelled());
        assert!(!cancel_task(u64::MAX));
    });
}

#[test]
fn the_json_escapes_names_and_reads_null_outside_debug_mode() {
    paused(false).block_on(async {
        let t = conductor::spawn_named("a \"quoted\"\nname\\", std::future::pending::<()>());
        conductor::yield_now().await;
        let json = snapshot(&TaskQuery::default().named("quoted"))
            .unwrap()
            .to_json();
        assert!(
            json.contains(r#""name":"a \"quoted\"\u000aname\\","state":"suspended""#),
            "{json}"
        );
        assert!(
            json.contains(r#""age":null,"polls":null,"busy":null"#),
            "{json}"
        );
        assert!(json.starts_with("{\"loop\":") && json.ends_with("\"slow_steps\":[]}"));
        t.cancel();
    });
}
