//! The server's side of the opening handshake, with an HTTP answer for every refusal.
//!
//! tokio-tungstenite's `accept_async` reads the upgrade request itself and, if anything is wrong,
//! closes the socket without a word. RFC 6455 §4.2.2 asks for an HTTP error instead, and a
//! student poking the server with `curl` deserves to read why. So the head is read and judged by
//! the `guard` crate (within the size and time limits every server shares), `101` or the error is
//! written, and only then is the stream handed to tungstenite with
//! [`WebSocketStream::from_partially_read`].

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::Role;
use wire::handshake::Accepted;

pub use guard::HandshakeError as AcceptError;
pub use guard::refuse::refuse;
pub use guard::upgrade::{Subprotocols, judge, judge_handshake, judge_origin};

use crate::Limits;
use crate::limits::TungsteniteConfig;

/// Reads an upgrade request from `stream` and answers it: `101` and a [`WebSocketStream`], or an
/// HTTP error and [`AcceptError::Refused`].
///
/// `path` is where the server listens (other paths get 404). The whole head must arrive within
/// `limits.handshake_timeout` (408 otherwise) and fit in `limits.max_head` bytes (431 otherwise).
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
/// the echo chapter's server).
pub async fn handshake<S>(
    mut stream: S,
    path: &str,
    limits: &Limits,
) -> Result<(S, Vec<u8>, Accepted), AcceptError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (accepted, leftover) = guard::upgrade::handshake(&mut stream, path, limits).await?;
    Ok((stream, leftover, accepted))
}
