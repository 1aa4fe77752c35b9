//! asyncio's stream functions with TLS: `open_connection(ssl=)` and `StreamWriter.start_tls()`.

use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::TlsConnector;
use crate::net::{Target, TcpStream, ToSocketAddrs};
use crate::streams::{Address, ExtraInfo, StreamReader, StreamWriter};

/// Connects to `addr` over TCP, runs the TLS handshake and returns asyncio's streams over the
/// session (asyncio's `open_connection(host, port, ssl=ctx)`). The server name sent as SNI and
/// checked against the certificate is the host of `addr` (asyncio's default
/// `server_hostname`); for a literal IP address, the address.
///
/// # Errors
/// What [`TcpStream::connect`] and [`TlsConnector::connect`] report.
pub async fn open_connection(
    addr: impl ToSocketAddrs,
    ssl: &TlsConnector,
) -> io::Result<(StreamReader, StreamWriter)> {
    let name = host_of(&addr)?;
    open_connection_with(addr, ssl, &name).await
}

/// [`open_connection`] checking the certificate against `server_hostname` instead of the host of
/// `addr` (asyncio's `server_hostname=`): to connect by IP address to a server whose
/// certificate names a host.
///
/// # Errors
/// As [`open_connection`].
pub async fn open_connection_with(
    addr: impl ToSocketAddrs,
    ssl: &TlsConnector,
    server_hostname: &str,
) -> io::Result<(StreamReader, StreamWriter)> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let info = ExtraInfo {
        peername: tcp.peer_addr().ok().map(Address::Inet),
        sockname: tcp.local_addr().ok().map(Address::Inet),
        fd: Some(tcp.as_raw_fd()),
    };
    let tls = ssl.connect(server_hostname, tcp).await?;
    Ok(tls.into_streams_with(crate::streams::DEFAULT_LIMIT, info))
}

/// Upgrades an open connection to TLS, as the client (asyncio 3.11's
/// `StreamWriter.start_tls(sslcontext, server_hostname=)`): the writer's buffered data is sent
/// in cleartext first, the reader's buffered bytes are fed to the handshake before the socket's,
/// and both streams are replaced by streams over the TLS session (with the same limit and
/// extra info). For a bare socket, [`TlsConnector::connect`] does the same.
///
/// # Errors
/// A write error of the cleartext part, or a failed handshake.
///
/// ```
/// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
/// # let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
/// use conductor::tls::{start_tls, TlsAcceptor, TlsConnector};
/// # conductor::run(async move {
/// let acceptor = TlsAcceptor::from_pem(&cert_pem, &key_pem)?;
/// let listener = conductor::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let server = conductor::spawn(async move {
///     let (mut tcp, _) = listener.accept().await?;
///     let mut hello = [0; 9];
///     tcp.read_exact(&mut hello).await?; // "STARTTLS\n", in cleartext
///     let (mut reader, mut writer) = acceptor.accept(tcp).await?.into_streams();
///     let line = reader.readline().await.map_err(std::io::Error::other)?;
///     writer.write(&line);
///     writer.drain().await
/// });
/// let (reader, mut writer) = conductor::open_connection(addr).await?;
/// writer.write(b"STARTTLS\n");
/// let client = TlsConnector::builder().add_root_pem(&cert_pem)?.build()?;
/// let (mut reader, mut writer) = start_tls(reader, writer, &client, "localhost").await?;
/// writer.write(b"secret\n");
/// writer.drain().await?;
/// assert_eq!(reader.readline().await.unwrap(), b"secret\n");
/// server.await.unwrap()?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub async fn start_tls(
    reader: StreamReader,
    writer: StreamWriter,
    ssl: &TlsConnector,
    server_hostname: &str,
) -> io::Result<(StreamReader, StreamWriter)> {
    let info = writer.get_extra_info().clone();
    let limit = reader.limit();
    let write = writer.into_inner().await?;
    let (read, buffered) = reader.into_parts();
    let joined = Joined {
        buffered,
        pos: 0,
        read,
        write,
    };
    let tls = ssl.connect(server_hostname, joined).await?;
    Ok(tls.into_streams_with(limit, info))
}

/// The host name in `addr`, as TLS checks it.
fn host_of(addr: &impl ToSocketAddrs) -> io::Result<String> {
    let host = match addr.to_target() {
        Target::Addrs(addrs) => addrs.first().map(|a| a.ip().to_string()),
        Target::HostPort(s) => s.rsplit_once(':').map(|(h, _)| h.to_owned()),
        Target::Host(h, _) => Some(h),
    };
    host.filter(|h| !h.is_empty()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "no host name in the address to check the certificate against; use \
             open_connection_with(addr, ssl, server_hostname)",
        )
    })
}

/// The two halves of a connection taken back from its streams, as one stream: the reader's
/// buffered bytes come first.
struct Joined<R, W> {
    buffered: Vec<u8>,
    pos: usize,
    read: R,
    write: W,
}

impl<R: AsyncRead + Unpin, W: Unpin> AsyncRead for Joined<R, W> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pos < this.buffered.len() {
            let n = buf.len().min(this.buffered.len() - this.pos);
            buf[..n].copy_from_slice(&this.buffered[this.pos..this.pos + n]);
            this.pos += n;
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut this.read).poll_read(cx, buf)
    }
}

impl<R: Unpin, W: AsyncWrite + Unpin> AsyncWrite for Joined<R, W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().write).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().write).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().write).poll_close(cx)
    }
}
