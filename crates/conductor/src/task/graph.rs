//! The await graph (asyncio 3.14's `capture_call_graph` and `python -m asyncio pstree`): which
//! task awaits which, and where each task is suspended. Public as `conductor::debug`'s; it lives
//! with the task system because the loop's debug endpoint (in `runtime`) serves it too, and the
//! engine never calls into `debug`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::Location;
use std::ptr::NonNull;
use std::time::Duration;

use super::{TaskRef, TaskState, all_tasks};
use crate::runtime::snapshot::TaskRow;

/// One place a task is suspended in: the innermost conductor future it awaits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AwaitPoint {
    /// What is awaited: `"sleep"`, `"acquire"` (a lock or a semaphore), `"Queue.get"`, `"read"`
    /// or `"write"` (a socket, a pipe...), `"task"` (awaiting a task), `"gather"`,
    /// `"TaskGroup"`, `"shield"`.
    pub kind: &'static str,
    /// More about it: which IO source, how many permits.
    pub detail: Option<String>,
    /// For a timer: how long until it fires, as the loop's clock reads now.
    pub deadline_in: Option<Duration>,
    /// The ids of the tasks this point waits for.
    pub awaits: Vec<u64>,
}

impl fmt::Display for AwaitPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind)?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        if let Some(d) = self.deadline_in {
            write!(f, " (fires in {d:.3?})")?;
        }
        Ok(())
    }
}

/// A task of the graph.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskNode {
    /// The task's id.
    pub id: u64,
    /// The task's name.
    pub name: String,
    /// Its state.
    pub state: TaskState,
    /// Where it was spawned.
    pub spawned_at: &'static Location<'static>,
    /// Where it is suspended (recorded in debug mode; otherwise only `task.await` is known).
    pub awaiting: Vec<AwaitPoint>,
    /// The ids of the tasks awaiting this one.
    pub awaited_by: Vec<u64>,
}

/// Every task of the loop that is not done, with its await points and who awaits it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallGraph {
    /// The tasks, by id.
    pub tasks: Vec<TaskNode>,
}

impl CallGraph {
    /// The task with this id.
    pub fn task(&self, id: u64) -> Option<&TaskNode> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// The first task with this name.
    pub fn named(&self, name: &str) -> Option<&TaskNode> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// The tasks nobody awaits: the roots of the tree.
    pub fn roots(&self) -> impl Iterator<Item = &TaskNode> {
        self.tasks.iter().filter(|t| t.awaited_by.is_empty())
    }

    fn write_task(
        &self,
        f: &mut fmt::Formatter<'_>,
        node: &TaskNode,
        prefix: &str,
        last: bool,
        seen: &mut HashSet<u64>,
    ) -> fmt::Result {
        let (branch, cont) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        write!(
            f,
            "{prefix}{branch}Task-{} {:?} {}",
            node.id, node.name, node.state
        )?;
        if !node.awaiting.is_empty() {
            let points: Vec<String> = node.awaiting.iter().map(ToString::to_string).collect();
            write!(f, ", awaiting {}", points.join(", "))?;
        }
        writeln!(f, "  [spawned at {}]", node.spawned_at)?;
        if !seen.insert(node.id) {
            return Ok(()); // a cycle: printed once
        }
        let prefix = format!("{prefix}{cont}");
        let children: Vec<&TaskNode> = node
            .awaiting
            .iter()
            .flat_map(|p| &p.awaits)
            .filter_map(|id| self.task(*id))
            .collect();
        for (i, child) in children.iter().enumerate() {
            self.write_task(f, child, &prefix, i + 1 == children.len(), seen)?;
        }
        Ok(())
    }
}

/// The tree, from the tasks nobody awaits down to what each awaits (asyncio's `pstree`).
impl fmt::Display for CallGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut seen = HashSet::new();
        let roots: Vec<&TaskNode> = self.roots().collect();
        for (i, root) in roots.iter().enumerate() {
            self.write_task(f, root, "", i + 1 == roots.len(), &mut seen)?;
        }
        // Tasks only reachable through a cycle.
        for node in &self.tasks {
            if !seen.contains(&node.id) {
                self.write_task(f, node, "", true, &mut seen)?;
            }
        }
        Ok(())
    }
}

