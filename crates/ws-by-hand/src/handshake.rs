//! The opening handshake, by hand: read an HTTP request head, judge it, answer `101` or an error.
//!
//! The checks and the accept key are `wire::handshake`'s; reading the head within a size and a
//! time limit is the `guard` crate's, shared by every server in the workspace. What is left for
//! the server is the order of the steps and writing the answer. The answers are byte for byte
//! the tungstenite echo's (`serve::accept`), which is what lets a test compare the two servers'
//! transcripts. With permessage-deflate configured (`--deflate`), the server also reads the
//! client's `Sec-WebSocket-Extensions` offers and names the one it accepts in the `101`.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use wire::deflate::{DeflateAgreement, DeflateConfig, Negotiation};
use wire::handshake::Accepted;
use wire::http::Head;

pub use guard::HandshakeError;
pub use guard::refuse::refuse;
pub use guard::upgrade::{judge, judge_handshake, judge_origin};

use crate::Limits;

/// What an accepted upgrade settled: the request's key and origin, the extension agreed on (if
/// any), and the bytes the client sent after its head.
#[derive(Debug)]
pub struct Upgraded {
    /// The key, the accept value and the origin.
    pub accepted: Accepted,
    /// permessage-deflate's parameters, if the server was configured for it and the client
    /// offered something it could accept.
    pub deflate: Option<DeflateAgreement>,
    /// Bytes that arrived after the head: frames the client did not wait to send.
    pub leftover: Vec<u8>,
}

// ANCHOR: handshake
/// Reads an upgrade request and answers it. On success the `101` has been written and the result
/// holds any bytes the client sent after its head (frames it did not wait to send). `deflate`:
/// the compression this server is willing to use, or `None` to accept no extension.
pub async fn handshake<S>(
    stream: &mut S,
    path: &str,
    limits: &Limits,
    deflate: Option<&DeflateConfig>,
) -> Result<Upgraded, HandshakeError>
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
    // RFC 7692 §5: compression only if the client offered it and the server accepts the offer.
    let negotiation = deflate.map(|config| negotiate(&head, config)).unwrap_or_default();
    // RFC 6455 §4.2.2: `101 Switching Protocols` with `Sec-WebSocket-Accept` (and
    // `Sec-WebSocket-Protocol` if one was agreed); after its empty line, both sides speak frames.
    let response = accepted.response_with_extensions(negotiation.response_header().as_deref());
    stream.write_all(response.as_bytes()).await?;
    stream.flush().await?;
    Ok(Upgraded { accepted, deflate: negotiation.accepted, leftover })
}
// ANCHOR_END: handshake

// ANCHOR: negotiate
/// RFC 7692 §5: every `Sec-WebSocket-Extensions` header of the request, in order, against what
/// the server is willing to do. A browser sends `permessage-deflate; client_max_window_bits`;
/// the first offer the server can honour wins, and an offer it cannot is declined, never
/// refused: the connection then simply goes on without compression.
pub fn negotiate(head: &Head, config: &DeflateConfig) -> Negotiation {
    let offers = head
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, value)| value.as_str());
    let negotiation = wire::deflate::negotiate(config, offers);
    for declined in &negotiation.declined {
        tracing::debug!(offer = %declined.offer, reason = %declined.reason, "extension offer declined");
    }
    negotiation
}
// ANCHOR_END: negotiate
