//! `Queue`, `PriorityQueue`, `LifoQueue` (asyncio 1.4): waiting puts and gets, `task_done` and
//! `join`, 3.13's `shutdown`, and cancellation that loses no item.

mod support;

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use conductor::sync::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, QueueShutDown, TaskDoneTooOften,
};
use conductor::{gather, sleep, spawn, timeout, yield_now};
use support::{Log, log, push, take};

#[conductor::test(paused)]
async fn items_come_out_in_order_and_sizes_are_reported() {
    let q = Queue::new(3);
    assert_eq!(
        (q.maxsize(), q.qsize(), q.empty(), q.full()),
        (3, 0, true, false)
    );
    for i in 0..3 {
        q.put(i).await.unwrap();
    }
    assert_eq!((q.qsize(), q.empty(), q.full()), (3, false, true));
    assert!(matches!(q.put_nowait(9), Err(PutError::QueueFull(9))));
    for i in 0..3 {
        assert_eq!(q.get().await, Ok(i));
    }
    assert_eq!(q.get_nowait(), Err(GetError::QueueEmpty));
}

#[conductor::test(paused)]
async fn an_unbounded_queue_is_never_full() {
    let q = Queue::new(0);
    for i in 0..10_000 {
        q.put_nowait(i).unwrap();
    }
    assert!(!q.full());
    assert_eq!(q.qsize(), 10_000);
}

#[conductor::test(paused)]
async fn priority_and_lifo_orders() {
    let p = PriorityQueue::new(0);
    for x in [5, 1, 4, 2, 3] {
        p.put(x).await.unwrap();
    }
    let mut out = Vec::new();
    while let Ok(x) = p.get_nowait() {
        out.push(x);
    }
    assert_eq!(out, [1, 2, 3, 4, 5]);

    let l = LifoQueue::new(2);
    l.put(1).await.unwrap();
    l.put(2).await.unwrap();
    assert!(l.full());
    assert_eq!(l.get().await, Ok(2));
    assert_eq!(l.get().await, Ok(1));
}

#[conductor::test(paused)]
async fn getters_and_putters_wait_in_fifo_order() {
    let q = Arc::new(Queue::new(1));
    let l = log();
    let getters: Vec<_> = ["g1", "g2", "g3"]
        .into_iter()
        .map(|n| {
            let (q, l) = (q.clone(), l.clone());
            spawn(async move {
                let item = q.get().await.unwrap();
                push(&l, format!("{n} got {item}"));
            })
        })
        .collect();
    yield_now().await;
    for item in ["a", "b", "c"] {
        q.put(item).await.unwrap();
    }
    for g in getters {
        g.await.unwrap();
    }
    assert_eq!(take(&l), ["g1 got a", "g2 got b", "g3 got c"]);

    q.put_nowait("x").unwrap(); // full now
    let putters: Vec<_> = ["p1", "p2"]
        .into_iter()
        .map(|n| {
            let (q, l) = (q.clone(), l.clone());
            spawn(async move {
                q.put(n).await.unwrap();
                push(&l, format!("{n} put"));
            })
        })
        .collect();
    yield_now().await;
    assert!(take(&l).is_empty(), "both wait for room");
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(q.get().await.unwrap());
        yield_now().await;
    }
    for p in putters {
        p.await.unwrap();
    }
    assert_eq!(got, ["x", "p1", "p2"]);
    assert_eq!(take(&l), ["p1 put", "p2 put"]);
}

#[conductor::test(paused)]
async fn an_item_put_for_a_waiting_getter_counts_until_the_getter_runs() {
    // What the guide's producer prints: "queue size: 1" right after each put.
    let q = Arc::new(Queue::new(5));
    let q2 = q.clone();
    let getter = spawn(async move { q2.get().await.unwrap() });
    yield_now().await;
    q.put(7).await.unwrap();
    assert_eq!(q.qsize(), 1);
    assert_eq!(getter.await.unwrap(), 7);
    assert_eq!(q.qsize(), 0);
}

