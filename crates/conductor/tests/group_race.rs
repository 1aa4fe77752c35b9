//! Racing: `wait` over tasks of different output types, and `race` over futures.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use conductor::sync::Event;
use conductor::{
    ReturnWhen, Waitable, as_completed, catch_cancel, race, sleep, spawn, wait, yield_now,
};
use support::{TimedLog, paused};

#[test]
fn wait_races_tasks_of_different_output_types() {
    // asyncio: `done, _ = await asyncio.wait({stop_task, work_task}, return_when=FIRST_COMPLETED)`
    // with `stop_task` a `ctrl_c()`-like waiter; here an Event stands for the signal.
    paused().block_on(async {
        let stop = Rc::new(Event::new());
        let s = stop.clone();
        let signal = spawn(async move { s.wait().await }); // Task<()>
        let work = spawn(async {
            sleep(Duration::from_secs(10)).await;
            Ok::<u64, String>(42)
        }); // Task<Result<u64, String>>
        let s = stop.clone();
        spawn(async move {
            sleep(Duration::from_secs(1)).await;
            s.set();
        })
        .detach();
        let tasks: [&dyn Waitable; 2] = [&signal, &work];
        let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted, None).await;
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert!(done[0].as_task_ref().same_task(&signal));
        assert!(signal.is_done() && !work.is_done());
        work.cancel();
    });
}

#[conductor::test(paused)]
async fn as_completed_and_wait_take_untyped_task_refs() {
    let a = spawn(async {
        sleep(Duration::from_secs(2)).await;
        "two"
    });
    let b = spawn(async {
        sleep(Duration::from_secs(1)).await;
        1u8
    });
    let mut stream = as_completed([a.task_ref(), b.task_ref()]);
    assert!(stream.next().await.unwrap().same_task(&b));
    assert!(stream.next().await.unwrap().same_task(&a));
    let (done, _) = wait([a.task_ref(), b.task_ref()], ReturnWhen::AllCompleted, None).await;
    assert_eq!(done.len(), 2);
}

/// A future that sleeps `s` seconds, and on cancellation cleans up for `cleanup` seconds.
async fn work(log: TimedLog, name: &'static str, s: u64, cleanup: u64) -> &'static str {
    match catch_cancel(sleep(Duration::from_secs(s))).await {
        Ok(()) => {
            log.push(format!("{name} finished"));
            name
        }
        Err(cancelled) => {
            log.push(format!("{name} cancelled, cleaning up"));
            sleep(Duration::from_secs(cleanup)).await;
            log.push(format!("{name} cleaned up"));
            cancelled.reraise().await
        }
    }
}

#[test]
fn race_cancels_the_losers_and_waits_for_their_cleanup() {
    // asyncio 3.11 and 3.13 print this for the idiom race stands for (times in tenths of seconds
    // there, seconds here):
    //
    //     tasks = [create_task(work("slow", 0.3, 0.1)), create_task(work("fast", 0.1))]
    //     done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    //     for p in pending: p.cancel()
    //     await asyncio.gather(*pending, return_exceptions=True)
    //     print(f"{t()}: winner {done.pop().result()}")
    //
    //     0.1: fast finished
    //     0.1: slow cancelled, cleaning up
    //     0.2: slow cleaned up
    //     0.2: winner fast
    let rt = paused();
    let log = TimedLog::new(&rt, 1);
    let l = log.clone();
    rt.block_on(async move {
        let (i, winner) =
            race([work(l.clone(), "slow", 3, 1), work(l.clone(), "fast", 1, 0)]).await;
        l.push(format!("winner {winner} (branch {i})"));
    });
    assert_eq!(
        log.lines(),
        [
            "1.0: fast finished",
            "1.0: slow cancelled, cleaning up",
            "2.0: slow cleaned up",
            "2.0: winner fast (branch 1)",
        ]
    );
}

#[test]
fn race_drops_a_loser_that_does_not_catch_and_borrows_locals() {
    let rt = paused();
    let t0 = rt.now();
    rt.block_on(async {
        let counter = RefCell::new(0); // a local, borrowed by both branches
        let (i, out) = race([
            Box::pin(async {
                sleep(Duration::from_secs(5)).await;
                *counter.borrow_mut() += 100;
                "slow"
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = &str>>>,
            Box::pin(async {
                yield_now().await;
                *counter.borrow_mut() += 1;
                "fast"
            }),
        ])
        .await;
        assert_eq!((i, out), (1, "fast"));
        assert_eq!(*counter.borrow(), 1, "the loser never ran past its sleep");
    });
    assert_eq!(
        rt.now(),
        t0,
        "the loser was not waited for: it had no cleanup"
    );
}

#[test]
fn cancelling_the_racing_task_reaches_every_branch() {
    let rt = paused();
    let log = TimedLog::new(&rt, 1);
    let l = log.clone();
    rt.block_on(async move {
        let l2 = l.clone();
        let racer = spawn(async move {
            race([work(l2.clone(), "a", 10, 1), work(l2.clone(), "b", 10, 2)]).await
        });
        sleep(Duration::from_secs(1)).await;
        racer.cancel();
        assert!(racer.await.unwrap_err().is_cancelled());
        l.push("racer ended cancelled");
    });
    assert_eq!(
        log.lines(),
        [
            "1.0: a cancelled, cleaning up",
            "1.0: b cancelled, cleaning up",
            "2.0: a cleaned up",
            "3.0: b cleaned up",
            "3.0: racer ended cancelled",
        ]
    );
}

#[test]
fn a_panicking_winner_panics_the_race_after_the_losers_ended() {
    let rt = paused();
    let log = TimedLog::new(&rt, 1);
    let l = log.clone();
    let out = rt.run_until_complete(async move {
        let boom = Box::pin(async {
            sleep(Duration::from_secs(1)).await;
            if true {
                panic!("winner panicked");
            }
            "never"
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = &'static str>>>;
        race([boom, Box::pin(work(l.clone(), "loser", 10, 1))]).await
    });
    assert!(out.unwrap_err().is_panic());
    assert_eq!(
        log.lines(),
        ["1.0: loser cancelled, cleaning up", "2.0: loser cleaned up"]
    );
}
