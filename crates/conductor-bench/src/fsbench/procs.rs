//! Process workload: spawn `n` `true` processes at once, then await every exit.

use std::time::{Duration, Instant};

use conductor::process::Reaper;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Who {
    ConductorPidfd,
    ConductorSigchld,
    Tokio,
    Std,
}

pub const COLUMNS: [(&str, Who); 4] = [
    ("conductor (pidfd)", Who::ConductorPidfd),
    ("conductor (SIGCHLD)", Who::ConductorSigchld),
    ("tokio", Who::Tokio),
    ("std", Who::Std),
];

pub fn available(who: Who) -> bool {
    who != Who::ConductorPidfd || conductor::process::set_reaper(Reaper::Pidfd).is_ok()
}

/// Spawns `n` `true` processes, then waits for each; every status must be success.
pub fn spawn_true(who: Who, n: usize) -> Duration {
    match who {
        Who::Std => {
            let start = Instant::now();
            let children: Vec<_> = (0..n)
                .map(|_| std::process::Command::new("true").spawn().expect("spawn"))
                .collect();
            for mut c in children {
                assert!(c.wait().expect("wait").success());
            }
            start.elapsed()
        }
        Who::Tokio => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio");
            rt.block_on(async move {
                let start = Instant::now();
                let children: Vec<_> = (0..n)
                    .map(|_| tokio::process::Command::new("true").spawn().expect("spawn"))
                    .collect();
                for mut c in children {
                    assert!(c.wait().await.expect("wait").success());
                }
                start.elapsed()
            })
        }
        _ => {
            let how = if who == Who::ConductorPidfd {
                Reaper::Pidfd
            } else {
                Reaper::Sigchld
            };
            conductor::process::set_reaper(how).expect("reaper");
            let rt = conductor::Runtime::new().expect("conductor");
            rt.block_on(async move {
                let start = Instant::now();
                let children: Vec<_> = (0..n)
                    .map(|_| {
                        conductor::process::Command::new("true")
                            .spawn()
                            .expect("spawn")
                    })
                    .collect();
                for mut c in children {
                    assert!(c.wait().await.expect("wait").success());
                }
                start.elapsed()
            })
        }
    }
}
