//! `conductor-pstree PID`: the await graph of a running conductor program
//! (`python -m asyncio pstree`).
fn main() -> std::process::ExitCode {
    conductor_tools::main_for("conductor-pstree", "pstree")
}
