//! The cooperative budget: a task whose awaits always complete at once still yields, so one busy
//! task cannot starve the others, the timers and the selector.

use std::cell::Cell;
use std::rc::Rc;

use conductor::Runtime;

#[test]
fn a_task_draining_a_full_channel_lets_others_run() {
    let rt = Runtime::builder().paused_clock().build().unwrap();
    let consumed_when_other_ran = rt.block_on(async {
        let (tx, mut rx) = conductor::sync::mpsc::unbounded_channel::<u32>();
        for i in 0..100_000 {
            tx.send(i).unwrap();
        }
        drop(tx);
        let consumed = Rc::new(Cell::new(0u32));
        let c = consumed.clone();
        let consumer = conductor::spawn(async move {
            while rx.recv().await.is_some() {
                c.set(c.get() + 1);
            }
        });
        let c = consumed.clone();
        let other = conductor::spawn(async move { c.get() });
        consumer.await.unwrap();
        assert_eq!(consumed.get(), 100_000);
        other.await.unwrap()
    });
    // The other task was queued right behind the consumer: it ran after one budget's worth of
    // receives (128), not after the whole channel.
    assert!(
        consumed_when_other_ran > 0 && consumed_when_other_ran <= 256,
        "{consumed_when_other_ran}"
    );
}

#[test]
fn awaiting_finished_tasks_in_a_loop_yields_too() {
    let rt = Runtime::builder().paused_clock().build().unwrap();
    let ran_at = rt.block_on(async {
        let tasks: Vec<_> = (0..1000)
            .map(|i| conductor::spawn(async move { i }))
            .collect();
        conductor::yield_now().await; // all of them finish
        let seen = Rc::new(Cell::new(0u32));
        let s = seen.clone();
        let other = conductor::spawn(async move { s.get() });
        for t in tasks {
            t.await.unwrap();
            seen.set(seen.get() + 1);
        }
        other.await.unwrap()
    });
    assert!(ran_at > 0 && ran_at < 1000, "{ran_at}");
}
