//! TLS for connections, through conductor's rustls support: the connector that `sslmode` and
//! `sslrootcert` describe (libpq's rules), and the `TlsConnect` tokio-postgres calls after its
//! `SSLRequest` (PostgreSQL starts in cleartext and upgrades: asyncio's `start_tls`).

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use conductor::tls::{TlsConnector, TlsConnectorBuilder, TlsStream, VerifyMode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, TlsConnect};

use crate::config::{Config, RootCert, SslMode};
use crate::error::{Error, Result};
use crate::socket::Socket;

/// The connector for `config`, or `None` when it never uses TLS.
pub(crate) fn connector(config: &Config) -> Result<Option<TlsConnector>> {
    if config.sslmode == SslMode::Disable {
        return Ok(None);
    }
    if let Some(own) = &config.tls {
        return Ok(Some(own.clone()));
    }
    let required = matches!(config.sslmode, SslMode::VerifyCa | SslMode::VerifyFull);
    let builder = match roots(config, required)? {
        None => TlsConnector::builder().verify_mode(VerifyMode::CertNone),
        Some(roots) => roots.check_hostname(config.sslmode == SslMode::VerifyFull),
    };
    builder.build().map(Some).map_err(tls_config)
}

/// The roots `config` names, or libpq's default file; `None` when there are none and
/// `required` is false.
fn roots(config: &Config, required: bool) -> Result<Option<TlsConnectorBuilder>> {
    let file = match &config.sslrootcert {
        Some(RootCert::System) => {
            return TlsConnector::builder()
                .with_system_roots()
                .map(Some)
                .map_err(tls_config);
        }
        Some(RootCert::File(path)) => path.clone(),
        None => match default_root_file().filter(|p| p.exists()) {
            Some(path) => path,
            None if required => {
                return Err(Error::Config(format!(
                    "sslmode={} checks the server's certificate and no root certificate is \
                     given: set sslrootcert=/path/to/ca.pem, or sslrootcert=system for the \
                     system's roots, or put them in ~/.postgresql/root.crt",
                    config.sslmode.name()
                )));
            }
            None => return Ok(None),
        },
    };
    let pem = std::fs::read(&file).map_err(|e| {
        Error::Config(format!(
            "sslrootcert {}: cannot read it: {e}",
            file.display()
        ))
    })?;
    TlsConnector::builder()
        .add_root_pem(pem)
        .map(Some)
        .map_err(|e| Error::Config(format!("sslrootcert {}: {e}", file.display())))
}

/// libpq's default root file, `~/.postgresql/root.crt`.
fn default_root_file() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    Some(PathBuf::from(home).join(".postgresql/root.crt"))
}

fn tls_config(e: io::Error) -> Error {
    Error::Config(format!("TLS: {e}"))
}

/// tokio-postgres' TLS hook for one host: the handshake over the connected socket, sending
/// `server_name` as SNI (and checking it, in verify-full).
pub(crate) struct Handshake {
    pub(crate) connector: TlsConnector,
    pub(crate) server_name: String,
}

impl TlsConnect<Socket> for Handshake {
    type Stream = PgTlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<PgTlsStream>>>>;

    fn connect(self, socket: Socket) -> Self::Future {
        Box::pin(async move {
            let stream = self.connector.connect(&self.server_name, socket).await?;
            Ok(PgTlsStream(stream))
        })
    }
}

/// A TLS connection to the server, as tokio-postgres reads and writes it.
pub(crate) struct PgTlsStream(TlsStream<Socket>);

impl tokio_postgres::tls::TlsStream for PgTlsStream {
    /// No `tls-server-end-point` binding: SCRAM then runs without channel binding (the server
    /// accepts that unless told to require it), as it does over libpq built without it.
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl AsyncRead for PgTlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for PgTlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
