//! The opening handshake, by hand: read an HTTP request head, judge it, answer `101` or an error.
//!
//! The checks and the accept key are `wire::handshake`'s; what is left for the server is reading
//! until the empty line that ends the head (with a size and a time limit), and writing the answer.
//! The answers are byte for byte the tungstenite echo's (`ws_echo::accept`), which is what lets a
//! test compare the two servers' transcripts.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wire::handshake::{Accepted, Rejection, check_upgrade};
use wire::http::{Head, StartLine};

use crate::Limits;

/// Why a connection did not become a WebSocket.
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

// ANCHOR: handshake
/// Reads an upgrade request and answers it. On success the `101` has been written and the result
/// holds any bytes the client sent after its head (frames it did not wait to send).
pub async fn handshake<S>(
    stream: &mut S,
    path: &str,
    limits: &Limits,
) -> Result<(Accepted, Vec<u8>), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let read = tokio::time::timeout(limits.handshake_timeout, read_head(stream, limits.max_head)).await;
    let (head, leftover) = match read {
        Err(_elapsed) => {
            let seconds = limits.handshake_timeout.as_secs_f32();
            return refuse(stream, 408, format!("the request head did not arrive within {seconds} s")).await;
        }
        Ok(Err(HeadError::TooLarge)) => {
            let max = limits.max_head;
            return refuse(stream, 431, format!("the request head is larger than {max} bytes")).await;
        }
        Ok(Err(HeadError::Malformed(why))) => {
            return refuse(stream, 400, format!("malformed HTTP request: {why}")).await;
        }
        Ok(Err(HeadError::Vanished)) => return Err(HandshakeError::Vanished),
        Ok(Err(HeadError::Io(e))) => return Err(HandshakeError::Io(e)),
        Ok(Ok(read)) => read,
    };
    let accepted = match judge(&head, path) {
        Ok(accepted) => accepted,
        Err(rejection) => return send_rejection(stream, rejection).await,
    };
    // RFC 6455 §4.2.2: `101 Switching Protocols` with `Sec-WebSocket-Accept`; after its empty
    // line, both sides speak frames.
    stream.write_all(accepted.response().as_bytes()).await?;
    stream.flush().await?;
    Ok((accepted, leftover))
}
// ANCHOR_END: handshake

/// Whether `head` is an acceptable upgrade on `path`: `wire::handshake::check_upgrade`, plus 404
/// for any other path (with the tungstenite echo's wording).
pub fn judge(head: &Head, path: &str) -> Result<Accepted, Rejection> {
    let StartLine::Request { method, target, minor } = &head.start else {
        return Err(Rejection { status: 400, message: "expected a request".into(), headers: Vec::new() });
    };
    let request_path = target.split('?').next().unwrap_or_default();
    if request_path != path {
        let message = format!("nothing at {request_path}; the WebSocket echo is at {path}");
        return Err(Rejection { status: 404, message, headers: Vec::new() });
    }
    let headers = head.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    check_upgrade(method, *minor, headers)
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

async fn send_rejection<S, T>(stream: &mut S, rejection: Rejection) -> Result<T, HandshakeError>
where
    S: AsyncWrite + Unpin,
{
    // The client may already be gone; the refusal is still what we report.
    let _ = stream.write_all(&rejection.response()).await;
    let _ = stream.shutdown().await;
    Err(HandshakeError::Refused { status: rejection.status, message: rejection.message })
}

enum HeadError {
    TooLarge,
    Malformed(String),
    Vanished,
    Io(std::io::Error),
}

/// Reads until a whole request head has arrived. Returns it and any bytes that came after it:
/// TCP does not stop at the end of the head, so the first frames may share a read with it.
async fn read_head<S>(stream: &mut S, max: usize) -> Result<(Head, Vec<u8>), HeadError>
where
    S: AsyncRead + Unpin,
{
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Vanished);
        }
        buf.extend_from_slice(&chunk[..n]);
        match Head::parse_request(&buf) {
            Ok(Some(head)) => {
                let leftover = buf.split_off(head.len);
                return Ok((head, leftover));
            }
            Ok(None) if buf.len() > max => return Err(HeadError::TooLarge),
            Ok(None) => {}
            Err(e) => return Err(HeadError::Malformed(e.0)),
        }
    }
}
