//! The client side: `TlsConnector` (asyncio's client `ssl.SSLContext`), configured once and
//! shared by every connection it makes.

use std::fmt;
use std::io;
use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::error::{config_error, handshake_error};
use super::verify::{Lenient, VerifyMode};
use super::{TlsStream, pem, provider};

/// Makes the client side of TLS connections (asyncio's `ssl.create_default_context()` for a
/// client): which roots to trust, the ALPN protocols to offer, an optional client certificate.
/// Build it once and clone it (a cheap `Arc`), as a `SSLContext` is shared by connections.
///
/// [`connect`](Self::connect) runs the handshake over any conductor stream ([`TcpStream`],
/// [`UnixStream`], or anything `AsyncRead + AsyncWrite`), which is asyncio's `loop.start_tls`
/// for an existing connection: a protocol that starts in cleartext (PostgreSQL's `SSLRequest`,
/// SMTP's `STARTTLS`) upgrades with it. The server name is sent as SNI and checked against the
/// certificate.
///
/// [`TcpStream`]: crate::net::TcpStream
/// [`UnixStream`]: crate::net::UnixStream
///
/// ```no_run
/// use conductor::net::TcpStream;
/// use conductor::tls::TlsConnector;
/// # conductor::run(async {
/// let tls = TlsConnector::builder().with_webpki_roots().alpn_protocols(["http/1.1"]).build()?;
/// let tcp = TcpStream::connect("example.com:443").await?;
/// let stream = tls.connect("example.com", tcp).await?;
/// assert_eq!(stream.alpn_protocol(), Some(&b"http/1.1"[..]));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
}

impl TlsConnector {
    /// A connector that trusts the system's roots and offers no ALPN protocol (asyncio's
    /// `ssl.create_default_context()`).
    ///
    /// # Errors
    /// When no root certificate of the system loads.
    pub fn new() -> io::Result<TlsConnector> {
        TlsConnector::builder().with_system_roots()?.build()
    }

    /// A builder with no roots yet.
    pub fn builder() -> TlsConnectorBuilder {
        TlsConnectorBuilder {
            roots: RootCertStore::empty(),
            alpn: Vec::new(),
            client_cert: None,
            check_hostname: true,
            verify_mode: VerifyMode::CertRequired,
        }
    }

    /// A connector over a rustls configuration made by hand (custom verifiers, resumption,
    /// key logging...).
    pub fn from_config(config: Arc<ClientConfig>) -> TlsConnector {
        TlsConnector { config }
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// Runs the client handshake over `stream`, sending `server_name` as SNI and checking the
    /// server's certificate against it (a DNS name or an IP address).
    ///
    /// # Errors
    /// A server name that is neither a DNS name nor an IP address (`InvalidInput`); a failed
    /// handshake, whose message names the server and says what was wrong ("TLS handshake with
    /// localhost failed: invalid peer certificate: UnknownIssuer; the certificate is not
    /// signed by a root this client trusts..."), with rustls's error as its source.
    pub async fn connect<S>(&self, server_name: &str, stream: S) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = server_name_of(server_name)?;
        let connector = futures_rustls::TlsConnector::from(self.config.clone());
        match connector.connect(name, stream).await {
            Ok(s) => Ok(TlsStream::client(s)),
            Err(e) => Err(handshake_error(server_name, e)),
        }
    }
}

/// `name` as rustls's server name; brackets around an IPv6 address are accepted.
pub(crate) fn server_name_of(name: &str) -> io::Result<ServerName<'static>> {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    ServerName::try_from(bare.to_owned()).map_err(|e| {
        config_error(format_args!(
            "{name:?} is not a server name TLS can check ({e}); pass a DNS name or an IP address"
        ))
    })
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// Configures a [`TlsConnector`]: roots, ALPN, client certificate, and (rarely) weaker checks.
pub struct TlsConnectorBuilder {
    roots: RootCertStore,
    alpn: Vec<Vec<u8>>,
    client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    check_hostname: bool,
    verify_mode: VerifyMode,
}

