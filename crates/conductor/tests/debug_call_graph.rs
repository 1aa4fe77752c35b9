//! The await graph (`debug::call_graph`, asyncio's `capture_call_graph`) against known programs:
//! a gather of sleeps, a TaskGroup, a lock wait, a socket read.

use std::rc::Rc;
use std::time::Duration;

use conductor::debug::{CallGraph, TaskNode, call_graph};
use conductor::net::{TcpListener, TcpStream};
use conductor::sync::Lock;
use conductor::{Runtime, TaskState, sleep, spawn_named, task_group, yield_now};

fn debug_loop() -> Runtime {
    Runtime::builder()
        .paused_clock()
        .debug(true)
        .build()
        .unwrap()
}

fn node<'a>(g: &'a CallGraph, name: &str) -> &'a TaskNode {
    g.named(name)
        .unwrap_or_else(|| panic!("no task {name:?} in\n{g}"))
}

fn children<'a>(g: &'a CallGraph, parent: &TaskNode) -> Vec<&'a str> {
    let mut names: Vec<&str> = parent
        .awaiting
        .iter()
        .flat_map(|p| &p.awaits)
        .map(|id| g.task(*id).unwrap().name.as_str())
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn gather_of_sleeps_shows_the_gather_its_children_and_their_deadlines() {
    debug_loop().block_on(async {
        let main = spawn_named("main", async {
            conductor::gather((1..=3u64).map(|i| async move {
                conductor::current_task()
                    .unwrap()
                    .set_name(format!("sleeper-{i}"));
                sleep(Duration::from_secs(i)).await;
            }))
            .await
            .unwrap();
        });
        for _ in 0..3 {
            yield_now().await;
        }
        let g = call_graph();
        let main_node = node(&g, "main");
        assert_eq!(main_node.state, TaskState::Suspended);
        assert_eq!(main_node.awaiting[0].kind, "gather");
        assert_eq!(
            children(&g, main_node),
            ["sleeper-1", "sleeper-2", "sleeper-3"]
        );
        for i in 1..=3u64 {
            let s = node(&g, &format!("sleeper-{i}"));
            assert_eq!(s.awaiting.len(), 1, "{g}");
            assert_eq!(s.awaiting[0].kind, "sleep");
            assert_eq!(s.awaiting[0].deadline_in, Some(Duration::from_secs(i)));
            assert_eq!(s.awaited_by, [main_node.id]);
        }
        let text = g.to_string();
        assert!(text.contains("Task-"), "{text}");
        assert!(
            text.contains("\"main\" suspended, awaiting gather"),
            "{text}"
        );
        assert!(
            text.contains("    ├── Task-")
                && text.contains("\"sleeper-1\" suspended, awaiting sleep (fires in 1.000s)"),
            "{text}"
        );
        main.cancel();
        let _ = main.await;
    });
}

#[test]
fn a_task_group_awaits_its_children_and_the_body_its_own_point() {
    debug_loop().block_on(async {
        let main = spawn_named("main", async {
            task_group(|tg| async move {
                let a = tg.spawn(async {
                    sleep(Duration::from_secs(10)).await;
                    Ok(())
                });
                a.set_name("child-a");
                let b = tg.spawn(async {
                    sleep(Duration::from_secs(20)).await;
                    Ok(())
                });
                b.set_name("child-b");
                sleep(Duration::from_secs(5)).await;
                Ok::<_, String>(())
            })
            .await
            .unwrap();
        });
        yield_now().await;
        yield_now().await;
        let g = call_graph();
        let m = node(&g, "main");
        let kinds: Vec<&str> = m.awaiting.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, ["sleep", "TaskGroup"], "{g}");
        assert_eq!(m.awaiting[0].deadline_in, Some(Duration::from_secs(5)));
        assert_eq!(children(&g, m), ["child-a", "child-b"]);
        assert_eq!(
            node(&g, "child-b").awaiting[0].deadline_in,
            Some(Duration::from_secs(20))
        );

        // The body is done: the group only waits for its children now.
        sleep(Duration::from_secs(6)).await;
        let g = call_graph();
        let m = node(&g, "main");
        let kinds: Vec<&str> = m.awaiting.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, ["TaskGroup"], "{g}");
        assert_eq!(
            node(&g, "child-a").awaiting[0].deadline_in,
            Some(Duration::from_secs(4))
        );
        main.cancel();
        let _ = main.await;
    });
}

#[test]
fn a_lock_wait_and_awaiting_a_task() {
    debug_loop().block_on(async {
        let lock = Rc::new(Lock::new());
        let guard = lock.try_acquire().unwrap();
        let l = lock.clone();
        let waiter = spawn_named("waiter", async move {
            let _g = l.acquire().await;
        });
        let joiner = spawn_named("joiner", async move { waiter.await.unwrap() });
        yield_now().await;
        yield_now().await;
        let g = call_graph();
        let w = node(&g, "waiter");
        assert_eq!(w.awaiting[0].kind, "acquire", "{g}");
        let j = node(&g, "joiner");
        assert_eq!(j.awaiting[0].kind, "task");
        assert_eq!(w.awaited_by, [j.id]);
        drop(guard);
        joiner.await.unwrap();
        // Done tasks leave the graph.
        assert!(call_graph().named("waiter").is_none());
    });
}

#[test]
fn a_socket_read() {
    debug_loop().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = spawn_named("reader", async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0; 16];
            s.read(&mut buf).await.unwrap()
        });
        let (mut server_side, _) = listener.accept().await.unwrap();
        // The reader waits for its first byte: the loop has polled it and parked it on the read.
        for _ in 0..5 {
            yield_now().await;
        }
        let g = call_graph();
        let r = node(&g, "reader");
        assert_eq!(r.awaiting.len(), 1, "{g}");
        assert_eq!(r.awaiting[0].kind, "read", "{g}");
        server_side.write_all(b"hi").await.unwrap();
        assert_eq!(reader.await.unwrap(), 2);
    });
}

#[test]
fn without_debug_mode_only_task_awaits_are_known() {
    Runtime::builder()
        .paused_clock()
        .debug(false)
        .build()
        .unwrap()
        .block_on(async {
            let sleeper = spawn_named("sleeper", sleep(Duration::from_secs(1)));
            let joiner = spawn_named("joiner", async move { sleeper.await.unwrap() });
            yield_now().await;
            yield_now().await;
            let g = call_graph();
            let j = node(&g, "joiner");
            assert_eq!(j.awaiting.len(), 1);
            assert_eq!(j.awaiting[0].kind, "task");
            assert!(node(&g, "sleeper").awaiting.is_empty());
            assert_eq!(node(&g, "sleeper").awaited_by, [j.id]);
            joiner.await.unwrap();
        });
}
