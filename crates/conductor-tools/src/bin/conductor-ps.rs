//! `conductor-ps PID`: the tasks of a running conductor program (`python -m asyncio ps`).
fn main() -> std::process::ExitCode {
    conductor_tools::main_for("conductor-ps", "ps")
}