#[conductor::test(paused)]
async fn join_waits_for_every_task_done() {
    let q = Arc::new(Queue::new(0));
    let l = log();
    for i in 0..3 {
        q.put(i).await.unwrap();
    }
    let (q2, l2) = (q.clone(), l.clone());
    let joiner = spawn(async move {
        q2.join().await;
        push(&l2, "joined");
    });
    for i in 0..3 {
        let item = q.get().await.unwrap();
        sleep(Duration::from_secs(1)).await;
        push(&l, format!("done {item}"));
        q.task_done().unwrap();
        yield_now().await;
        assert_eq!(joiner.is_done(), i == 2);
    }
    joiner.await.unwrap();
    assert_eq!(take(&l), ["done 0", "done 1", "done 2", "joined"]);
    assert_eq!(q.task_done(), Err(TaskDoneTooOften));
    q.join().await; // nothing unfinished: at once
}

#[conductor::test(paused)]
async fn task_done_more_often_than_put_is_an_error() {
    let q = Queue::new(0);
    assert_eq!(q.task_done(), Err(TaskDoneTooOften));
    q.put_nowait(()).unwrap();
    q.get_nowait().unwrap();
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Err(TaskDoneTooOften));
}

#[conductor::test(paused)]
async fn a_woken_joiner_returns_even_if_items_arrive_before_it_runs() {
    // asyncio's join waits on an Event: set, then cleared by a put, still wakes the joiner.
    let q = Arc::new(Queue::new(0));
    q.put_nowait(1).unwrap();
    q.get_nowait().unwrap();
    let q2 = q.clone();
    let joiner = spawn(async move { q2.join().await });
    yield_now().await;
    q.task_done().unwrap();
    q.put_nowait(2).unwrap();
    timeout(Duration::from_secs(60), joiner)
        .await
        .expect("the woken joiner did not return")
        .unwrap();
}

#[conductor::test(paused)]
async fn after_shutdown_put_fails_at_once_and_get_drains_then_fails() {
    let q = Arc::new(Queue::new(2));
    q.put(1).await.unwrap();
    q.put(2).await.unwrap();
    let q2 = q.clone();
    let blocked_putter = spawn(async move { q2.put(3).await });
    yield_now().await;
    q.shutdown(false);
    assert!(q.is_shut_down());
    assert_eq!(blocked_putter.await.unwrap().unwrap_err().into_inner(), 3);
    assert_eq!(q.put(4).await.unwrap_err(), QueueShutDown(4));
    assert!(matches!(q.put_nowait(5), Err(PutError::QueueShutDown(5))));
    assert_eq!(q.get().await, Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get().await, Err(QueueShutDown(())));
    assert_eq!(q.get_nowait(), Err(GetError::QueueShutDown));
}

#[conductor::test(paused)]
async fn shutdown_wakes_blocked_getters_with_an_error() {
    let q = Arc::new(Queue::<u8>::new(0));
    let getters: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            spawn(async move { q.get().await })
        })
        .collect();
    yield_now().await;
    q.shutdown(false);
    for g in getters {
        assert_eq!(g.await.unwrap(), Err(QueueShutDown(())));
    }
}

#[conductor::test(paused)]
async fn immediate_shutdown_drops_the_items_and_releases_join() {
    struct Noisy(Log, u8);
    impl Drop for Noisy {
        fn drop(&mut self) {
            push(&self.0, format!("dropped {}", self.1));
        }
    }
    let l = log();
    let q = Rc::new(Queue::new(0)); // `Noisy` holds an `Rc`: this queue stays on one thread
    for i in 0..2 {
        q.put(Noisy(l.clone(), i)).await.unwrap();
    }
    let q2 = q.clone();
    let joiner = spawn(async move { q2.join().await });
    yield_now().await;
    q.shutdown(true);
    assert_eq!(take(&l), ["dropped 0", "dropped 1"]);
    assert!(q.get().await.is_err(), "fails at once: nothing is left");
    joiner.await.unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneTooOften));
}