/// The await graph of this thread's loop (asyncio's `capture_call_graph`, for every task): each
/// task not done, the await points it is suspended in, and the tasks awaiting it. Empty outside
/// a loop.
///
/// Await points are recorded in debug mode ([`Builder::debug`](crate::Builder::debug) or
/// `CONDUCTOR_DEBUG=1`); without it, the graph still knows which task awaits which through
/// `task.await`. Its `Display` is the tree `conductor-pstree` prints.
///
/// ```
/// use std::time::Duration;
/// let rt = conductor::Runtime::builder().paused_clock().debug(true).build().unwrap();
/// rt.block_on(async {
///     let sleeper = conductor::spawn_named("sleeper", conductor::sleep(Duration::from_secs(5)));
///     conductor::yield_now().await;
///     let graph = conductor::debug::call_graph();
///     let node = graph.named("sleeper").unwrap();
///     assert_eq!(node.awaiting[0].kind, "sleep");
///     assert_eq!(node.awaiting[0].deadline_in, Some(Duration::from_secs(5)));
///     sleeper.cancel();
/// });
/// ```
pub fn call_graph() -> CallGraph {
    graph_of(&all_tasks())
}

/// The graph of `tasks`: one pass over them and one over the edges (the live view builds it
/// for 100,000 tasks).
fn graph_of(tasks: &[TaskRef]) -> CallGraph {
    let now = crate::context::in_loop().then(crate::context::now);
    let ids: HashMap<NonNull<()>, u64> = tasks.iter().map(|t| (t.erased(), t.id())).collect();
    let live: HashSet<usize> = ids.keys().map(|p| p.as_ptr() as usize).collect();
    crate::trace::retain(&live);
    let id_of = |p: NonNull<()>| ids.get(&p).copied();
    let mut nodes: Vec<TaskNode> = tasks.iter().map(|t| node_of(t, &id_of, now)).collect();
    let index: HashMap<u64, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    // `task.await` from a task of this loop is known without debug mode, from the join waker.
    for t in tasks {
        let Some(awaiter) = t.awaited_by().and_then(|p| ids.get(&p)) else {
            continue;
        };
        let id = t.id();
        let a = &mut nodes[index[awaiter]];
        if !a.awaiting.iter().any(|p| p.awaits.contains(&id)) {
            a.awaiting.push(AwaitPoint {
                kind: "task",
                detail: None,
                deadline_in: None,
                awaits: vec![id],
            });
        }
    }
    let edges: Vec<(u64, u64)> = nodes
        .iter()
        .flat_map(|n| {
            let parent = n.id;
            n.awaiting
                .iter()
                .flat_map(move |p| p.awaits.iter().map(move |c| (parent, *c)))
        })
        .collect();
    for (parent, child) in edges {
        if let Some(&c) = index.get(&child)
            && !nodes[c].awaited_by.contains(&parent)
        {
            nodes[c].awaited_by.push(parent);
        }
    }
    CallGraph { tasks: nodes }
}

/// The live tasks of a snapshot, as its one pass over them found them (address, id, state), in
/// the registry's order. Nothing sorts or hashes them: the rows need the ids of a few addresses
/// only (those of edges that touch the page), resolved in one scan.
pub(crate) struct Live(Vec<(usize, u64, TaskState)>);

impl Live {
    pub(crate) fn with_capacity(n: usize) -> Live {
        Live(Vec::with_capacity(n))
    }

    pub(crate) fn push(&mut self, t: NonNull<()>, id: u64, state: TaskState) {
        self.0.push((t.as_ptr() as usize, id, state));
    }

    /// The id and state of each address in `wanted` (sorted, deduplicated) that is a live task.
    fn resolve(&self, wanted: &[usize]) -> Vec<Option<(u64, TaskState)>> {
        let mut found = vec![None; wanted.len()];
        if !wanted.is_empty() {
            for &(addr, id, state) in &self.0 {
                if let Ok(i) = wanted.binary_search(&addr) {
                    found[i] = Some((id, state));
                }
            }
        }
        found
    }
}

/// An edge of the await graph by addresses: `parent` awaits `child`, known from the child's
/// join waker (`from_join`) or from one of the parent's await points.
struct Edge {
    parent: usize,
    child: usize,
    from_join: bool,
}

