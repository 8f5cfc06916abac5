//! Refusing a connection with an HTTP error (RFC 6455 §4.2.2: an invalid handshake gets an HTTP
//! response, not a silent close), async or blocking.

use std::io::Write;

use tokio::io::{AsyncWrite, AsyncWriteExt};
use wire::handshake::Rejection;

/// Why a connection did not become a WebSocket (or did not get its request answered).
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The request was refused with this HTTP status (the response has been sent).
    #[error("refused with {status}: {message}")]
    Refused {
        /// The HTTP status sent.
        status: u16,
        /// The one-line reason sent in the body.
        message: String,
    },
    /// The client closed the connection before its request was complete.
    #[error("the client went away during the handshake")]
    Vanished,
    /// A socket error.
    #[error("I/O error during the handshake: {0}")]
    Io(#[from] std::io::Error),
}

impl From<crate::head::HeadError> for HandshakeError {
    fn from(error: crate::head::HeadError) -> Self {
        match error {
            crate::head::HeadError::Io(e) => HandshakeError::Io(e),
            crate::head::HeadError::Vanished => HandshakeError::Vanished,
            other => match other.rejection() {
                Some(r) => HandshakeError::Refused { status: r.status, message: r.message },
                None => HandshakeError::Vanished,
            },
        }
    }
}

/// Writes a refusal with `status` and reports it.
pub async fn refuse<S, T>(
    stream: &mut S,
    status: u16,
    message: impl Into<String>,
) -> Result<T, HandshakeError>
where
    S: AsyncWrite + Unpin,
{
    let rejection = Rejection { status, message: message.into(), headers: Vec::new() };
    send_rejection(stream, rejection).await
}

/// Writes `rejection` (with `Connection: close`), shuts the stream down, and reports it.
pub async fn send_rejection<S, T>(stream: &mut S, rejection: Rejection) -> Result<T, HandshakeError>
where
    S: AsyncWrite + Unpin,
{
    // The client may already be gone; the refusal is still what we report.
    let _ = stream.write_all(&rejection.response()).await;
    let _ = stream.shutdown().await;
    Err(HandshakeError::Refused { status: rejection.status, message: rejection.message })
}

/// The blocking twin of [`send_rejection`].
pub fn send_rejection_blocking<T>(
    stream: &mut std::net::TcpStream,
    rejection: Rejection,
) -> Result<T, HandshakeError> {
    let _ = stream.write_all(&rejection.response());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Err(HandshakeError::Refused { status: rejection.status, message: rejection.message })
}