#[conductor::test(paused)]
async fn a_cancelled_get_loses_no_item() {
    let q = Arc::new(Queue::new(0));
    let q2 = q.clone();
    let getter = spawn(async move { q2.get().await });
    yield_now().await;
    getter.cancel();
    assert!(getter.await.unwrap_err().is_cancelled());
    q.put("item").await.unwrap();
    assert_eq!(q.get().await, Ok("item"));
}

#[conductor::test(paused)]
async fn a_getter_woken_then_cancelled_passes_the_item_to_the_next_getter() {
    let q = Arc::new(Queue::new(0));
    let l = log();
    let getter = |name: &'static str| {
        let (q, l) = (q.clone(), l.clone());
        spawn(async move {
            let item = q.get().await.unwrap();
            push(&l, format!("{name} got {item}"));
        })
    };
    let g1 = getter("g1");
    let g2 = getter("g2");
    yield_now().await;
    q.put_nowait("x").unwrap(); // wakes g1...
    g1.cancel(); // ...which is cancelled before it runs
    assert!(g1.await.is_err());
    timeout(Duration::from_secs(60), g2)
        .await
        .expect("the wake-up was lost with g1")
        .unwrap();
    assert_eq!(take(&l), ["g2 got x"]);
    assert!(q.empty());
}

#[conductor::test(paused)]
async fn a_cancelled_put_puts_nothing_and_passes_its_slot_on() {
    let q = Arc::new(Queue::new(1));
    q.put("first").await.unwrap();
    let putter = |item: &'static str| {
        let q = q.clone();
        spawn(async move { q.put(item).await.unwrap() })
    };
    let p1 = putter("p1");
    let p2 = putter("p2");
    yield_now().await;
    assert_eq!(q.get().await, Ok("first")); // wakes p1...
    p1.cancel(); // ...which is cancelled before it runs
    assert!(p1.await.is_err());
    timeout(Duration::from_secs(60), p2)
        .await
        .expect("the free slot was lost with p1")
        .unwrap();
    assert_eq!(q.get_nowait(), Ok("p2"));
    assert_eq!(q.get_nowait(), Err(GetError::QueueEmpty));
}

#[conductor::test(paused)]
async fn the_guides_producer_consumer_program() {
    // examples/producer_consumer.rs, collected: the order of lines matches asyncio's.
    let q = Arc::new(Queue::new(5));
    let l = log();
    let (pq, pl) = (q.clone(), l.clone());
    let producer = Box::pin(async move {
        for i in 0..4 {
            sleep(Duration::from_millis(500)).await;
            pq.put(Some(i)).await.unwrap();
            push(&pl, format!("Produced: {i}, queue size: {}", pq.qsize()));
        }
        for _ in 0..2 {
            pq.put(None).await.unwrap();
        }
    }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;
    let consumer = |name: &'static str| {
        let (q, l) = (q.clone(), l.clone());
        Box::pin(async move {
            while let Some(i) = q.get().await.unwrap() {
                sleep(Duration::from_secs(1)).await;
                push(&l, format!("[{name}] Consumed: {i}"));
                q.task_done().unwrap();
            }
            q.task_done().unwrap();
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
    };
    gather([producer, consumer("Consumer A"), consumer("Consumer B")])
        .await
        .unwrap();
    assert_eq!(
        take(&l),
        [
            "Produced: 0, queue size: 1",
            "Produced: 1, queue size: 1",
            "[Consumer A] Consumed: 0",
            "Produced: 2, queue size: 1",
            "[Consumer B] Consumed: 1",
            "Produced: 3, queue size: 1",
            "[Consumer A] Consumed: 2",
            "[Consumer B] Consumed: 3",
        ]
    );
}

#[test]
fn producers_on_other_loops_feed_a_consumer() {
    let q = Arc::new(Queue::new(16));
    let producers: Vec<_> = (0..3u64)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                conductor::run(async move {
                    for i in 0..1000 {
                        q.put(p * 1000 + i).await.unwrap();
                    }
                })
            })
        })
        .collect();
    let sum = conductor::run(async move {
        let mut sum = 0;
        for _ in 0..3000 {
            sum += q.get().await.unwrap();
            q.task_done().unwrap();
        }
        q.join().await;
        sum
    });
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(sum, (0..3000).sum::<u64>());
}
