//! conductor's per-core mode: `conductor::net::serve_per_core` with [`LOOPS`] loops, each on
//! its own thread with its own `SO_REUSEPORT` listener, running the asyncio-streams handler.
//!
//! Every loop inherits the child's pinning to CPU 0, like every other server here (the client
//! owns CPU 1): this row does not measure parallel speed-up but what running several loops
//! costs per request (the target: within 1.1x of one loop) and how evenly the kernel
//! spreads connections over them (each loop 40 to 60%).
//!
//! `serve_per_core` binds its listeners itself (by address, port 0 for the first, the same port
//! for the others), so this row does not take the listener the other servers are handed.

use conductor::net::PerCoreServer;

use super::servers::{accepted, streams_echo};

/// The number of loops.
pub const LOOPS: usize = 2;

/// Starts the loops on 127.0.0.1 (any port); they run until the process exits.
pub fn start() -> PerCoreServer {
    let addr = "127.0.0.1:0".parse().unwrap();
    conductor::net::serve_per_core(LOOPS, addr, |reader, writer| async move {
        accepted();
        streams_echo(reader, writer).await;
    })
    .expect("serve_per_core")
}
