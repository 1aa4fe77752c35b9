//! tokio-console sees conductor's tasks: a conductor program runs under the real
//! console-subscriber, and this test reads console-subscriber's gRPC stream as `tokio-console`
//! does, then checks the tasks' names, spawn locations, polls and wakes, and the timers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use console_api::field::{Name, Value};
use console_api::instrument::InstrumentRequest;
use console_api::instrument::instrument_client::InstrumentClient;
use console_api::resources::resource::kind::{Kind, Known};
use console_api::{Field, Location};
use tracing_subscriber::layer::SubscriberExt;

/// A task as the console shows it.
#[derive(Debug, Default)]
struct TaskSeen {
    name: Option<String>,
    kind: Option<String>,
    location: Option<Location>,
    polls: u64,
    wakes: u64,
    self_wakes: u64,
    completed: bool,
}

/// A resource as the console shows it.
#[derive(Debug)]
struct ResourceSeen {
    concrete_type: String,
    timer: bool,
    location: Option<Location>,
}

#[derive(Debug, Default)]
struct Console {
    field_names: HashMap<u64, Vec<String>>,
    tasks: HashMap<u64, TaskSeen>,
    resources: Vec<ResourceSeen>,
}

impl Console {
    fn task(&self, name: &str) -> Option<&TaskSeen> {
        self.tasks
            .values()
            .find(|t| t.name.as_deref() == Some(name))
    }

    fn field(&self, f: &Field) -> Option<(String, String)> {
        let name = match f.name.as_ref()? {
            Name::StrName(s) => s.clone(),
            Name::NameIdx(i) => {
                let meta = f.metadata_id.as_ref()?.id;
                self.field_names.get(&meta)?.get(*i as usize)?.clone()
            }
        };
        let value = match f.value.as_ref()? {
            Value::StrVal(s) | Value::DebugVal(s) => s.clone(),
            Value::U64Val(n) => n.to_string(),
            Value::I64Val(n) => n.to_string(),
            Value::BoolVal(b) => b.to_string(),
        };
        Some((name, value))
    }

    fn apply(&mut self, update: console_api::instrument::Update) {
        for m in update.new_metadata.into_iter().flat_map(|m| m.metadata) {
            if let (Some(id), Some(meta)) = (m.id, m.metadata) {
                self.field_names.insert(id.id, meta.field_names);
            }
        }
        if let Some(tasks) = update.task_update {
            for t in tasks.new_tasks {
                let Some(id) = t.id.as_ref().map(|i| i.id) else {
                    continue;
                };
                let fields: Vec<_> = t.fields.iter().filter_map(|f| self.field(f)).collect();
                let seen = self.tasks.entry(id).or_default();
                seen.location = t.location;
                for (name, value) in fields {
                    match name.as_str() {
                        "task.name" => seen.name = Some(value),
                        "kind" => seen.kind = Some(value),
                        _ => {}
                    }
                }
            }
            for (id, stats) in tasks.stats_update {
                let seen = self.tasks.entry(id).or_default();
                seen.polls = stats.poll_stats.map_or(0, |p| p.polls);
                seen.wakes = stats.wakes;
                seen.self_wakes = stats.self_wakes;
                seen.completed = stats.dropped_at.is_some();
            }
        }
        if let Some(resources) = update.resource_update {
            for r in resources.new_resources {
                let timer = matches!(
                    r.kind.and_then(|k| k.kind),
                    Some(Kind::Known(k)) if k == Known::Timer as i32
                );
                self.resources.push(ResourceSeen {
                    concrete_type: r.concrete_type,
                    timer,
                    location: r.location,
                });
            }
        }
    }
}

/// Where the program spawns and sleeps, to compare with the console's locations.
#[derive(Debug)]
struct Lines {
    sleeper: u32,
    yielder: u32,
    sleep: u32,
}

/// The program the console watches: a task that sleeps (woken by its timer), one that yields
/// (waking itself), both awaited.
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
        Lines {
            sleeper: sleeper_line,
            yielder: yielder_line,
            sleep: sleeper_line + 2,
        }
    })
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Reads the console's stream until `done` holds, for at most 60 seconds.
async fn watch(addr: SocketAddr, done: impl Fn(&Console) -> bool) -> Console {
    let mut console = Console::default();
    let read = async {
        let mut client = loop {
            match InstrumentClient::connect(format!("http://{addr}")).await {
                Ok(c) => break c,
                // The subscriber's server starts on its own thread: not listening yet.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let mut stream = client
            .watch_updates(InstrumentRequest {})
            .await
            .expect("watch_updates")
            .into_inner();
        while let Some(update) = stream.message().await.expect("the console's stream") {
            console.apply(update);
            if done(&console) {
                return;
            }
        }
    };
    let finished = tokio::time::timeout(Duration::from_secs(60), read).await;
    if finished.is_err() {
        eprintln!("the console never showed everything expected");
    }
    console
}

fn at_line(location: &Option<Location>, line: u32) -> bool {
    location.as_ref().is_some_and(|l| {
        l.file
            .as_deref()
            .is_some_and(|f| f.ends_with("tests/console.rs"))
            && l.line == Some(line)
    })
}

#[test]
fn tokio_console_shows_conductor_tasks_with_names_locations_polls_and_wakes() {
    let addr = free_port();
    let layer = console_subscriber::ConsoleLayer::builder()
        .server_addr(addr)
        .publish_interval(Duration::from_millis(20))
        .spawn();
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    let lines = program();

    let ready = |c: &Console| {
        ["console-sleeper", "console-yielder"]
            .iter()
            .all(|n| c.task(n).is_some_and(|t| t.completed && t.polls > 0))
            && c.resources.iter().any(|r| r.timer)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let console = rt.block_on(watch(addr, ready));

    let sleeper = console.task("console-sleeper").expect("the sleeper");
    assert!(
        at_line(&sleeper.location, lines.sleeper),
        "{sleeper:?}, {lines:?}"
    );
    assert_eq!(sleeper.kind.as_deref(), Some("local"));
    assert!(sleeper.completed, "{sleeper:?}");
    assert_eq!(sleeper.polls, 4, "three sleeps: four polls ({sleeper:?})");
    assert!(sleeper.wakes >= 3, "each timer woke it ({sleeper:?})");

    let yielder = console.task("console-yielder").expect("the yielder");
    assert!(
        at_line(&yielder.location, lines.yielder),
        "{yielder:?}, {lines:?}"
    );
    assert_eq!(yielder.polls, 5, "four yields: five polls ({yielder:?})");
    assert_eq!(
        yielder.self_wakes, 4,
        "each yield woke itself ({yielder:?})"
    );
    assert!(yielder.wakes >= yielder.self_wakes);

    let timer = console
        .resources
        .iter()
        .find(|r| r.timer)
        .expect("a timer resource");
    assert_eq!(timer.concrete_type, "Sleep");
    assert!(
        at_line(&timer.location, lines.sleep),
        "{timer:?}, {lines:?}"
    );
}
