//! wss://: the same server behind TLS, with a certificate for `localhost` made at start.
//!
//! `wss://` is `ws://` inside TLS, exactly as `https://` is `http://` inside TLS (RFC 6455 §3,
//! §4.1). Nothing about the WebSocket changes: the upgrade request, the `101` and every frame
//! are the same bytes, encrypted. So the server does not change either: [`terminate`] accepts
//! TLS connections, decrypts them, and passes the plain bytes on to the tiny_http server of
//! [`crate::server`], the way nginx or a cloud load balancer "terminates TLS" in front of an
//! application.
//!
//! ```text
//!  client ══TLS══▶ terminate ──TCP──▶ tiny_http (the same routes, middleware and upgrade branch)
//! ```
//!
//! Why tokio-rustls and not tiny_http's own `ssl-rustls` feature: tiny_http 0.12 builds on rustls
//! 0.20, a line that no longer gets fixes; tokio-rustls 0.26 is on rustls 0.23, current and
//! maintained. And a TLS front that knows nothing of HTTP is the lesson itself.
//!
//! rustls needs a *crypto provider* (the code that does the arithmetic). Several crates can
//! bring different ones (`ring`, `aws-lc-rs`); when more than one is compiled in, rustls cannot
//! pick and panics at the first handshake. This crate names `ring` every time it builds a
//! config ([`provider`]), so it works whatever other crates switch on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The name the certificate is for, and the name clients connect to.
pub const SERVER_NAME: &str = "localhost";

/// How long a client may take to finish the TLS handshake before the connection is dropped
/// (the same ten seconds the echo gives an HTTP upgrade request).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong setting TLS up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate could not be generated.
    #[error("cannot generate the certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    /// The name is not a valid DNS name.
    #[error("{0:?} is not a name a certificate can be for")]
    Name(String),
}

/// The crypto provider every config here uses: `ring`, named explicitly (see the module docs).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate for `localhost` and its private key, made fresh at start and never written
/// anywhere unless the caller asks ([`LocalCert::pem`]).
#[derive(Debug)]
pub struct LocalCert {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    pem: String,
}

impl LocalCert {
    /// A self-signed certificate for [`SERVER_NAME`] with an ECDSA P-256 key, which every browser
    /// and TLS library accepts.
    // ANCHOR: generate
    pub fn generate() -> Result<LocalCert, TlsError> {
        let mut params = rcgen::CertificateParams::new(vec![SERVER_NAME.to_owned()])?;
        params.distinguished_name.push(rcgen::DnType::CommonName, "Duplex one-port (generated at start)");
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let cert = params.self_signed(&key)?;
        Ok(LocalCert {
            pem: cert.pem(),
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
    // ANCHOR_END: generate

    /// The certificate in PEM, for `curl --cacert` or a browser's certificate settings.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The certificate in DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The server's TLS configuration: this certificate, TLS 1.2 and 1.3.
    ///
    /// No session tickets: resumption saves a round trip on reconnects, which a demo does not
    /// need, and without them the server's records follow the client's in the same order every
    /// run.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], PrivateKeyDer::Pkcs8(self.key.clone_key()))?;
        config.send_tls13_tickets = 0;
        Ok(Arc::new(config))
    }

    /// A client configuration that trusts exactly this certificate and nothing else: not the
    /// system's authorities, and certainly not "any certificate".
    // ANCHOR: client_config
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone())?;
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
    // ANCHOR_END: client_config
}

// ANCHOR: terminate
/// Accepts TLS connections on `listener` and relays each one, decrypted, to `upstream` (the
/// plain HTTP server), until the listener fails.
pub async fn terminate(listener: TcpListener, config: Arc<ServerConfig>, upstream: SocketAddr) {
    let acceptor = TlsAcceptor::from(config);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("TLS front: accept failed: {e}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let mut tls = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return tracing::info!(%peer, "TLS handshake failed: {e}"),
                Err(_) => return tracing::info!(%peer, "no TLS handshake within {TLS_HANDSHAKE_TIMEOUT:?}"),
            };
            let Ok(mut plain) = TcpStream::connect(upstream).await else {
                return tracing::warn!("TLS front: the server at {upstream} is not answering");
            };
            let _ = plain.set_nodelay(true);
            // Bytes both ways until both sides are done; when the server closes, the client gets
            // a TLS close_notify alert and then the end of the TCP stream.
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
        });
    }
}
// ANCHOR_END: terminate

/// Opens TLS to `stream` for [`SERVER_NAME`], verifying the server's certificate with `config`.
pub async fn connect<S>(
    stream: S,
    config: Arc<ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<S>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let name = ServerName::try_from(SERVER_NAME)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    TlsConnector::from(config).connect(name, stream).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A TLS front in front of a server that answers "pong" to anything, then closes.
    async fn front(cert: &LocalCert) -> SocketAddr {
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = plain.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = plain.accept().await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(b"pong").await.unwrap();
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(terminate(listener, cert.server_config().unwrap(), upstream));
        addr
    }

    #[tokio::test]
    async fn a_client_that_trusts_the_generated_certificate_gets_through() {
        let cert = LocalCert::generate().unwrap();
        let addr = front(&cert).await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = connect(tcp, cert.client_config().unwrap()).await.expect("the certificate verifies");
        tls.write_all(b"ping").await.unwrap();
        let mut answer = Vec::new();
        tls.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"pong");
    }

    #[tokio::test]
    async fn a_client_that_trusts_another_certificate_is_refused() {
        let cert = LocalCert::generate().unwrap();
        let addr = front(&cert).await;
        let other = LocalCert::generate().unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let err = connect(tcp, other.client_config().unwrap()).await.expect_err("a different key must fail");
        assert!(err.to_string().contains("certificate"), "the error should name the certificate: {err}");
    }
}