/// The live view's rows of `page`, given what the snapshot's pass over every task found: the
/// tasks (`live`) and each awaited task's address with its awaiter's (`awaited`, from the join
/// wakers). Only edges that touch the page are kept, and only their addresses are resolved to
/// ids, so that a page of 50 rows of 100,000 tasks costs no graph of them.
pub(crate) fn rows_of(
    live: &Live,
    awaited: &[(NonNull<()>, NonNull<()>)],
    page: &[&TaskRef],
) -> Vec<TaskRow> {
    let now = crate::context::in_loop().then(crate::context::now);
    let mut on_page: Vec<usize> = page.iter().map(|t| t.erased().as_ptr() as usize).collect();
    on_page.sort_unstable();
    let touches = |a: usize| on_page.binary_search(&a).is_ok();
    let mut edges: Vec<Edge> = awaited
        .iter()
        .map(|(p, c)| (p.as_ptr() as usize, c.as_ptr() as usize))
        .filter(|&(p, c)| touches(p) || touches(c))
        .map(|(parent, child)| Edge {
            parent,
            child,
            from_join: true,
        })
        .collect();
    crate::trace::for_each_point(|task, point| {
        let parent = task.as_ptr() as usize;
        for c in &point.awaits {
            let child = c.as_ptr() as usize;
            if touches(parent) || touches(child) {
                edges.push(Edge {
                    parent,
                    child,
                    from_join: false,
                });
            }
        }
    });
    let mut wanted: Vec<usize> = edges.iter().flat_map(|e| [e.parent, e.child]).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let found = live.resolve(&wanted);
    let get = |a: usize| wanted.binary_search(&a).ok().and_then(|i| found[i]);
    let id_of = |p: NonNull<()>| get(p.as_ptr() as usize).map(|(id, _)| id);
    let mut rows: Vec<TaskRow> = page.iter().map(|t| row_of(t, &id_of, now)).collect();
    let at: HashMap<u64, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    for e in edges {
        let (Some((parent, parent_state)), Some((child, _))) = (get(e.parent), get(e.child)) else {
            continue;
        };
        // A point is the parent's current suspension only while it is suspended.
        if !e.from_join && parent_state != TaskState::Suspended {
            continue;
        }
        if e.from_join
            && let Some(&p) = at.get(&parent)
            && !rows[p].awaiting.iter().any(|a| a.awaits.contains(&child))
        {
            rows[p].awaiting.push(AwaitPoint {
                kind: "task",
                detail: None,
                deadline_in: None,
                awaits: vec![child],
            });
        }
        if let Some(&c) = at.get(&child)
            && !rows[c].awaited_by.contains(&parent)
        {
            rows[c].awaited_by.push(parent);
        }
    }
    rows
}

fn row_of(
    t: &TaskRef,
    id_of: &dyn Fn(NonNull<()>) -> Option<u64>,
    now: Option<std::time::Instant>,
) -> TaskRow {
    let node = node_of(t, id_of, now);
    let steps = crate::trace::steps_of(t.erased());
    TaskRow {
        id: node.id,
        name: node.name,
        state: node.state,
        cancelling: t.cancelling(),
        spawned_at: node.spawned_at,
        age: steps.map(|s| s.first.elapsed()),
        polls: steps.map(|s| s.polls),
        busy: steps.map(|s| s.busy),
        awaiting: node.awaiting,
        awaited_by: Vec::new(),
    }
}

fn node_of(
    t: &TaskRef,
    id_of: &dyn Fn(NonNull<()>) -> Option<u64>,
    now: Option<std::time::Instant>,
) -> TaskNode {
    let state = t.state();
    // Points are the task's current suspension only while it is suspended.
    let points = if state == TaskState::Suspended {
        crate::trace::points_of(t.erased())
    } else {
        Vec::new()
    };
    TaskNode {
        id: t.id(),
        name: t.name().into_owned(),
        state,
        spawned_at: t.spawned_at(),
        awaiting: points
            .into_iter()
            .map(|p| AwaitPoint {
                kind: p.kind,
                detail: p.detail,
                deadline_in: p
                    .deadline
                    .zip(now)
                    .map(|(at, now)| at.saturating_duration_since(now)),
                awaits: p.awaits.iter().filter_map(|a| id_of(*a)).collect(),
            })
            .collect(),
        awaited_by: Vec::new(),
    }
}

/// [`call_graph`] as text: the tree `conductor-pstree` prints.
pub fn pstree() -> String {
    call_graph().to_string()
}
