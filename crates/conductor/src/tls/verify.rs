//! Python's weaker client checks, `check_hostname = False` (the chain is verified, the name is
//! not) and `verify_mode = CERT_NONE` (nothing is verified but the handshake's signatures):
//! a rustls verifier over rustls's own WebPKI verifier. Protocols need them: libpq's
//! `sslmode=require` and `verify-ca` are exactly these two.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// What a client checks of the server's certificate (Python's `ssl.SSLContext.verify_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerifyMode {
    /// The certificate must chain to a trusted root (`ssl.CERT_REQUIRED`, the default).
    #[default]
    CertRequired,
    /// Any certificate is accepted (`ssl.CERT_NONE`): the connection is encrypted but the
    /// server is not authenticated, so an active attacker can read it. Use it only where the
    /// protocol says so (libpq's `sslmode=require`).
    CertNone,
}

/// A verifier that skips the host name (`chain` set: `check_hostname = False`) or everything
/// but the handshake signatures (`chain` unset: `CERT_NONE`).
#[derive(Debug)]
pub(crate) struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl Lenient {
    pub(crate) fn new(
        mode: VerifyMode,
        roots: RootCertStore,
        provider: Arc<CryptoProvider>,
    ) -> Result<Lenient, rustls::client::VerifierBuilderError> {
        let chain = match mode {
            VerifyMode::CertNone => None,
            VerifyMode::CertRequired => Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()?,
            ),
        };
        Ok(Lenient { chain, provider })
    }
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // WebPKI checks the chain first and the name last: a name error means the chain held.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
