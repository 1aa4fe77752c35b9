//! Networking on the loop's selector: TCP, UDP and Unix sockets, `open_connection` and
//! `start_server` (asyncio's streams), name resolution on the thread pool, and servers that run
//! one loop per core.
//!
//! Uses `io::evented` (the readiness adapter: every socket's IO, with the cooperative budget),
//! `streams` (the reader and writer) and `blocking` (getaddrinfo); nothing of fs, process or
//! signal.
//!
//! - `socket`: [`Socket<T>`], a std socket `T` on the loop's selector (async-io's `Async<T>`);
//!   what every socket does (registration, `into_std`, the descriptor) is written there once.
//! - `stream`: the stream sockets' IO (read, write, half-close, split), once for TCP and Unix;
//!   `io_traits`: their futures-io and tokio IO traits, and their halves'; `split`: the owned
//!   read and write halves; `listener`: `accept`, once for TCP and Unix listeners.
//! - `tcp`, `udp`, `unix`: what differs between the sockets: each one's name (`TcpStream` is
//!   `Socket<std::net::TcpStream>`), how it connects or binds, its addresses and options.
//! - `addr`: what `connect`/`bind` accept, and `lookup_host` (asyncio's `getaddrinfo`).
//! - `server`: `open_connection`, `start_server`, `Server`; `per_core`: `serve_per_core`.
//! - `options`: `ServerOptions` (backlog, `SO_REUSEPORT`, reader limit).
//!
//! # Which loop a socket belongs to
//! A socket is registered with the loop running when it is created, and belongs to it: the
//! types are `!Send` (their halves share the socket through an `Rc`), as conductor's tasks are.
//! Used under another loop of the same thread, their IO fails with an `io::Error` (never a
//! panic). To move a connection to another loop, `into_std()` it and `from_std()` it there.
//!
//! # IO traits
//! Every stream (sockets, halves, asyncio's streams) implements futures-io's `AsyncRead` and
//! `AsyncWrite`; with the `tokio-io` feature, they all implement tokio's too,
//! so crates written for tokio's traits (tokio-rustls, tokio-postgres) run over them.
//!
//! ```
//! use conductor::net::{open_connection, start_server};
//! # conductor::run(async {
//! let server = start_server(
//!     |mut reader, mut writer| async move {
//!         while let Ok(line) = reader.readline().await {
//!             if line.is_empty() {
//!                 break; // the client closed
//!             }
//!             writer.write(&line);
//!             writer.drain().await?;
//!         }
//!         writer.close();
//!         writer.wait_closed().await
//!     },
//!     "127.0.0.1:0",
//! )
//! .await
//! .unwrap();
//! let (mut reader, mut writer) = open_connection(server.local_addr().unwrap()).await.unwrap();
//! writer.write(b"echo\n");
//! assert_eq!(reader.readline().await.unwrap(), b"echo\n");
//! # });
//! ```

// `unsafe` only in nameinfo.rs and read_uninit.rs's `poll_read_buf`, which allow it and say
// why; `forbid` would reach them too.
#![deny(unsafe_code)]

#[macro_use]
mod io_traits;
mod addr;
mod listener;
mod nameinfo;
mod options;
mod per_core;
pub(crate) mod read_uninit;
mod server;
mod socket;
mod split;
mod stream;
mod tcp;
#[cfg(feature = "tls")]
mod tls_server;
mod udp;
mod unix;

pub use addr::{Target, ToSocketAddrs, lookup_host};
pub use nameinfo::getnameinfo;
pub use options::ServerOptions;
pub use per_core::{PerCoreServer, serve_per_core, serve_per_core_with};
pub use read_uninit::ReadUninit;
pub use server::{
    ACCEPT_BACKOFF, HandlerOutput, Server, open_connection, open_unix_connection, start_server,
    start_server_with, start_unix_server,
};
pub use socket::Socket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError, SplitStream};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
