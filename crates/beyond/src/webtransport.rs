//! WebTransport (W3C WebTransport; over HTTP/3, draft-ietf-webtrans-http3): a session on a QUIC
//! connection, with reliable streams and unreliable datagrams, from a browser page.
//!
//! Where a WebSocket is one ordered byte stream of messages, a WebTransport session can open
//! many streams, each ordered on its own, so a lost packet holds up only its own stream (QUIC,
//! RFC 9000 §2), and can send datagrams that may be lost and are never retransmitted (RFC 9221).
//! [`serve`] is an echo of both: each bidirectional stream is read to its end and written back,
//! each datagram is sent back.
//!
//! QUIC always runs TLS 1.3 (RFC 9001). Instead of a certificate from an authority, a page may
//! name the exact certificate it trusts by its SHA-256 hash (`serverCertificateHashes` in
//! `new WebTransport(url, options)`), if that certificate is valid for at most 14 days and has
//! an ECDSA key: [`Echo::bind`] makes one and gives its hash, and the page carries it.

use std::net::SocketAddr;

use wtransport::endpoint::IncomingSession;
use wtransport::endpoint::endpoint_side::Server;
use wtransport::{Endpoint, Identity, ServerConfig};

use crate::server::Journal;

/// The page, with `{{PORT}}` and `{{HASH}}` to fill in.
const PAGE: &str = include_str!("webtransport.html");

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The certificate or the endpoint could not be made.
    #[error("WebTransport setup: {0}")]
    Setup(String),
    /// A session failed.
    #[error("WebTransport session: {0}")]
    Session(String),
}

fn session<E: std::fmt::Display>(e: E) -> Error {
    Error::Session(e.to_string())
}

/// A WebTransport echo endpoint on a UDP port, and the hash of its certificate.
pub struct Echo {
    endpoint: Endpoint<Server>,
    hash: [u8; 32],
}

impl Echo {
    /// Binds a UDP socket at `addr` (port 0 for any) with a fresh self-signed certificate for
    /// `localhost` and `127.0.0.1`, valid 14 days (the most `serverCertificateHashes` allows).
    pub fn bind(addr: SocketAddr) -> Result<Echo, Error> {
        let identity =
            Identity::self_signed(["localhost", "127.0.0.1"]).map_err(|e| Error::Setup(e.to_string()))?;
        let hash = *identity.certificate_chain().as_slice()[0].hash().as_ref();
        let config = ServerConfig::builder().with_bind_address(addr).with_identity(identity).build();
        let endpoint = Endpoint::server(config).map_err(|e| Error::Setup(e.to_string()))?;
        Ok(Echo { endpoint, hash })
    }

    /// The UDP address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// The SHA-256 hash of its certificate, for `serverCertificateHashes`.
    pub fn certificate_hash(&self) -> [u8; 32] {
        self.hash
    }

    /// The page that connects to this endpoint.
    pub fn page(&self) -> Result<String, Error> {
        let port = self.local_addr().map_err(|e| Error::Setup(e.to_string()))?.port();
        let hash: Vec<String> = self.hash.iter().map(u8::to_string).collect();
        Ok(PAGE.replace("{{PORT}}", &port.to_string()).replace("{{HASH}}", &hash.join(", ")))
    }

    /// Accepts sessions and echoes them, until the endpoint is dropped.
    pub async fn serve(self, journal: Journal) {
        loop {
            let incoming = self.endpoint.accept().await;
            let journal = journal.clone();
            tokio::spawn(async move {
                if let Err(e) = echo(incoming, &journal).await {
                    journal.add(format!("session ended: {e}"));
                }
            });
        }
    }
}

/// The most a stream may send before the echo stops reading it.
const MAX_STREAM: usize = 64 * 1024;

async fn echo(incoming: IncomingSession, journal: &Journal) -> Result<(), Error> {
    let request = incoming.await.map_err(session)?;
    journal.add(format!("session request: {} {}", request.authority(), request.path()));
    let connection = request.accept().await.map_err(session)?;
    loop {
        tokio::select! {
            stream = connection.accept_bi() => {
                let (mut send, mut recv) = stream.map_err(session)?;
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                while let Some(n) = recv.read(&mut buf).await.map_err(session)? {
                    data.extend_from_slice(&buf[..n]);
                    if data.len() > MAX_STREAM {
                        break;
                    }
                }
                send.write_all(&data).await.map_err(session)?;
                send.finish().await.map_err(session)?;
                journal.add(format!("bidirectional stream: {} bytes echoed", data.len()));
            }
            datagram = connection.receive_datagram() => {
                let datagram = datagram.map_err(session)?;
                connection.send_datagram(datagram.payload()).map_err(session)?;
                journal.add(format!("datagram: {} bytes echoed", datagram.payload().len()));
            }
        }
    }
}
