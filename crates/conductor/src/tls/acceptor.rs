//! The server side: `TlsAcceptor` (asyncio's server `ssl.SSLContext`), configured once and
//! shared by every connection a server accepts.

use std::fmt;
use std::io;
use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ResolvesServerCertUsingSni, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

use super::error::{config_error, handshake_error};
use super::{TlsStream, pem, provider};

/// Makes the server side of TLS connections (asyncio's
/// `ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)` with `load_cert_chain`): the
/// certificate (one, or one per SNI name), the ALPN protocols to accept, and optionally the CAs
/// whose client certificates are required or accepted.
///
/// Give it to a server with [`ServerOptions::ssl`](crate::net::ServerOptions::ssl) (asyncio's
/// `start_server(ssl=)`), or run [`accept`](Self::accept) over any accepted stream.
///
/// ```
/// use conductor::tls::TlsAcceptor;
/// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
/// # let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
/// let acceptor = TlsAcceptor::builder(cert_pem, key_pem)
///     .unwrap()
///     .alpn_protocols(["h2", "http/1.1"])
///     .build()
///     .unwrap();
/// # let _ = acceptor;
/// ```
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
}

impl TlsAcceptor {
    /// An acceptor presenting this chain (leaf first) and key, with no ALPN and no client
    /// certificates.
    ///
    /// # Errors
    /// As [`TlsAcceptor::builder`] and [`TlsAcceptorBuilder::build`].
    pub fn from_pem(chain_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> io::Result<Self> {
        Self::builder(chain_pem, key_pem)?.build()
    }

    /// A builder presenting this chain (leaf first) and key to every client (the default
    /// certificate when SNI names are added).
    ///
    /// # Errors
    /// When either PEM holds no certificate or no key.
    pub fn builder(
        chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> io::Result<TlsAcceptorBuilder> {
        Ok(TlsAcceptorBuilder {
            default: Some(certified_key(chain_pem.as_ref(), key_pem.as_ref())?),
            by_name: Vec::new(),
            alpn: Vec::new(),
            client_roots: None,
            client_cert_required: false,
        })
    }

    /// A builder with no default certificate: every client must send one of the SNI names added
    /// with [`TlsAcceptorBuilder::sni_cert_pem`].
    pub fn builder_sni_only() -> TlsAcceptorBuilder {
        TlsAcceptorBuilder {
            default: None,
            by_name: Vec::new(),
            alpn: Vec::new(),
            client_roots: None,
            client_cert_required: false,
        }
    }

    /// An acceptor over a rustls configuration made by hand.
    pub fn from_config(config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor { config }
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }

    /// Runs the server handshake over `stream` (asyncio's `loop.start_tls(server_side=True)`).
    ///
    /// # Errors
    /// A failed handshake; the message says what was wrong (no shared ALPN protocol, a
    /// client certificate missing or untrusted, a client that is not speaking TLS...).
    pub async fn accept<S>(&self, stream: S) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_from("the client", stream).await
    }

    /// [`accept`](Self::accept), naming `peer` (its address) in errors.
    pub(crate) async fn accept_from<S>(
        &self,
        peer: impl fmt::Display,
        stream: S,
    ) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let acceptor = futures_rustls::TlsAcceptor::from(self.config.clone());
        match acceptor.accept(stream).await {
            Ok(s) => Ok(TlsStream::server(s)),
            Err(e) => Err(handshake_error(peer, e)),
        }
    }
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

fn certified_key(chain_pem: &[u8], key_pem: &[u8]) -> io::Result<Arc<CertifiedKey>> {
    let chain: Vec<CertificateDer<'static>> = pem::certs(chain_pem, "certificate chain")?;
    let key: PrivateKeyDer<'static> = pem::key(key_pem, "private key")?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| config_error(format_args!("the private key is not usable: {e}")))?;
    Ok(Arc::new(CertifiedKey::new(chain, signing)))
}

/// Configures a [`TlsAcceptor`].
pub struct TlsAcceptorBuilder {
    default: Option<Arc<CertifiedKey>>,
    by_name: Vec<(String, Arc<CertifiedKey>)>,
    alpn: Vec<Vec<u8>>,
    client_roots: Option<RootCertStore>,
    client_cert_required: bool,
}

impl TlsAcceptorBuilder {
    /// Presents this chain and key to clients whose SNI is `name` (asyncio's
    /// `sni_callback` choosing a context per name); others get the default certificate.
    ///
    /// # Errors
    /// When either PEM holds no certificate or no key, or the certificate does not cover
    /// `name`.
    pub fn sni_cert_pem(
        mut self,
        name: &str,
        chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> io::Result<Self> {
        let key = certified_key(chain_pem.as_ref(), key_pem.as_ref())?;
        // Checked now (rustls checks again at build), so that the error names the input.
        let mut probe = ResolvesServerCertUsingSni::new();
        probe.add(name, (*key).clone()).map_err(|e| {
            config_error(format_args!(
                "sni_cert_pem({name:?}): {e}; the certificate must name it"
            ))
        })?;
        self.by_name.push((name.to_owned(), key));
        Ok(self)
    }

    /// Accepts these ALPN protocols, in order of preference (asyncio's `set_alpn_protocols`).
    /// A client that offers ALPN and shares none of them is refused.
    pub fn alpn_protocols<P: AsRef<[u8]>>(
        mut self,
        protocols: impl IntoIterator<Item = P>,
    ) -> Self {
        self.alpn = super::alpn_list(protocols);
        self
    }

    /// Asks clients for a certificate issued by a CA of `ca_pem`; with `required`, a client
    /// without one is refused (asyncio's `verify_mode = CERT_REQUIRED`, else `CERT_OPTIONAL`).
    /// The client's chain is [`TlsStream::peer_certificates`].
    ///
    /// # Errors
    /// When `ca_pem` holds no certificate, or one that is not a usable CA.
    pub fn client_auth_pem(mut self, ca_pem: impl AsRef<[u8]>, required: bool) -> io::Result<Self> {
        let mut roots = RootCertStore::empty();
        for cert in pem::certs(ca_pem.as_ref(), "client_auth_pem")? {
            roots.add(cert).map_err(|e| {
                config_error(format_args!(
                    "client_auth_pem: not a usable CA certificate: {e}"
                ))
            })?;
        }
        self.client_roots = Some(roots);
        self.client_cert_required = required;
        Ok(self)
    }

    /// The acceptor.
    ///
    /// # Errors
    /// When there is no certificate at all, or rustls refuses the configuration.
    pub fn build(self) -> io::Result<TlsAcceptor> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(config_error)?;
        let builder = match self.client_roots {
            Some(roots) => {
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
                let verifier = if self.client_cert_required {
                    verifier
                } else {
                    verifier.allow_unauthenticated()
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| config_error(format_args!("client_auth_pem: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let resolver = CertResolver {
            default: self.default,
            by_name: self.by_name,
        };
        if resolver.default.is_none() && resolver.by_name.is_empty() {
            return Err(config_error(
                "the TLS acceptor has no certificate: pass one to TlsAcceptor::builder or add \
                 sni_cert_pem",
            ));
        }
        let mut config = builder.with_cert_resolver(Arc::new(resolver));
        config.alpn_protocols = self.alpn;
        Ok(TlsAcceptor::from_config(Arc::new(config)))
    }
}

impl fmt::Debug for TlsAcceptorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptorBuilder")
            .field(
                "sni_names",
                &self.by_name.iter().map(|n| &n.0).collect::<Vec<_>>(),
            )
            .field("alpn", &self.alpn)
            .finish_non_exhaustive()
    }
}

/// The certificate for a client's SNI name (case-insensitive), else the default one.
#[derive(Debug)]
struct CertResolver {
    default: Option<Arc<CertifiedKey>>,
    by_name: Vec<(String, Arc<CertifiedKey>)>,
}

impl rustls::server::ResolvesServerCert for CertResolver {
    fn resolve(&self, hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello
            .server_name()
            .and_then(|sni| {
                self.by_name
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(sni))
                    .map(|(_, k)| k.clone())
            })
            .or_else(|| self.default.clone())
    }
}