impl TlsConnectorBuilder {
    /// Trusts the operating system's root certificates (rustls-native-certs: the files and
    /// directories OpenSSL would read, `SSL_CERT_FILE`/`SSL_CERT_DIR` included).
    ///
    /// # Errors
    /// When none loads (no CA bundle installed: install the `ca-certificates` package, or use
    /// [`with_webpki_roots`](Self::with_webpki_roots)).
    pub fn with_system_roots(mut self) -> io::Result<Self> {
        let found = rustls_native_certs::load_native_certs();
        let (added, _ignored) = self.roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "no root certificate of the system could be loaded{why}; install the \
                     ca-certificates package, set SSL_CERT_FILE, or use with_webpki_roots()"
                ),
            ));
        }
        Ok(self)
    }

    /// Trusts Mozilla's root certificates, compiled in (webpki-roots): the same on every
    /// machine, whatever it has installed.
    pub fn with_webpki_roots(mut self) -> Self {
        self.roots
            .extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        self
    }

    /// Trusts the certificates of `pem` (a private CA, or a self-signed server certificate;
    /// asyncio's `load_verify_locations(cadata=)`).
    ///
    /// # Errors
    /// When `pem` holds no certificate, or one that does not parse.
    pub fn add_root_pem(mut self, pem: impl AsRef<[u8]>) -> io::Result<Self> {
        for cert in pem::certs(pem.as_ref(), "add_root_pem")? {
            self.roots.add(cert).map_err(|e| {
                config_error(format_args!(
                    "add_root_pem: not a usable CA certificate: {e}"
                ))
            })?;
        }
        Ok(self)
    }

    /// Offers these ALPN protocols, in order of preference (asyncio's
    /// `set_alpn_protocols(["h2", "http/1.1"])`). The one the server picked is
    /// [`TlsStream::alpn_protocol`].
    pub fn alpn_protocols<P: AsRef<[u8]>>(
        mut self,
        protocols: impl IntoIterator<Item = P>,
    ) -> Self {
        self.alpn = super::alpn_list(protocols);
        self
    }

    /// Presents this certificate chain (leaf first) and key to servers that ask for one
    /// (asyncio's `load_cert_chain(certfile, keyfile)` on a client context).
    ///
    /// # Errors
    /// When either PEM holds no certificate or no key.
    pub fn client_cert_pem(
        mut self,
        chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> io::Result<Self> {
        let chain = pem::certs(chain_pem.as_ref(), "client_cert_pem (chain)")?;
        let key = pem::key(key_pem.as_ref(), "client_cert_pem (key)")?;
        self.client_cert = Some((chain, key));
        Ok(self)
    }

    /// Whether the certificate must name the server (Python's `SSLContext.check_hostname`,
    /// true by default). `false` still checks that the certificate chains to a trusted root:
    /// libpq's `sslmode=verify-ca`.
    pub fn check_hostname(mut self, check: bool) -> Self {
        self.check_hostname = check;
        self
    }

    /// What to check of the server's certificate (Python's `SSLContext.verify_mode`);
    /// [`VerifyMode::CertNone`] accepts any certificate and needs no root (libpq's
    /// `sslmode=require`).
    pub fn verify_mode(mut self, mode: VerifyMode) -> Self {
        self.verify_mode = mode;
        self
    }

    /// The connector.
    ///
    /// # Errors
    /// When no root was added (a connector that trusts nobody fails every handshake) and the
    /// mode verifies certificates, or when rustls refuses the client key.
    pub fn build(self) -> io::Result<TlsConnector> {
        let strict = self.check_hostname && self.verify_mode == VerifyMode::CertRequired;
        if self.roots.is_empty() && self.verify_mode == VerifyMode::CertRequired {
            return Err(config_error(
                "the TLS connector trusts no root: call with_system_roots(), with_webpki_roots() \
                 or add_root_pem() first",
            ));
        }
        let versions = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(config_error)?;
        let builder = if strict {
            versions.with_root_certificates(self.roots)
        } else {
            let lenient = Lenient::new(self.verify_mode, self.roots, provider())
                .map_err(|e| config_error(format_args!("the roots cannot verify: {e}")))?;
            versions
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(lenient))
        };
        let mut config = match self.client_cert {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| config_error(format_args!("client certificate refused: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = self.alpn;
        Ok(TlsConnector::from_config(Arc::new(config)))
    }
}

impl fmt::Debug for TlsConnectorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnectorBuilder")
            .field("roots", &self.roots.len())
            .field("alpn", &self.alpn)
            .field("client_cert", &self.client_cert.is_some())
            .field("check_hostname", &self.check_hostname)
            .field("verify_mode", &self.verify_mode)
            .finish()
    }
}
