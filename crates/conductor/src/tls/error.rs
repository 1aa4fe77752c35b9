//! Handshake errors that say which peer failed and what was wrong with it.

use std::fmt;
use std::io;

use rustls::{CertificateError, Error as RustlsError};

/// A failed TLS handshake: the peer (the server's name for a client, the client's address for a
/// server) and rustls's reason, with a hint on what to do. The `io::Error` that carries it keeps
/// rustls's error as its source, so callers can match on [`rustls::Error`].
#[derive(Debug)]
pub(crate) struct HandshakeError {
    peer: String,
    source: io::Error,
}

/// Wraps a handshake error of futures-rustls (an `io::Error` whose inner error is rustls's, for
/// TLS failures) so that its message names `peer` and says what was wrong.
pub(crate) fn handshake_error(peer: impl fmt::Display, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        HandshakeError {
            peer: peer.to_string(),
            source: e,
        },
    )
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLS handshake with {} failed: ", self.peer)?;
        match self.rustls_error() {
            Some(e) => write!(f, "{e}{}", hint(e)),
            None => write!(
                f,
                "{} (the connection ended or failed before the handshake finished)",
                self.source
            ),
        }
    }
}

impl HandshakeError {
    fn rustls_error(&self) -> Option<&RustlsError> {
        self.source.get_ref()?.downcast_ref::<RustlsError>()
    }
}

impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.source.get_ref() {
            Some(inner) => Some(inner),
            None => Some(&self.source),
        }
    }
}

/// What to do about the common failures.
fn hint(e: &RustlsError) -> &'static str {
    match e {
        RustlsError::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                "; the certificate is not signed by a root this client trusts: add its CA \
                 (TlsConnector::builder().add_root_pem) or use the system's roots"
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "; the certificate does not name the host connected to: connect by a name it \
                 lists, or pass that name as the server name"
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "; the certificate has expired: the server must renew it"
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "; the certificate is not valid yet: check the clocks of both machines"
            }
            CertificateError::BadSignature => {
                "; the signature does not verify against the trusted root of that name: \
                 another key signed it (a regenerated self-signed certificate?)"
            }
            CertificateError::BadEncoding => "; the peer sent a certificate that does not parse",
            _ => "",
        },
        RustlsError::NoApplicationProtocol => {
            "; client and server share no ALPN protocol: check both alpn_protocols lists"
        }
        RustlsError::AlertReceived(rustls::AlertDescription::CertificateRequired) => {
            "; the server requires a client certificate: configure one \
             (TlsConnector::builder().client_cert_pem)"
        }
        RustlsError::AlertReceived(rustls::AlertDescription::UnknownCA) => {
            "; the peer does not trust our certificate's issuer"
        }
        RustlsError::NoCertificatesPresented => {
            "; this server requires a client certificate and the client sent none"
        }
        _ => "",
    }
}

/// An `InvalidInput` error for bad configuration (PEM that does not parse, a bad server name).
pub(crate) fn config_error(what: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_string())
}
