//! Unix signals on the loop (asyncio's `loop.add_signal_handler`): `ctrl_c()`, a stream of any
//! signal, and graceful shutdown on SIGINT/SIGTERM.
//!
//! Uses `io::Registration` (the wake-up pipe); nothing of net, fs or process.
