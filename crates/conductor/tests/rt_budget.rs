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

/// The longest run of `reads` (each tagged with the competing task's poll count when it
/// happened) during which the competing task was not polled.
fn longest_run_without(reads: &[u64]) -> usize {
    reads
        .chunk_by(|a, b| a == b)
        .map(<[u64]>::len)
        .max()
        .unwrap_or(0)
}

/// A task reading a child's pipe that always has data yields within the budget, as a socket
/// does: every source that waits on the selector spends it. (Before, reading a pipe ran
/// through a full 64 KiB pipe, about 1,000 small reads, without letting another task run.)
#[test]
fn reading_a_childs_full_pipe_yields_within_the_budget() {
    use conductor::process::{Command, Stdio};
    use futures_lite::AsyncReadExt;
    use std::os::fd::AsRawFd;

    let rt = Runtime::new().unwrap();
    let longest = rt.block_on(async {
        let mut child = Command::new("head")
            .args(["-c", "1000000", "/dev/zero"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        // Wait (bounded) until the child has filled the pipe, so that every read below finds
        // data without waiting.
        let fd = out.as_raw_fd();
        let start = std::time::Instant::now();
        loop {
            let mut queued: libc::c_int = 0;
            // SAFETY: FIONREAD on a pipe we own writes one int.
            assert_eq!(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut queued) }, 0);
            if queued >= 65536 {
                break;
            }
            assert!(
                start.elapsed().as_secs() < 30,
                "the child never filled the pipe"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let polls = Rc::new(Cell::new(0u64));
        let p = polls.clone();
        let competitor = conductor::spawn(async move {
            loop {
                p.set(p.get() + 1);
                conductor::yield_now().await;
            }
        });
        conductor::yield_now().await; // the competitor has run once
        let mut reads = Vec::new();
        let mut buf = [0u8; 64];
        for _ in 0..1000 {
            // 1000 reads of 64 bytes: all within the 64 KiB the pipe holds.
            assert_eq!(out.read(&mut buf).await.unwrap(), 64);
            reads.push(polls.get());
        }
        competitor.cancel();
        let _ = child.kill();
        let _ = child.wait().await;
        longest_run_without(&reads)
    });
    assert!(longest <= 128, "{longest} reads in a row without yielding");
}
