//! tokio-console sees conductor's sync primitives and sockets as resources, in the shapes
//! tokio's own take: each a `runtime.resource` where the user made it, with its state as
//! attributes (`locked`, `permits`, `is_set`, `size`, the bytes each way) and an async op per
//! wait, linked to the task that waits.

mod support;

use std::sync::Arc;

use conductor::sync::{Condition, Event, Lock, Mutex, Queue, Semaphore, mpsc};
use support::{Console, ResourceSeen, at_line, run_watched};

const FILE: &str = "tests/resources.rs";

/// Where the program makes each primitive.
#[derive(Debug)]
struct Lines {
    lock: u32,
    mutex: u32,
    semaphore: u32,
    event: u32,
    condition: u32,
    queue: u32,
    channel: u32,
}

/// Tasks that wait on each primitive, so that each has an async op polled by a named task, and
/// a Unix socket pair that carries five bytes.
fn program() -> Lines {
    conductor::run(async {
        let lock_line = line!() + 1;
        let lock = Arc::new(Lock::new());
        let mutex_line = line!() + 1;
        let mutex = Arc::new(Mutex::new(0u32));
        let semaphore_line = line!() + 1;
        let semaphore = Arc::new(Semaphore::new(2));
        let event_line = line!() + 1;
        let event = Arc::new(Event::new());
        let condition_line = line!() + 1;
        let condition = Arc::new(Condition::new(0u32));
        let queue_line = line!() + 1;
        let queue = Arc::new(Queue::new(1));
        let channel_line = line!() + 1;
        let (tx, mut rx) = mpsc::channel(1);

        let held = lock.acquire().await;
        let locker = {
            let (lock, mutex) = (lock.clone(), mutex.clone());
            conductor::spawn_named("console-locker", async move {
                let _g = lock.acquire().await;
                *mutex.lock().await += 1;
            })
        };
        let consumer = {
            let (event, semaphore, queue) = (event.clone(), semaphore.clone(), queue.clone());
            conductor::spawn_named("console-consumer", async move {
                event.wait().await;
                let _p = semaphore.acquire().await;
                queue.get().await.unwrap()
            })
        };
        let waiter = {
            let condition = condition.clone();
            conductor::spawn_named("console-waiter", async move {
                let n = condition.acquire().await.wait_for(|n| *n > 0).await;
                *n
            })
        };
        let receiver = conductor::spawn_named("console-receiver", async move {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        });
        let sender = conductor::spawn_named("console-sender", async move {
            for v in [1, 2] {
                tx.send(v).await.unwrap();
            }
        });
        conductor::yield_now().await;
        drop(held);
        event.set();
        queue.put(7).await.unwrap();
        {
            let mut n = condition.acquire().await;
            *n = 1;
            n.notify_all();
        }
        locker.await.unwrap();
        assert_eq!(consumer.await.unwrap(), 7);
        assert_eq!(waiter.await.unwrap(), 1);
        sender.await.unwrap();
        assert_eq!(receiver.await.unwrap(), [1, 2]);

        conductor::spawn_named("console-io", async {
            let (mut a, mut b) = conductor::net::UnixStream::pair().unwrap();
            a.write_all(b"hello").await.unwrap();
            let mut buf = [0; 5];
            b.read_exact(&mut buf).await.unwrap();
        })
        .await
        .unwrap();
        Lines {
            lock: lock_line,
            mutex: mutex_line,
            semaphore: semaphore_line,
            event: event_line,
            condition: condition_line,
            queue: queue_line,
            channel: channel_line,
        }
    })
}

fn one<'a>(console: &'a Console, concrete_type: &str) -> (u64, &'a ResourceSeen) {
    let found: Vec<_> = console.resources_of(concrete_type).collect();
    assert_eq!(
        found.len(),
        1,
        "one {concrete_type}: {:?}",
        console.resources
    );
    found[0]
}

/// The names of the tasks that polled the ops of resource `id`, by the ops' sources.
fn waiters(console: &Console, id: u64) -> Vec<(String, String)> {
    let mut v: Vec<_> = console
        .ops_on(id)
        .filter(|o| o.polls > 0)
        .map(|o| {
            let task = o.task.and_then(|t| console.task_name(t)).unwrap_or("?");
            (o.source.clone(), task.to_owned())
        })
        .collect();
    v.sort();
    v
}

