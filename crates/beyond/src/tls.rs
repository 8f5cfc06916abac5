//! TLS for the HTTP/2 server, the way browsers get HTTP/2: a browser speaks HTTP/2 only inside
//! TLS, after both sides agreed on `h2` in the TLS handshake (ALPN, RFC 7301; RFC 9113 §3.2).
//!
//! The certificate is made at start for `localhost` and `127.0.0.1`; nothing trusts it, so a
//! browser has to be told to accept it (the browser test starts Chromium with
//! `--ignore-certificate-errors`, for that test only). rustls is given the `ring` provider by
//! name, so it works whatever other crates switch on.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The ALPN name of HTTP/2 over TLS (RFC 9113 §3.2). The server offers nothing else: a client
/// that cannot speak HTTP/2 fails the handshake instead of falling back to HTTP/1.1.
pub const ALPN_H2: &[u8] = b"h2";

/// What can go wrong setting TLS up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate could not be generated.
    #[error("cannot generate the certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, with its key.
#[derive(Debug)]
pub struct LocalCert {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl LocalCert {
    /// A fresh certificate with an ECDSA P-256 key.
    pub fn generate() -> Result<LocalCert, TlsError> {
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let cert = params.self_signed(&key)?;
        Ok(LocalCert { cert: cert.der().clone(), key: PrivatePkcs8KeyDer::from(key.serialize_der()) })
    }

    /// The server's TLS configuration: this certificate, ALPN `h2` only.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], PrivateKeyDer::Pkcs8(self.key.clone_key()))?;
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Ok(Arc::new(config))
    }
}
