//! The server's side of the opening handshake, with an HTTP answer for every refusal.
//!
//! tokio-tungstenite's `accept_async` reads the upgrade request itself and, if anything is wrong,
//! closes the socket without a word. RFC 6455 §4.2.2 asks for an HTTP error instead, and a
//! student poking the server with `curl` deserves to read why. So this module reads the head,
//! lets `wire::handshake` judge it, writes `101` or the error, and only then hands the stream to
//! tungstenite with [`WebSocketStream::from_partially_read`].

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::Role;
use wire::handshake::{Accepted, Rejection, check_upgrade};
use wire::http::{Head, StartLine};

use crate::Limits;

/// Why a connection did not become a WebSocket.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
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

/// Reads an upgrade request from `stream` and answers it: `101` and a [`WebSocketStream`], or an
/// HTTP error and [`AcceptError::Refused`].
///
/// `path` is where the server listens (other paths get 404). The whole handshake must finish
/// within `limits.handshake_timeout` (408 otherwise) and the head must fit in `limits.max_head`
/// bytes (431 otherwise).
pub async fn accept<S>(
    stream: S,
    path: &str,
    limits: &Limits,
) -> Result<(WebSocketStream<S>, Accepted), AcceptError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (stream, leftover, accepted) = handshake(stream, path, limits).await?;
    let config = limits.websocket_config();
    let ws = WebSocketStream::from_partially_read(stream, leftover, Role::Server, Some(config)).await;
    Ok((ws, accepted))
}

/// The handshake alone: reads the upgrade request, answers `101` (or an HTTP error), and returns
/// the stream with any bytes that arrived after the request head, before tungstenite is given
/// the stream. [`accept`] is this plus [`WebSocketStream::from_partially_read`]; the echo server
/// calls the two apart so that an idle connection holds no read buffer (see
/// [`crate::server::handle`]).
pub async fn handshake<S>(
    mut stream: S,
    path: &str,
    limits: &Limits,
) -> Result<(S, Vec<u8>, Accepted), AcceptError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let read = tokio::time::timeout(limits.handshake_timeout, read_head(&mut stream, limits.max_head)).await;
    let (head, leftover) = match read {
        Err(_elapsed) => {
            let seconds = limits.handshake_timeout.as_secs_f32();
            return refuse(&mut stream, 408, format!("the request head did not arrive within {seconds} s"))
                .await;
        }
        Ok(Err(HeadError::TooLarge)) => {
            let max = limits.max_head;
            return refuse(&mut stream, 431, format!("the request head is larger than {max} bytes")).await;
        }
        Ok(Err(HeadError::Malformed(why))) => {
            return refuse(&mut stream, 400, format!("malformed HTTP request: {why}")).await;
        }
        Ok(Err(HeadError::Vanished)) => return Err(AcceptError::Vanished),
        Ok(Err(HeadError::Io(e))) => return Err(AcceptError::Io(e)),
        Ok(Ok(read)) => read,
    };
    let accepted = match judge(&head, path) {
        Ok(accepted) => accepted,
        Err(rejection) => return send_rejection(&mut stream, rejection).await,
    };
    stream.write_all(accepted.response().as_bytes()).await?;
    stream.flush().await?;
    Ok((stream, leftover, accepted))
}

/// Decides whether a request head is an acceptable upgrade on `path`: the checks of
/// `wire::handshake::check_upgrade`, plus 404 for any other path. Shared by the async server,
/// the blocking one and the book server, so they all answer the same way.
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

/// Writes a refusal and reports it.
pub async fn refuse<S, T>(stream: &mut S, status: u16, message: impl Into<String>) -> Result<T, AcceptError>
where
    S: AsyncWrite + Unpin,
{
    let rejection = Rejection { status, message: message.into(), headers: Vec::new() };
    send_rejection(stream, rejection).await
}

async fn send_rejection<S, T>(stream: &mut S, rejection: Rejection) -> Result<T, AcceptError>
where
    S: AsyncWrite + Unpin,
{
    // The client may already be gone; the refusal is still what we report.
    let _ = stream.write_all(&rejection.response()).await;
    let _ = stream.shutdown().await;
    Err(AcceptError::Refused { status: rejection.status, message: rejection.message })
}

enum HeadError {
    TooLarge,
    Malformed(String),
    Vanished,
    Io(std::io::Error),
}

/// Reads until a whole request head has arrived. Returns it and any bytes that came after it.
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
