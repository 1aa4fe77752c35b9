//! `conductor-monitor PID [--listen 127.0.0.1:PORT]`: the live page of a running conductor
//! program (aiomonitor's role), fed by its debug endpoint.
fn main() -> std::process::ExitCode {
    conductor_tools::monitor::main()
}
