//! The benchmark binaries answer `--help`, an unknown argument and a bad flag value with their
//! usage and an exit code, never a panic.

use std::process::{Command, Output};

fn run(exe: &str, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .output()
        .expect("the binary starts")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const BINS: &[(&str, &str)] = &[
    ("echo", env!("CARGO_BIN_EXE_echo")),
    ("http", env!("CARGO_BIN_EXE_http")),
    ("http_client", env!("CARGO_BIN_EXE_http_client")),
    ("sqlite", env!("CARGO_BIN_EXE_sqlite")),
    ("postgres", env!("CARGO_BIN_EXE_postgres")),
    ("fs", env!("CARGO_BIN_EXE_fs")),
    ("process", env!("CARGO_BIN_EXE_process")),
    ("sync", env!("CARGO_BIN_EXE_sync")),
    ("snapshot", env!("CARGO_BIN_EXE_snapshot")),
];

#[test]
fn help_prints_the_usage_and_exits_0() {
    for (name, exe) in BINS {
        let out = run(exe, &["--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(text.contains(&format!("--bin {name}")), "{name}: {text}");
        assert!(
            text.contains(&format!("src/bin/{name}.rs")),
            "{name}: {text}"
        );
    }
}

#[test]
fn an_unknown_argument_exits_2_with_the_usage() {
    for (name, exe) in BINS {
        let out = run(exe, &["--bogus"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains("unknown argument \"--bogus\""),
            "{name}: {err}"
        );
        assert!(err.contains(&format!("--bin {name}")), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn a_missing_or_unreadable_value_exits_2_and_names_the_flag() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            BINS[0].1,
            &["--seconds", "soon"],
            "--seconds: cannot read \"soon\"",
        ),
        (
            BINS[0].1,
            &["--runtime", "nope"],
            "unknown runtime \"nope\"",
        ),
        (BINS[1].1, &["--seconds"], "--seconds needs a value"),
        (
            BINS[2].1,
            &["--requests", "-1"],
            "--requests: cannot read \"-1\"",
        ),
        (
            BINS[8].1,
            &["--tasks", "many"],
            "--tasks: cannot read \"many\"",
        ),
    ];
    for (exe, args, says) in cases {
        let out = run(exe, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
