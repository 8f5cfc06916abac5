//! The server's side of the opening handshake, on top of `wire::handshake`: read the head within
//! the limits, judge it (the handshake's rules, `Origin`, the subprotocol), answer `101` or the
//! HTTP error that says why not.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use wire::handshake::{Accepted, Rejection, check_upgrade, choose_protocol};
use wire::http::{Head, StartLine};

use crate::Limits;
use crate::admission::Origins;
use crate::head::read_request;
use crate::refuse::{HandshakeError, send_rejection};

/// Decides whether a request head is an acceptable upgrade on `path`: the checks of
/// `wire::handshake::check_upgrade`, plus 404 for any other path. Every WebSocket server in the
/// workspace judges with this, so they all answer the same request the same way.
pub fn judge(head: &Head, path: &str) -> Result<Accepted, Rejection> {
    let StartLine::Request { method, target, minor } = &head.start else {
        return Err(Rejection { status: 400, message: "expected a request".into(), headers: Vec::new() });
    };
    let request_path = target.split('?').next().unwrap_or_default();
    if request_path != path {
        let message = format!("nothing at {request_path}; the WebSocket is at {path}");
        return Err(Rejection { status: 404, message, headers: Vec::new() });
    }
    let headers = head.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    check_upgrade(method, *minor, headers)
}

// ANCHOR: judge_origin
/// [`judge`], then `Origin` (RFC 6455 §10.2): a page of an origin `origins` does not allow gets
/// `403 Forbidden`, before any `101`. Every WebSocket server without accounts answers with this
/// (the echoes, the by-hand server, the heartbeat); one with sign-in adds a credential check
/// (`crate::admission::Admission`).
pub fn judge_origin(head: &Head, path: &str, origins: &Origins) -> Result<Accepted, Rejection> {
    let accepted = judge(head, path)?;
    origins.check(head)?;
    Ok(accepted)
}
// ANCHOR_END: judge_origin

// ANCHOR: subprotocols
/// The subprotocols a server speaks (RFC 6455 §1.9), and what it answers to a client's offer.
///
/// A client may offer subprotocols in `Sec-WebSocket-Protocol` (a browser page:
/// `new WebSocket(url, ["chat.v2", "chat.v1"])`), in its order of preference. The server picks
/// one and names it in its `101`; which one is the server's choice (§4.2.2). Ours takes the
/// client's first that it speaks ([`wire::handshake::choose_protocol`]).
///
/// When the two have none in common, the RFC lets the server answer `101` without the header and
/// carry on. Ours refuses with `400 Bad Request` and a body that says what it speaks: every
/// client that offered a protocol and gets none back fails the connection anyway (browsers must,
/// by the WebSockets Standard; tungstenite does too), and then nobody can read why. A client
/// that offers nothing gets a `101` without the header, as from any server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subprotocols(Vec<String>);

impl Subprotocols {
    /// Speaks none: a client that offers any is refused, one that offers none is answered.
    pub fn none() -> Subprotocols {
        Subprotocols(Vec::new())
    }

    /// Speaks these.
    pub fn speak<S: AsRef<str>>(protocols: impl IntoIterator<Item = S>) -> Subprotocols {
        Subprotocols(protocols.into_iter().map(|p| p.as_ref().to_owned()).collect())
    }

    /// The protocols spoken.
    pub fn spoken(&self) -> &[String] {
        &self.0
    }

    /// Agrees on a subprotocol for `accepted`, or refuses with `400`: see the type's docs.
    pub fn agree(&self, accepted: Accepted) -> Result<Accepted, Rejection> {
        if accepted.offered.is_empty() {
            return Ok(accepted);
        }
        if let Some(protocol) = choose_protocol(&accepted.offered, &self.0).map(str::to_owned) {
            return Ok(accepted.with_protocol(Some(&protocol)));
        }
        let spoken = if self.0.is_empty() { "none".to_owned() } else { self.0.join(", ") };
        Err(Rejection {
            status: 400,
            message: format!(
                "no subprotocol in common: the client offered {}, this server speaks {spoken} \
                 (Sec-WebSocket-Protocol, RFC 6455 §4.2.2)",
                accepted.offered.join(", ")
            ),
            headers: Vec::new(),
        })
    }
}
// ANCHOR_END: subprotocols

/// What every WebSocket server without accounts answers with: [`judge_origin`] with
/// `limits.origins`, then the subprotocol, with `limits.protocols` ([`Subprotocols::agree`]).
pub fn judge_handshake(head: &Head, path: &str, limits: &Limits) -> Result<Accepted, Rejection> {
    judge_origin(head, path, &limits.origins).and_then(|accepted| limits.protocols.agree(accepted))
}

/// Reads an upgrade request for `path` and answers it ([`judge_handshake`]).
/// On success `101 Switching Protocols` has been written, and the result holds any bytes the client sent after its head (frames it did
/// not wait to send). On failure the HTTP error has been written.
pub async fn handshake<S>(
    stream: &mut S,
    path: &str,
    limits: &Limits,
) -> Result<(Accepted, Vec<u8>), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (head, leftover) = read_request(stream, limits).await?;
    let accepted = match judge_handshake(&head, path, limits) {
        Ok(accepted) => accepted,
        Err(rejection) => return send_rejection(stream, rejection).await,
    };
    stream.write_all(accepted.response().as_bytes()).await?;
    stream.flush().await?;
    Ok((accepted, leftover))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(offered: &[&str]) -> Accepted {
        Accepted {
            key: String::new(),
            accept: String::new(),
            origin: None,
            offered: offered.iter().map(|p| (*p).to_owned()).collect(),
            protocol: None,
        }
    }

    #[test]
    fn a_common_subprotocol_is_agreed_in_the_clients_order() {
        let server = Subprotocols::speak(["chat.v1", "chat.v2"]);
        let agreed = server.agree(accepted(&["chat.v2", "chat.v1"])).unwrap();
        assert_eq!(agreed.protocol.as_deref(), Some("chat.v2"), "the client's first that we speak");
    }

    #[test]
    fn an_offer_with_nothing_in_common_gets_400_that_names_both_sides() {
        for server in [Subprotocols::speak(["chat.v1"]), Subprotocols::none()] {
            let refused = server.agree(accepted(&["chat.v3"])).unwrap_err();
            assert_eq!(refused.status, 400);
            assert!(refused.message.contains("chat.v3"), "{}", refused.message);
        }
    }

    #[test]
    fn no_offer_is_answered_without_a_subprotocol() {
        let agreed = Subprotocols::speak(["chat.v1"]).agree(accepted(&[])).unwrap();
        assert_eq!(agreed.protocol, None);
    }
}
