//! Addresses and name resolution: what `connect` and `bind` accept, and asyncio's
//! `getaddrinfo`, run on the loop's thread pool (the OS resolver blocks).

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What conductor's `connect` and `bind` accept: a `SocketAddr` (no lookup), an
/// `(ip, port)` pair, or a `"host:port"` string / `(host, port)` pair, which is resolved on the
/// thread pool when it is not a literal address.
///
/// ```
/// # conductor::run(async {
/// let addrs = conductor::net::lookup_host(("localhost", 8080)).await.unwrap();
/// assert!(addrs.iter().all(|a| a.port() == 8080 && a.ip().is_loopback()));
/// # });
/// ```
pub trait ToSocketAddrs {
    /// The addresses, or the name to look up.
    #[doc(hidden)]
    fn to_target(&self) -> Target;
}

/// What an address argument stands for (for [`ToSocketAddrs`] implementations).
#[doc(hidden)]
#[derive(Debug)]
pub enum Target {
    /// Literal addresses: no lookup.
    Addrs(Vec<SocketAddr>),
    /// A `host:port` string to resolve.
    HostPort(String),
    /// A host name and a port.
    Host(String, u16),
}

/// Resolves `host` to socket addresses with the OS resolver, on the loop's thread pool
/// (asyncio's `loop.getaddrinfo`). A literal address needs no lookup and returns at once.
///
/// # Errors
/// When the name does not resolve (the resolver's message), or when the thread pool is gone.
///
/// # Panics
/// Outside a running conductor loop, when a lookup is needed.
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let lookup = match host.to_target() {
        Target::Addrs(addrs) => return Ok(addrs),
        Target::HostPort(s) => Lookup::HostPort(s),
        Target::Host(h, p) => Lookup::Host(h, p),
    };
    crate::to_thread(move || lookup.run())
        .await
        .map_err(|e| io::Error::other(format!("name resolution did not finish: {e}")))?
}

enum Lookup {
    HostPort(String),
    Host(String, u16),
}

impl Lookup {
    fn run(self) -> io::Result<Vec<SocketAddr>> {
        use std::net::ToSocketAddrs as _;
        match self {
            Lookup::HostPort(s) => s.to_socket_addrs().map(Iterator::collect),
            Lookup::Host(h, p) => (h.as_str(), p).to_socket_addrs().map(Iterator::collect),
        }
    }
}

/// Resolves `addr` and tries `op` on each address in turn; the first success, or the last
/// error (as asyncio's `create_connection` without `all_errors`).
pub(crate) async fn each_addr<T, F, Fut>(addr: impl ToSocketAddrs, mut op: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in lookup_host(addr).await? {
        match op(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing; check the host name",
        )
    }))
}

/// `e`, for an operation on `addr`, as an error that names both and keeps `e`'s kind: "could not
/// connect to 127.0.0.1:1: Connection refused (os error 111)" (asyncio: "Connect call failed
/// ('127.0.0.1', 1)"). `e` stays reachable, with its OS error number, as the error's source.
pub(crate) fn addr_error(op: &'static str, addr: impl fmt::Display, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        AddrError {
            op,
            addr: addr.to_string(),
            source: e,
        },
    )
}

#[derive(Debug)]
struct AddrError {
    op: &'static str,
    addr: String,
    source: io::Error,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not {} {}: {}", self.op, self.addr, self.source)
    }
}

impl std::error::Error for AddrError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    fn to_target(&self) -> Target {
        (**self).to_target()
    }
}

impl ToSocketAddrs for SocketAddr {
    fn to_target(&self) -> Target {
        Target::Addrs(vec![*self])
    }
}

impl ToSocketAddrs for SocketAddrV4 {
    fn to_target(&self) -> Target {
        Target::Addrs(vec![SocketAddr::V4(*self)])
    }
}

impl ToSocketAddrs for SocketAddrV6 {
    fn to_target(&self) -> Target {
        Target::Addrs(vec![SocketAddr::V6(*self)])
    }
}

impl ToSocketAddrs for (IpAddr, u16) {
    fn to_target(&self) -> Target {
        Target::Addrs(vec![SocketAddr::new(self.0, self.1)])
    }
}

impl ToSocketAddrs for (Ipv4Addr, u16) {
    fn to_target(&self) -> Target {
        Target::Addrs(vec![SocketAddr::new(self.0.into(), self.1)])
    }
}

impl ToSocketAddrs for (Ipv6Addr, u16) {
    fn to_target(&self) -> Target {
        Target::Addrs(vec![SocketAddr::new(self.0.into(), self.1)])
    }
}

impl ToSocketAddrs for [SocketAddr] {
    fn to_target(&self) -> Target {
        Target::Addrs(self.to_vec())
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {
    fn to_target(&self) -> Target {
        Target::Addrs(self.clone())
    }
}

impl ToSocketAddrs for str {
    fn to_target(&self) -> Target {
        match self.parse() {
            Ok(a) => Target::Addrs(vec![a]),
            Err(_) => Target::HostPort(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {
    fn to_target(&self) -> Target {
        self.as_str().to_target()
    }
}

impl ToSocketAddrs for (&str, u16) {
    fn to_target(&self) -> Target {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Target::Addrs(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Target::Host(self.0.to_owned(), self.1),
        }
    }
}

impl ToSocketAddrs for (String, u16) {
    fn to_target(&self) -> Target {
        (self.0.as_str(), self.1).to_target()
    }
}
