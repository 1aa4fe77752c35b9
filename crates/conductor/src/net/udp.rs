//! UDP: `UdpSocket` (asyncio's `create_datagram_endpoint`, without the protocol callbacks).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::{Context, Poll};

use super::Socket;
use super::addr::{ToSocketAddrs, addr_error, each_addr, lookup_host};
use super::socket::Kind;
use crate::io::evented::{READ, WRITE};

/// A UDP socket on the loop's selector.
///
/// It is a [`Socket`] of `std::net::UdpSocket` (its `from_std`, `into_std` and `take_error`
/// are listed there). It belongs to the loop it was created on and is `!Send`. Each
/// `send`/`recv` is one datagram; a datagram longer than the receive buffer is truncated, as
/// with `recv(2)`.
///
/// ```
/// use conductor::net::UdpSocket;
/// # conductor::run(async {
/// let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
/// let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
/// a.send_to(b"hello", b.local_addr().unwrap()).await.unwrap();
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await.unwrap();
/// assert_eq!((&buf[..n], from), (&b"hello"[..], a.local_addr().unwrap()));
/// # });
/// ```
pub type UdpSocket = Socket<std::net::UdpSocket>;

impl Kind for std::net::UdpSocket {
    type Mio = mio::net::UdpSocket;
    const NAME: &'static str = "UdpSocket";
}

impl UdpSocket {
    /// A socket bound to `addr` (the first address it resolves to that binds; port 0 picks a
    /// free port).
    ///
    /// # Errors
    /// When no address binds; resolution errors; outside a running loop.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(addr, |a| {
            std::future::ready(
                mio::net::UdpSocket::bind(a)
                    .map_err(|e| addr_error("bind to", a, e))
                    .and_then(Self::from_mio),
            )
        })
        .await
    }

    /// Sends to and receives from `addr` only (the first address it resolves to).
    ///
    /// # Errors
    /// Resolution errors, or the OS refusing the address.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let addrs = lookup_host(addr).await?;
        let mut last = None;
        for a in addrs {
            match self.io.get_ref().connect(a) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(addr_error("connect to", a, e)),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address resolved to nothing; check the host name",
            )
        }))
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(WRITE, |s| s.send(buf)).await
    }

    /// Polls to send one datagram to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, WRITE, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(READ, |s| s.recv(buf)).await
    }

    /// Polls to receive one datagram from the connected peer.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, READ, |s| s.recv(buf))
    }

    /// Sends one datagram to `target` (resolved first when it is a name).
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        each_addr(target, |a| self.io.io(WRITE, move |s| s.send_to(buf, a))).await
    }

    /// Polls to send one datagram to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, WRITE, |s| s.send_to(buf, target))
    }

    /// Receives one datagram and its sender's address.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(READ, |s| s.recv_from(buf)).await
    }

    /// Polls to receive one datagram and its sender's address.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, READ, |s| s.recv_from(buf))
    }

    /// Receives one datagram without removing it from the queue.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(READ, |s| s.peek_from(buf)).await
    }

    /// Sends without waiting; `WouldBlock` when the socket's buffer is full.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(WRITE, |s| s.send_to(buf, target))
    }

    /// Receives without waiting; `WouldBlock` when no datagram is queued.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(READ, |s| s.recv_from(buf))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// `SO_BROADCAST` (asyncio's `allow_broadcast=`).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is on.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// The IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Joins an IPv4 multicast group on `interface` (`UNSPECIFIED`: the default one).
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&group, &interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&group, &interface)
    }

    /// Joins an IPv6 multicast group on interface number `interface` (0: the default).
    pub fn join_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(&group, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(&group, interface)
    }

    /// Whether multicast datagrams sent come back to this host.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }
}
