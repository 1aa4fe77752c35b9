//! TLS on rustls (feature `tls`): asyncio's `open_connection(ssl=)`, `start_server(ssl=)` and
//! `start_tls()`, over any conductor stream.
//!
//! - [`TlsConnector`] (a client `ssl.SSLContext`): roots (the system's, Mozilla's through
//!   webpki-roots, or PEM), ALPN, an optional client certificate; [`TlsConnector::connect`]
//!   runs the handshake over an existing stream, which is `loop.start_tls()`. Python's weaker
//!   client checks exist for protocols that define them: `check_hostname(false)` and
//!   [`VerifyMode::CertNone`].
//! - [`TlsAcceptor`] (a server context): a certificate, or one per SNI name, ALPN, optional or
//!   required client certificates; [`ServerOptions::ssl`](crate::net::ServerOptions::ssl) makes
//!   `start_server` speak TLS, [`TlsAcceptor::accept`] upgrades an accepted stream.
//! - [`TlsStream`]: the connection after the handshake (ALPN result, SNI name, peer
//!   certificates), futures-io (and with `tokio-io`, tokio) `AsyncRead`/`AsyncWrite`.
//! - [`open_connection`], [`open_connection_with`], [`start_tls`]: asyncio's stream functions.
//!
//! Cryptography is rustls's `ring` provider, chosen per configuration (never the process-wide
//! default provider, so another crate's choice does not change conductor's). Handshake errors
//! name the peer and say what was wrong; their source is rustls's [`rustls::Error`].
//!
//! Uses `net` (TCP connections, name resolution) and `streams`; nothing of the engine but
//! what those use.
//!
//! ```
//! use conductor::net::ServerOptions;
//! use conductor::tls::{TlsAcceptor, TlsConnector};
//! # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
//! # let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
//! # conductor::run(async move {
//! let acceptor = TlsAcceptor::from_pem(&cert_pem, &key_pem)?;
//! let server = conductor::net::start_server_with(
//!     |mut reader, mut writer| async move {
//!         let line = reader.readline().await?;
//!         writer.write(&line.to_ascii_uppercase());
//!         writer.drain().await
//!     },
//!     "127.0.0.1:0",
//!     &ServerOptions::new().ssl(acceptor),
//! )
//! .await?;
//! let port = server.local_addr()?.port();
//!
//! let client = TlsConnector::builder().add_root_pem(&cert_pem)?.build()?;
//! let (mut reader, mut writer) =
//!     conductor::tls::open_connection(("localhost", port), &client).await?;
//! writer.write(b"hello\n");
//! writer.drain().await?;
//! assert_eq!(reader.readline().await.unwrap(), b"HELLO\n");
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

// `unsafe` only in stream.rs, which allow it and say why; `forbid` would reach them too.
#![deny(unsafe_code)]

mod acceptor;
mod connector;
mod error;
mod pem;
mod stream;
mod upgrade;
mod verify;

pub use acceptor::{TlsAcceptor, TlsAcceptorBuilder};
pub use connector::{TlsConnector, TlsConnectorBuilder};
pub use stream::TlsStream;
pub use upgrade::{open_connection, open_connection_with, start_tls};
pub use verify::VerifyMode;

/// rustls itself, for configurations made by hand ([`TlsConnector::from_config`],
/// [`TlsAcceptor::from_config`]) and for matching on [`rustls::Error`].
pub use rustls;

use std::sync::Arc;

/// The crypto provider of every configuration conductor builds.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// ALPN protocol names as rustls takes them, in order of preference (the acceptor's and the
/// connector's `alpn_protocols`).
fn alpn_list<P: AsRef<[u8]>>(protocols: impl IntoIterator<Item = P>) -> Vec<Vec<u8>> {
    protocols.into_iter().map(|p| p.as_ref().to_vec()).collect()
}
