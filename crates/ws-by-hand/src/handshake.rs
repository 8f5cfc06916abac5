//! The opening handshake, by hand: read an HTTP request head, judge it, answer `101` or an error.
//!
//! The checks and the accept key are `wire::handshake`'s; reading the head within a size and a
//! time limit is the `guard` crate's, shared by every server in the workspace. What is left for
//! the server is the order of the steps and writing the answer. The answers are byte for byte
//! the tungstenite echo's (`serve::accept`), which is what lets a test compare the two servers'
//! transcripts.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use wire::handshake::Accepted;

pub use guard::HandshakeError;
pub use guard::refuse::refuse;
pub use guard::upgrade::{judge, judge_handshake, judge_origin};

use crate::Limits;

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
    // Until the empty line that ends the head, within `limits.max_head` bytes (431 past it) and
    // `limits.handshake_timeout` (408 past it); bytes that are not HTTP get 400.
    let (head, leftover) = guard::head::read_request(stream, limits).await?;
    // RFC 6455 §4.2.1: GET, HTTP/1.1, Upgrade, Connection, Host, a 16-byte key, version 13;
    // then §10.2: a page of another origin than this server's (or `--allow-origin`'s) gets 403;
    // then §4.2.2: of the subprotocols the client offers, the first we speak (400 if none).
    let accepted = match judge_handshake(&head, path, limits) {
        Ok(accepted) => accepted,
        Err(rejection) => return guard::refuse::send_rejection(stream, rejection).await,
    };
    // RFC 6455 §4.2.2: `101 Switching Protocols` with `Sec-WebSocket-Accept` (and
    // `Sec-WebSocket-Protocol` if one was agreed); after its empty line, both sides speak frames.
    stream.write_all(accepted.response().as_bytes()).await?;
    stream.flush().await?;
    Ok((accepted, leftover))
}
// ANCHOR_END: handshake
