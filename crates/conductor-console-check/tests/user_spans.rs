//! A user's `tracing` spans inside a task are children of the task's `runtime.spawn` span,
//! across the task's polls, and the task's span has no parent (it outlives its spawner's).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Instrument, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// What the layer saw: each span by id (its name, its `task.name` if any, its parent's id),
/// and each user event with the names of its enclosing spans, outermost first.
#[derive(Default)]
struct Seen {
    spans: HashMap<u64, (String, Option<String>, Option<u64>)>,
    events: Vec<(String, Vec<String>)>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Seen>>);

struct TaskName(Option<String>);

impl Visit for TaskName {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "task.name" {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut name = TaskName(None);
        attrs.record(&mut name);
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.id().into_u64());
        let entry = (attrs.metadata().name().to_owned(), name.0, parent);
        self.0.lock().unwrap().spans.insert(id.into_u64(), entry);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "user" {
            return;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        let scope = ctx
            .event_scope(event)
            .map(|s| s.from_root().map(|s| s.name().to_owned()).collect())
            .unwrap_or_default();
        self.0.lock().unwrap().events.push((message.0, scope));
    }
}

#[test]
fn user_spans_in_a_task_are_children_of_its_span_across_polls() {
    let recorder = Recorder::default();
    let _subscriber =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));
    conductor::run(async {
        let outer = tracing::info_span!(target: "user", "spawner");
        let worker = outer.in_scope(|| {
            conductor::spawn_named("worker", async {
                let span = tracing::info_span!(target: "user", "user_work");
                async {
                    tracing::info!(target: "user", "before");
                    conductor::sleep(Duration::from_millis(1)).await;
                    tracing::info!(target: "user", "after");
                }
                .instrument(span)
                .await;
            })
        });
        worker.await.unwrap();
    });

    let seen = recorder.0.lock().unwrap();
    let (task_id, (_, _, task_parent)) = seen
        .spans
        .iter()
        .find(|(_, (name, task, _))| name == "runtime.spawn" && task.as_deref() == Some("worker"))
        .expect("the worker's task span");
    assert_eq!(
        *task_parent, None,
        "a task span has no parent, not even its spawner's span"
    );
    let user = seen
        .spans
        .values()
        .find(|(name, _, _)| name == "user_work")
        .expect("the user's span");
    assert_eq!(
        user.2,
        Some(*task_id),
        "the user's span is a child of the task's span"
    );
    let scope = vec!["runtime.spawn".to_owned(), "user_work".to_owned()];
    assert_eq!(
        seen.events,
        vec![
            ("before".to_owned(), scope.clone()),
            ("after".to_owned(), scope)
        ],
        "in the first poll and in the second, after the sleep"
    );
}
