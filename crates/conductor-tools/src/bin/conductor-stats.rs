//! `conductor-stats PID [--prometheus]`: the loop counters of a running conductor program.
fn main() -> std::process::ExitCode {
    let prometheus = std::env::args().any(|a| a == "--prometheus");
    conductor_tools::main_for(
        "conductor-stats",
        if prometheus { "metrics" } else { "stats" },
    )
}
