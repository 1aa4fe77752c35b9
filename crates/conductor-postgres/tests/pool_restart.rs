//! A server restart mid-load: the queries in flight get errors, and the pool recovers by
//! itself (dead connections are discarded, new ones opened). Restarts the test cluster with
//! pg_ctl (`CONDUCTOR_PG_CTL`), so this file holds one test: no other test of this binary
//! runs while the server is down.
mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use conductor_postgres::Pool;

fn restart_server() {
    let ctl = common::env("CONDUCTOR_PG_CTL");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{ctl} restart -m fast -w -t 60 >/dev/null"))
        .status()
        .expect("pg_ctl runs");
    assert!(status.success(), "pg_ctl restart failed");
}

#[test]
fn a_restart_mid_load_fails_the_queries_in_flight_and_the_pool_recovers() {
    common::with_config(|config| async move {
        let pool = Pool::builder(config)
            .min_size(5)
            .max_size(5)
            .acquire_timeout(Duration::from_secs(10))
            .build()
            .await
            .unwrap();
        let ok_before = Rc::new(Cell::new(0u32));
        let failed = Rc::new(Cell::new(0u32));
        let restarted = Rc::new(Cell::new(false));
        let ok_after = Rc::new(Cell::new(0u32));
        let workers: Vec<_> = (0..20)
            .map(|i: i32| {
                let pool = pool.clone();
                let (ok_before, failed, restarted, ok_after) = (
                    ok_before.clone(),
                    failed.clone(),
                    restarted.clone(),
                    ok_after.clone(),
                );
                conductor::spawn(async move {
                    // Bounded: until 50 successes after the restart, or 60 s.
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while ok_after.get() < 50 && Instant::now() < deadline {
                        let r = pool
                            .fetchval::<i32>("SELECT $1::int FROM pg_sleep(0.01)", &[&i])
                            .await;
                        match r {
                            Ok(v) => {
                                assert_eq!(v, i);
                                if restarted.get() {
                                    ok_after.set(ok_after.get() + 1);
                                } else {
                                    ok_before.set(ok_before.get() + 1);
                                }
                            }
                            Err(e) => {
                                assert!(
                                    e.is_closed()
                                        || matches!(e, conductor_postgres::Error::Connect { .. }),
                                    "a restart's error: {e}"
                                );
                                failed.set(failed.get() + 1);
                                conductor::sleep(Duration::from_millis(20)).await;
                            }
                        }
                    }
                })
            })
            .collect();
        while ok_before.get() < 50 {
            conductor::sleep(Duration::from_millis(10)).await;
        }
        // The restart blocks a thread, not the loop: the load goes on meanwhile.
        conductor::to_thread(restart_server).await.unwrap();
        restarted.set(true);
        for w in workers {
            w.await.unwrap();
        }
        assert!(
            failed.get() > 0,
            "the queries in flight during the restart failed"
        );
        assert!(
            ok_after.get() >= 50,
            "the pool recovered: {} after",
            ok_after.get()
        );
        assert!(pool.size() <= 5);
        pool.close().await;
    });
}
