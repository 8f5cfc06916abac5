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
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;
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
    // The accept loop every server shares (`guard::accept`): a task and a slot per connection,
    // and a pause instead of a busy loop when file descriptors run out. Raw TLS has no way to say
    // "busy" before the handshake, so past the limit a connection is closed.
    let slots = guard::Slots::new(guard::limits::MAX_CONNECTIONS);
    let served = guard::accept::serve(listener, slots, guard::WhenFull::Close, |tcp, peer| {
        let acceptor = acceptor.clone();
        async move {
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
        }
    });
    if let Err(e) = served.await {
        tracing::warn!("TLS front: the listener failed: {e}");
    }
}
// ANCHOR_END: terminate

/// Opens TLS to `stream` for [`SERVER_NAME`], verifying the server's certificate with `config`.
pub async fn connect<S>(stream: S, config: Arc<ClientConfig>) -> std::io::Result<ClientStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(SERVER_NAME)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let tls = TlsConnector::from(config).connect(name, stream).await?;
    Ok(ClientStream { tls, ending: Ending::Open })
}

// ANCHOR: client_stream
/// A client's TLS connection that ends in the order RFC 6455 §7.1.1 asks of a WebSocket client:
/// after the close handshake the server closes TCP first, and the client closes only once it has
/// seen that.
///
/// TLS hides a trap here. rustls reports the end of the stream as soon as the server's
/// `close_notify` alert arrives (RFC 8446 §6.1), and that alert travels *before* the server's TCP
/// FIN. A client that hung up then could close its side before the server's FIN went by. So when
/// TLS has ended, this stream goes on reading the TCP connection underneath until it ends too,
/// then closes its own side politely, with its own `close_notify` and then FIN, and only then
/// tells its reader that the stream is over.
///
/// A client that must not hang on a server that never closes would bound this wait with a timer;
/// the chapter's server always closes.
#[derive(Debug)]
pub struct ClientStream<S> {
    tls: TlsStream<S>,
    ending: Ending,
}
// ANCHOR_END: client_stream

/// Where a [`ClientStream`] is in its ending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Reading decrypted bytes.
    Open,
    /// TLS has ended (the server's close_notify); waiting for the server's TCP FIN.
    AwaitingFin,
    /// The server's TCP side has ended: sending close_notify and FIN.
    ShuttingDown,
    /// Both sides are closed.
    Done,
}

impl<S> ClientStream<S> {
    /// The TLS stream inside, to ask what was negotiated.
    pub fn tls(&self) -> &TlsStream<S> {
        &self.tls
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for ClientStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            match this.ending {
                Ending::Open => {
                    let before = buf.filled().len();
                    ready!(Pin::new(&mut this.tls).poll_read(cx, buf))?;
                    // No bytes into a buffer with room: TLS says the stream is over.
                    if buf.filled().len() > before || buf.remaining() == 0 {
                        return Poll::Ready(Ok(()));
                    }
                    this.ending = Ending::AwaitingFin;
                }
                Ending::AwaitingFin => {
                    let mut scratch = [0u8; 64];
                    let mut after = ReadBuf::new(&mut scratch);
                    let (tcp, _) = this.tls.get_mut();
                    ready!(Pin::new(tcp).poll_read(cx, &mut after))?;
                    if !after.filled().is_empty() {
                        return Poll::Ready(Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("the server sent {} bytes after its close_notify", after.filled().len()),
                        )));
                    }
                    this.ending = Ending::ShuttingDown;
                }
                Ending::ShuttingDown => {
                    // The conversation is over whatever happens here: a failure to say goodbye is
                    // not the reader's problem.
                    let _ = ready!(Pin::new(&mut this.tls).poll_shutdown(cx));
                    this.ending = Ending::Done;
                }
                Ending::Done => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ClientStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().tls).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tls).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.ending == Ending::Done {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.tls).poll_shutdown(cx)
    }
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
    async fn the_client_closes_only_after_the_servers_fin_and_says_close_notify_first() {
        let cert = LocalCert::generate().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = cert.client_config().unwrap();
        let client = tokio::spawn(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut tls = connect(tcp, config).await.unwrap();
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await.unwrap();
            got
        });
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = TlsAcceptor::from(cert.server_config().unwrap()).accept(tcp).await.unwrap();
        tls.write_all(b"bye").await.unwrap();
        // TLS's goodbye, but not yet TCP's: the client's TLS layer now reports the end.
        tls.get_mut().1.send_close_notify();
        tls.flush().await.unwrap();
        let mut buf = [0u8; 64];
        // This can only pass wrongly (a client slower than the wait), never fail wrongly.
        let early = tokio::time::timeout(Duration::from_millis(300), tls.get_mut().0.read(&mut buf)).await;
        assert!(early.is_err(), "the client must not close before the server's FIN: {early:?}");
        tls.get_mut().0.shutdown().await.unwrap();
        let mut rest = Vec::new();
        // rustls reads a close without close_notify as an error (UnexpectedEof).
        tls.read_to_end(&mut rest)
            .await
            .expect("after the server's FIN, the client's close_notify, then FIN");
        assert_eq!(client.await.unwrap(), b"bye");
    }

    #[tokio::test]
    async fn through_the_tap_tls12_shows_its_whole_handshake_in_the_clear_until_change_cipher_spec() {
        let cert = LocalCert::generate().unwrap();
        let tap = tap::Tap::bind("127.0.0.1:0", front(&cert).await).await.unwrap();
        let tcp = TcpStream::connect(tap.local_addr()).await.unwrap();
        let connection = tap.accept().await.unwrap();
        let mut roots = RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let tls12 = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut tls = connect(tcp, Arc::new(tls12)).await.unwrap();
        tls.write_all(b"ping").await.unwrap();
        let mut answer = Vec::new();
        tls.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"pong");
        let text = connection.transcript().await.render(&wire::Render::snapshot().without_tls_sizes());
        // rustls sends the server's first flight as one record or several: look for the names.
        assert!(
            text.lines().any(|l| l.starts_with("S→C TLS record: handshake, in the clear: ServerHello")),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l.contains("in the clear:") && l.contains("Certificate")),
            "in TLS 1.2, the certificate travels in the clear:\n{text}"
        );
        for line in [
            "C→S TLS record: handshake, in the clear: ClientHello\n",
            "─── the server chose TLS 1.2: the handshake goes on in the clear",
            "C→S TLS record: handshake, in the clear: ClientKeyExchange\n",
            "C→S TLS record: change_cipher_spec, in the clear: from here on its sender encrypts (RFC 5246 §7.1)\n\
             C→S TLS record: handshake, encrypted: opaque to the Tap\n",
        ] {
            assert!(text.contains(line), "expected {line:?} in:\n{text}");
        }
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
