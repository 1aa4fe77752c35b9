//! What both checks share: starting the real console-subscriber, and reading its gRPC stream
//! into what `tokio-console` would show (tasks, resources with their attributes, async ops).

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
pub struct TaskSeen {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub location: Option<Location>,
    pub polls: u64,
    pub wakes: u64,
    pub self_wakes: u64,
    pub completed: bool,
}

/// A resource as the console shows it.
#[derive(Debug, Default)]
pub struct ResourceSeen {
    pub concrete_type: String,
    pub timer: bool,
    /// The kind's name when it is not one console knows ("Sync", "Io").
    pub kind: Option<String>,
    pub location: Option<Location>,
    /// The latest attributes, by name (`locked`, `permits`...), as text.
    pub attributes: HashMap<String, String>,
    /// Made inside another resource (hidden by the console unless asked).
    pub internal: bool,
}

/// An async op as the console shows it.
#[derive(Debug, Default)]
pub struct AsyncOpSeen {
    pub source: String,
    pub resource: u64,
    /// The task that polled it last.
    pub task: Option<u64>,
    pub polls: u64,
}

#[derive(Debug, Default)]
pub struct Console {
    field_names: HashMap<u64, Vec<String>>,
    pub tasks: HashMap<u64, TaskSeen>,
    pub resources: HashMap<u64, ResourceSeen>,
    pub async_ops: HashMap<u64, AsyncOpSeen>,
}

impl Console {
    pub fn task(&self, name: &str) -> Option<&TaskSeen> {
        self.tasks
            .values()
            .find(|t| t.name.as_deref() == Some(name))
    }

    /// The name of the task with console id `id`.
    pub fn task_name(&self, id: u64) -> Option<&str> {
        self.tasks.get(&id)?.name.as_deref()
    }

    /// The resources of `concrete_type` a user made (not internal ones).
    pub fn resources_of(&self, concrete_type: &str) -> impl Iterator<Item = (u64, &ResourceSeen)> {
        let concrete_type = concrete_type.to_owned();
        self.resources
            .iter()
            .filter(move |(_, r)| r.concrete_type == concrete_type && !r.internal)
            .map(|(id, r)| (*id, r))
    }

    /// The async ops on resource `id`.
    pub fn ops_on(&self, id: u64) -> impl Iterator<Item = &AsyncOpSeen> {
        self.async_ops.values().filter(move |o| o.resource == id)
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
                let Some(id) = r.id.as_ref().map(|i| i.id) else {
                    continue;
                };
                let seen = self.resources.entry(id).or_default();
                match r.kind.and_then(|k| k.kind) {
                    Some(Kind::Known(k)) => seen.timer = k == Known::Timer as i32,
                    Some(Kind::Other(other)) => seen.kind = Some(other),
                    None => {}
                }
                seen.concrete_type = r.concrete_type;
                seen.location = r.location;
                seen.internal = r.is_internal;
            }
            for (id, stats) in resources.stats_update {
                let attributes: Vec<_> = stats
                    .attributes
                    .iter()
                    .filter_map(|a| self.field(a.field.as_ref()?))
                    .collect();
                let seen = self.resources.entry(id).or_default();
                seen.attributes.extend(attributes);
            }
        }
        if let Some(ops) = update.async_op_update {
            for op in ops.new_async_ops {
                let Some(id) = op.id.as_ref().map(|i| i.id) else {
                    continue;
                };
                let seen = self.async_ops.entry(id).or_default();
                seen.source = op.source;
                seen.resource = op.resource_id.map_or(0, |i| i.id);
            }
            for (id, stats) in ops.stats_update {
                let seen = self.async_ops.entry(id).or_default();
                if let Some(t) = stats.task_id {
                    seen.task = Some(t.id);
                }
                seen.polls = stats.poll_stats.map_or(0, |p| p.polls);
            }
        }
    }
}

/// Runs `program` under the real console-subscriber, then reads the console's stream until
/// `done` holds (for at most 60 seconds).
pub fn run_watched<T>(
    program: impl FnOnce() -> T,
    done: impl Fn(&Console) -> bool,
) -> (T, Console) {
    let addr = free_port();
    let layer = console_subscriber::ConsoleLayer::builder()
        .server_addr(addr)
        .publish_interval(Duration::from_millis(20))
        .spawn();
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let out = program();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let console = rt.block_on(watch(addr, done));
    (out, console)
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

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

/// Whether `location` is line `line` of the test file `file` (`"tests/console.rs"`).
pub fn at_line(location: &Option<Location>, file: &str, line: u32) -> bool {
    location.as_ref().is_some_and(|l| {
        l.file.as_deref().is_some_and(|f| f.ends_with(file)) && l.line == Some(line)
    })
}