fn pair(source: &str, task: &str) -> (String, String) {
    (source.to_owned(), task.to_owned())
}

#[test]
fn tokio_console_shows_sync_primitives_and_sockets_as_resources() {
    let names = [
        "Lock",
        "Mutex",
        "Semaphore",
        "Event",
        "Condition",
        "Queue",
        "mpsc::Channel",
    ];
    let ready = |c: &Console| {
        names.iter().all(|n| c.resources_of(n).next().is_some())
            && c.resources_of("UnixStream").count() == 2
            && c.task("console-io").is_some_and(|t| t.completed)
            && c.resources_of("UnixStream")
                .any(|(_, r)| r.attributes.get("bytes_read").is_some_and(|b| b == "5"))
    };
    let (lines, console) = run_watched(program, ready);

    for (name, line) in [
        ("Lock", lines.lock),
        ("Mutex", lines.mutex),
        ("Semaphore", lines.semaphore),
        ("Event", lines.event),
        ("Condition", lines.condition),
        ("Queue", lines.queue),
        ("mpsc::Channel", lines.channel),
    ] {
        let (_, r) = one(&console, name);
        assert_eq!(r.kind.as_deref(), Some("Sync"), "{r:?}");
        assert!(
            at_line(&r.location, FILE, line),
            "{name} at line {line}: {r:?}"
        );
    }

    // The state as tokio's primitives report it, as the program left it.
    let attr = |name: &str, key: &str| one(&console, name).1.attributes.get(key).cloned();
    assert_eq!(attr("Lock", "locked").as_deref(), Some("false"));
    assert_eq!(attr("Mutex", "locked").as_deref(), Some("false"));
    assert_eq!(attr("Condition", "locked").as_deref(), Some("false"));
    assert_eq!(attr("Semaphore", "permits").as_deref(), Some("2"));
    assert_eq!(attr("Event", "is_set").as_deref(), Some("true"));
    assert_eq!(attr("Queue", "size").as_deref(), Some("0"));
    assert_eq!(attr("mpsc::Channel", "size").as_deref(), Some("0"));

    // Each wait an async op of its resource, polled by the task that waited.
    let ops = |name: &str| waiters(&console, one(&console, name).0);
    assert!(
        ops("Lock").contains(&pair("Lock::acquire", "console-locker")),
        "{:?}",
        ops("Lock")
    );
    assert!(
        ops("Mutex").contains(&pair("Mutex::lock", "console-locker")),
        "{:?}",
        ops("Mutex")
    );
    assert_eq!(ops("Event"), [pair("Event::wait", "console-consumer")]);
    assert_eq!(
        ops("Semaphore"),
        [pair("Semaphore::acquire", "console-consumer")]
    );
    assert!(
        ops("Queue").contains(&pair("Queue::get", "console-consumer")),
        "{:?}",
        ops("Queue")
    );
    assert!(
        ops("Condition").contains(&pair("Condition::wait", "console-waiter")),
        "{:?}",
        ops("Condition")
    );

    let channel = ops("mpsc::Channel");
    assert!(
        channel.contains(&pair("Receiver::recv", "console-receiver"))
            && channel.contains(&pair("Sender::send", "console-sender")),
        "{channel:?}"
    );

    // The socket pair: a resource each, of kind "Io", the bytes counted each way, and a read
    // and a write op polled by the task that used them.
    let sockets: Vec<_> = console.resources_of("UnixStream").collect();
    for (_, r) in &sockets {
        assert_eq!(r.kind.as_deref(), Some("Io"), "{r:?}");
    }
    let count = |key: &str| -> Vec<String> {
        let mut v: Vec<_> = sockets
            .iter()
            .filter_map(|(_, r)| r.attributes.get(key).cloned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(count("bytes_written"), ["5"], "{sockets:?}");
    assert_eq!(count("bytes_read"), ["5"], "{sockets:?}");
    let io_ops: Vec<_> = sockets
        .iter()
        .flat_map(|(id, _)| waiters(&console, *id))
        .collect();
    assert!(
        io_ops.contains(&pair("UnixStream::write", "console-io")),
        "{io_ops:?}"
    );
    assert!(
        io_ops.contains(&pair("UnixStream::read", "console-io")),
        "{io_ops:?}"
    );
}
