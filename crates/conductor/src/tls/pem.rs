//! PEM parsing for certificates and keys (through rustls-pki-types), with errors that say which
//! input was wrong.

use std::io;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::error::config_error;

/// Every certificate in `pem` (a chain, leaf first, or a set of roots).
pub(crate) fn certs(pem: &[u8], what: &str) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_error(format_args!("{what}: the PEM does not parse: {e}")))?;
    if certs.is_empty() {
        return Err(config_error(format_args!(
            "{what}: no certificate found; expected PEM blocks \
             '-----BEGIN CERTIFICATE-----'"
        )));
    }
    Ok(certs)
}

/// The first private key in `pem` (PKCS#8, PKCS#1 or SEC1).
pub(crate) fn key(pem: &[u8], what: &str) -> io::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        config_error(format_args!(
            "{what}: no private key found ({e}); expected a PEM block such as \
             '-----BEGIN PRIVATE KEY-----'"
        ))
    })
}
