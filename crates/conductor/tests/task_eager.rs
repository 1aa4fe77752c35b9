//! Eager tasks (asyncio 3.12's `eager_task_factory`, `create_task(eager_start=True)`): each test
//! pins what the equivalent Python program prints on 3.12 and 3.13.

mod support;

use std::rc::Rc;

use conductor::{Runtime, TaskState};
use support::{Log, push};

fn eager_loop() -> Runtime {
    Runtime::builder()
        .paused_clock()
        .eager_tasks(true)
        .build()
        .unwrap()
}

async fn child(n: u32, suspend: bool, log: Log) -> u32 {
    push(&log, format!("child{n} start"));
    if suspend {
        conductor::yield_now().await;
    }
    push(&log, format!("child{n} end"));
    n
}

/// ```python
/// loop.set_task_factory(asyncio.eager_task_factory)
/// log.append("before")
/// t1 = asyncio.create_task(child(1, False)); log.append(f"t1 done={t1.done()}")
/// t2 = asyncio.create_task(child(2, True));  log.append(f"t2 done={t2.done()}")
/// t3 = asyncio.create_task(child(3, False)); log.append(f"t3 done={t3.done()}")
/// loop.call_soon(lambda: log.append("callback"))
/// await asyncio.sleep(0); log.append("after sleep")
/// log.append(f"res {await asyncio.gather(t1, t2, t3)}")
/// ```
/// prints before, child1 start, child1 end, t1 done=True, child2 start, t2 done=False,
/// child3 start, child3 end, t3 done=True, child2 end, callback, after sleep, res [1, 2, 3].
#[test]
fn eager_tasks_run_until_their_first_suspension_inside_spawn() {
    let log: Log = Rc::default();
    let l = log.clone();
    eager_loop().block_on(async move {
        push(&l, "before");
        let t1 = conductor::spawn(child(1, false, l.clone()));
        push(&l, format!("t1 done={}", t1.is_done()));
        let t2 = conductor::spawn(child(2, true, l.clone()));
        push(&l, format!("t2 done={}", t2.is_done()));
        let t3 = conductor::spawn(child(3, false, l.clone()));
        push(&l, format!("t3 done={}", t3.is_done()));
        let c = l.clone();
        conductor::call_soon(move || push(&c, "callback"));
        conductor::yield_now().await;
        push(&l, "after sleep");
        let res = [t1.await.unwrap(), t2.await.unwrap(), t3.await.unwrap()];
        push(&l, format!("res {res:?}"));
    });
    assert_eq!(
        *log.borrow(),
        [
            "before",
            "child1 start",
            "child1 end",
            "t1 done=true",
            "child2 start",
            "t2 done=false",
            "child3 start",
            "child3 end",
            "t3 done=true",
            "child2 end",
            "callback",
            "after sleep",
            "res [1, 2, 3]"
        ]
    );
}

/// The eager task is the current task while it runs, and the spawner is again after; its name
/// is set before its first step (asyncio 3.13 still names it `Task-N` there: see the mapping).
#[test]
fn the_eager_task_is_current_while_it_runs() {
    eager_loop().block_on(async {
        let me = conductor::current_task().unwrap();
        let t = conductor::spawn_named("eager-one", async {
            conductor::current_task().unwrap().name().into_owned()
        });
        assert!(t.is_done());
        assert!(conductor::current_task().unwrap().same_task(&me));
        assert_eq!(t.await.unwrap(), "eager-one");
    });
}

/// ```python
/// async def boom(): raise ValueError("x")
/// tb = asyncio.create_task(boom())   # eager
/// log.append(f"boom done={tb.done()} exc={tb.exception()!r}")
/// ```
/// prints `boom done=True exc=ValueError('x')`: a failure during the eager step ends the task,
/// not the spawner.
#[test]
fn a_panic_in_the_eager_step_ends_the_task_not_the_spawner() {
    eager_loop().block_on(async {
        let t = conductor::spawn(async {
            if true {
                panic!("x");
            }
        });
        assert_eq!(t.state(), TaskState::Failed);
        assert!(t.await.unwrap_err().is_panic());
    });
}

/// An eager task spawned inside a `catch_cancel` of the spawner neither sees nor disturbs the
/// spawner's scopes: cancelling the spawner later reaches the spawner's catch, and the child's
/// own scopes are its own.
#[test]
fn the_spawner_keeps_its_cancellation_scopes_across_an_eager_start() {
    let rt = eager_loop();
    let caught = rt.block_on(async {
        let spawner = conductor::spawn_eager(async {
            conductor::catch_cancel(async {
                let child = conductor::spawn(async {
                    conductor::catch_cancel(std::future::pending::<()>())
                        .await
                        .is_err()
                });
                conductor::sleep(std::time::Duration::from_secs(10)).await;
                child.detach();
            })
            .await
            .is_err()
        });
        conductor::yield_now().await;
        spawner.cancel();
        spawner.await.unwrap()
    });
    assert!(caught, "the spawner's own catch received its cancellation");
}

/// Per spawn: `spawn_eager` on a lazy loop, and `Builder::eager(false)` on an eager one.
#[test]
fn eagerness_is_chosen_per_spawn_too() {
    let lazy = Runtime::builder().paused_clock().build().unwrap();
    lazy.block_on(async {
        assert!(conductor::spawn_eager(async {}).is_done());
        assert!(!conductor::spawn(async {}).is_done());
    });
    eager_loop().block_on(async {
        let t = conductor::task::Builder::new().eager(false).spawn(async {});
        assert!(!t.is_done());
        assert_eq!(t.state(), TaskState::Ready);
    });
}

/// asyncio only starts a task eagerly while the loop runs: the main task of `run` starts at the
/// first iteration, and so does a task spawned on the runtime from outside.
#[test]
fn tasks_spawned_before_the_loop_runs_start_lazily() {
    let rt = eager_loop();
    let t = rt.spawn(async { 1 });
    assert!(!t.is_done());
    assert_eq!(rt.block_on(t).unwrap(), 1);
}

/// A task that finishes in its eager step never goes through the ready queue: the loop counts
/// no poll for it.
#[test]
fn a_task_that_finishes_eagerly_costs_no_loop_poll() {
    let rt = eager_loop();
    rt.block_on(async {});
    let before = rt.stats().polls;
    rt.block_on(async {
        for _ in 0..100 {
            conductor::spawn(async {}).detach();
        }
    });
    assert_eq!(
        rt.stats().polls - before,
        1,
        "only the main task was polled by the loop"
    );
}
