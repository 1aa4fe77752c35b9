//! One loop per core for servers: N loops on N threads (`runtime::LoopGroup`), each with its
//! own listening socket on the same port (`SO_REUSEPORT`), so the kernel spreads connections
//! over the loops and no connection ever crosses threads.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::server::{HandlerOutput, Listener, Server};
use super::{ServerOptions, TcpListener};
use crate::Builder;
use crate::runtime::LoopGroup;
use crate::streams::{StreamReader, StreamWriter};
use crate::task::TaskError;

/// Serves `addr` on `loops` event loops, one thread each, running `handler` for every
/// connection on the loop that accepted it (asyncio has no equivalent: one process per core
/// is the Python way). `loops == 0` means one per available core.
///
/// Every listener is bound before this returns, so `addr` may have port 0: the first listener
/// picks the port, the others join it. [`PerCoreServer::shutdown`] stops them all cleanly.
///
/// # Errors
/// When the address does not bind, or a loop cannot start.
///
/// ```
/// use conductor::net::serve_per_core;
/// let server = serve_per_core(2, "127.0.0.1:0".parse().unwrap(), |mut reader, mut writer| async move {
///     let line = reader.readline().await?;
///     writer.write(&line);
///     writer.drain().await
/// })
/// .unwrap();
/// let mut client = std::net::TcpStream::connect(server.local_addr()).unwrap();
/// std::io::Write::write_all(&mut client, b"hi\n").unwrap();
/// let mut reply = [0; 3];
/// std::io::Read::read_exact(&mut client, &mut reply).unwrap();
/// assert_eq!(&reply, b"hi\n");
/// server.shutdown().unwrap();
/// ```
pub fn serve_per_core<H, F>(loops: usize, addr: SocketAddr, handler: H) -> io::Result<PerCoreServer>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    serve_per_core_with(loops, addr, &ServerOptions::new(), Builder::new(), handler)
}

/// [`serve_per_core`] with server options (backlog, reader limit...; `SO_REUSEPORT` is always
/// on) and the loops' settings.
///
/// # Errors
/// As [`serve_per_core`].
pub fn serve_per_core_with<H, F>(
    loops: usize,
    addr: SocketAddr,
    options: &ServerOptions,
    builder: Builder,
    handler: H,
) -> io::Result<PerCoreServer>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    let loops = if loops == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        loops
    };
    let options = options.clone().reuse_port(true);
    let first = options.bind_tcp(addr)?;
    let local = first.local_addr()?;
    let mut listeners = vec![Some(first)];
    for _ in 1..loops {
        listeners.push(Some(options.bind_tcp(local)?));
    }
    let listeners = Arc::new(Mutex::new(listeners));
    let accepted: Arc<[AtomicU64]> = (0..loops).map(|_| AtomicU64::new(0)).collect();
    let handler = Arc::new(handler);
    let counts = accepted.clone();
    let group = LoopGroup::start(loops, builder, move |index| {
        let listener = listeners.lock().unwrap_or_else(|e| e.into_inner())[index].take();
        let handler = handler.clone();
        let counts = counts.clone();
        let options = options.clone();
        async move {
            let listener = listener.expect("each loop takes its own listener once");
            let listener = match TcpListener::from_std(listener) {
                Ok(l) => l,
                Err(e) => {
                    crate::runtime::call_exception_handler(
                        crate::runtime::ExceptionContext::new(
                            "A loop of serve_per_core could not register its listener; it \
                             serves nothing",
                        )
                        .with_detail("loop", index)
                        .with_error(e),
                    );
                    return;
                }
            };
            let handler = move |r, w| {
                counts[index].fetch_add(1, Ordering::Relaxed);
                handler(r, w)
            };
            if let Ok(server) =
                Server::start(vec![Listener::Tcp(listener)], handler, &options, None)
            {
                server.serve_forever().await;
            }
        }
    })?;
    Ok(PerCoreServer {
        group,
        addr: local,
        accepted,
    })
}

/// Servers on several loops, from [`serve_per_core`].
pub struct PerCoreServer {
    group: LoopGroup<()>,
    addr: SocketAddr,
    accepted: Arc<[AtomicU64]>,
}

impl PerCoreServer {
    /// The address every loop listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections each loop has accepted so far, in loop order.
    pub fn connections_per_loop(&self) -> Vec<u64> {
        self.accepted
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }

    /// The loops' handles (to spawn work on them, or call into them).
    pub fn handles(&self) -> &[crate::Handle] {
        self.group.handles()
    }

    /// Stops every loop: each closes its listener, cancels its connections' handlers and waits
    /// for them (as `conductor::run` does at its end), then its thread ends.
    ///
    /// # Errors
    /// The first loop that did not end by cancellation (a panic in the server).
    pub fn shutdown(self) -> Result<(), TaskError> {
        self.group.cancel();
        self.group
            .join()
            .into_iter()
            .filter(|r| !matches!(r, Err(e) if e.is_cancelled()))
            .collect::<Result<Vec<()>, _>>()
            .map(drop)
    }
}

impl std::fmt::Debug for PerCoreServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerCoreServer")
            .field("addr", &self.addr)
            .field("connections_per_loop", &self.connections_per_loop())
            .finish()
    }
}
