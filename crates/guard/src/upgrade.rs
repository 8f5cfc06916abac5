//! The server's side of the opening handshake, on top of `wire::handshake`: read the head within
//! the limits, judge it, answer `101` or the HTTP error that says why not.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use wire::handshake::{Accepted, Rejection, check_upgrade};
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

/// Reads an upgrade request for `path` and answers it ([`judge_origin`], with `limits.origins`).
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
    let accepted = match judge_origin(&head, path, &limits.origins) {
        Ok(accepted) => accepted,
        Err(rejection) => return send_rejection(stream, rejection).await,
    };
    stream.write_all(accepted.response().as_bytes()).await?;
    stream.flush().await?;
    Ok((accepted, leftover))
}
