//! The client side: connect with a chosen `Sec-WebSocket-Key`, and the echo chapter's scripted
//! session, recorded through a Tap.
//!
//! Browsers and tungstenite pick a random key for each connection (RFC 6455 §4.1 asks for a
//! fresh nonce). A fixed key makes the handshake identical on every run, which is what lets the
//! book show a transcript that a test re-creates byte for byte.

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;

use std::net::SocketAddr;

use tap::{Observer, Tap};
use wire::Transcript;

use crate::{ECHO_PATH, Error, Limits, TungsteniteConfig};

/// The key from RFC 6455 §1.3, whose accept value the RFC works out: the demo uses it so the
/// transcript matches the RFC's example.
pub const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// Opens a WebSocket over an existing stream. `host` is sent as the `Host` header; `key`, if
/// given, is sent as `Sec-WebSocket-Key` instead of a random one.
pub async fn connect_over<S>(
    stream: S,
    host: &str,
    path: &str,
    key: Option<&str>,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    connect_over_with(stream, host, path, key, &[]).await
}

/// [`connect_over`], with more header fields after the five every upgrade carries: an `Origin`,
/// as a browser page sends it, or whatever a demo needs to show (the proxy chapter forges an
/// `X-Forwarded-For`).
pub async fn connect_over_with<S>(
    stream: S,
    host: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let key = key.map_or_else(tungstenite::handshake::client::generate_key, str::to_owned);
    // tungstenite writes these five headers first, in this order, then any others.
    let mut request = http::Request::builder()
        .uri(format!("ws://{host}{path}"))
        .header("Host", host)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", key);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request =
        request.body(()).map_err(|e| Error::Url { url: format!("ws://{host}{path}"), why: e.to_string() })?;
    let config = Limits::default().websocket_config();
    let (ws, _response) = tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    Ok(ws)
}

/// [`connect_over`], offering `protocols` in `Sec-WebSocket-Protocol` (in order of preference,
/// as `new WebSocket(url, protocols)` does). Returns the socket and the subprotocol the server
/// named in its `101`. tungstenite checks the answer as RFC 6455 §4.1 and the WebSockets
/// Standard ask: a protocol the client did not offer, or none when it offered some, fails the
/// connection with `Error::Protocol(SecWebSocketSubProtocolError(…))`.
pub async fn connect_offering<S>(
    stream: S,
    host: &str,
    path: &str,
    key: Option<&str>,
    protocols: &[&str],
) -> Result<(WebSocketStream<S>, Option<String>), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let key = key.map_or_else(tungstenite::handshake::client::generate_key, str::to_owned);
    let mut request = http::Request::builder()
        .uri(format!("ws://{host}{path}"))
        .header("Host", host)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", key);
    if !protocols.is_empty() {
        request = request.header("Sec-WebSocket-Protocol", protocols.join(", "));
    }
    let request =
        request.body(()).map_err(|e| Error::Url { url: format!("ws://{host}{path}"), why: e.to_string() })?;
    let config = Limits::default().websocket_config();
    let (ws, response) = tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    let protocol = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    Ok((ws, protocol))
}

/// The subprotocol page's exchange, through a new Tap in front of `server`: an upgrade to `path`
/// offering `protocols`; if it opens, one text message, its echo and the close handshake. Returns
/// the transcript and what the client saw, in words: the protocol agreed (what a browser shows as
/// `ws.protocol`), the echo, or why there is no connection.
///
/// When tungstenite fails the connection itself (an answer it must not accept), the client
/// closes TCP first, as RFC 6455 §4.1 says a client fails a connection before it opens; when the
/// server refuses with an HTTP error, the client reads the refusal to its end. Either way the
/// order on the wire is the same on every run.
pub async fn offer_protocols(
    server: SocketAddr,
    path: &str,
    protocols: &[&str],
) -> Result<(Transcript, Vec<String>), Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tap = Tap::bind("127.0.0.1:0", server).await?;
    let mut stream = TcpStream::connect(tap.local_addr()).await?;
    stream.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let host = tap.local_addr().to_string();
    let mut said = vec![format!("the client offered: {}", protocols.join(", "))];
    match connect_offering(&mut stream, &host, path, Some(RFC_KEY), protocols).await {
        Ok((mut ws, protocol)) => {
            said.push(match protocol {
                Some(protocol) => format!("ws.protocol: {protocol:?}"),
                None => "ws.protocol: \"\" (no subprotocol)".to_owned(),
            });
            ws.send(Message::text("hello")).await?;
            if let Some(echo) = ws.next().await {
                said.push(format!("sent text \"hello\", received {}", describe(&echo?)));
            }
            ws.close(Some(CloseFrame { code: TCloseCode::Normal, reason: "done".into() })).await?;
            while let Some(message) = ws.next().await {
                match message {
                    Ok(message) => said.push(format!("received {}", describe(&message))),
                    Err(tungstenite::Error::ConnectionClosed) => break,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Err(error) => {
            let refused = refusal(&error);
            said.push(
                refused.clone().unwrap_or_else(|| format!("the client failed the connection: {error}")),
            );
            if refused.is_none() {
                // The client fails the connection: it closes TCP without a close frame.
                stream.shutdown().await?;
            }
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
        }
    }
    drop(stream);
    Ok((connection.transcript().await, said))
}

/// Connects to `url` (`ws://host:port/path`).
pub async fn connect(url: &str, key: Option<&str>) -> Result<WebSocketStream<TcpStream>, Error> {
    let (authority, path) = split_ws_url(url)?;
    let stream = TcpStream::connect(&authority).await?;
    stream.set_nodelay(true)?;
    connect_over(stream, &authority, &path, key).await
}

/// Longest refusal reason [`refusal`] shows: a line of a terminal, not a whole page.
pub const MAX_REFUSAL_REASON: usize = 200;

/// The server's answer to a refused handshake in one line, its status and the first line of its
/// body (where every Duplex server says why, RFC 6455 §4.2.2), or `None` for any other error.
/// tungstenite keeps the body bytes that arrived with the head: usually all of a short refusal.
pub fn refusal(error: &Error) -> Option<String> {
    let Error::WebSocket(tungstenite::Error::Http(response)) = error else { return None };
    let status = response.status();
    let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
    let first = body.lines().next().unwrap_or_default().trim();
    let mut cut = first.len().min(MAX_REFUSAL_REASON);
    while !first.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(match &first[..cut] {
        "" => format!("the server refused the upgrade: {status}"),
        reason => format!("the server refused the upgrade: {status}: {reason}"),
    })
}

/// `ws://127.0.0.1:3000/ws/echo` → (`127.0.0.1:3000`, `/ws/echo`).
pub fn split_ws_url(url: &str) -> Result<(String, String), Error> {
    let bad = |why: &str| Error::Url { url: url.to_owned(), why: why.to_owned() };
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| bad("it must start with ws:// (wss:// is in the chapter on TLS)"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(bad("it has no host"));
    }
    let authority = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_owned()))
}

/// One step of the scripted session: what was sent and what came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What the client sent, in words.
    pub sent: String,
    /// What the client received in answer, in words.
    pub received: String,
}

/// The chapter's exchange: a text message, a binary message, a ping, and the close handshake.
/// Each step waits for its answer before the next, so the order on the wire is the same on every
/// run.
// ANCHOR: session
pub async fn scripted_session<S>(mut ws: WebSocketStream<S>) -> Result<Vec<Step>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut steps = Vec::new();
    for message in [
        Message::text("Hello, WebSocket!"),
        Message::binary(vec![0xde, 0xad, 0xbe, 0xef]),
        Message::Ping("are you there?".into()),
    ] {
        let sent = describe(&message);
        ws.send(message).await?;
        let answer =
            ws.next().await.ok_or_else(|| Error::Unexpected("the server closed the connection".into()))??;
        steps.push(Step { sent, received: describe(&answer) });
    }
    let close = CloseFrame { code: TCloseCode::Normal, reason: "done".into() };
    ws.close(Some(close)).await?;
    let mut received = String::from("(nothing)");
    // Keep reading after the server's close frame until the server closes TCP: the client that
    // drops the connection first leaves its port in TIME_WAIT (RFC 6455 §7.1.1).
    while let Some(message) = ws.next().await {
        match message {
            Ok(message) => received = describe(&message),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => return Err(e.into()),
        }
    }
    steps.push(Step { sent: "close 1000 \"done\"".into(), received });
    Ok(steps)
}
// ANCHOR_END: session

/// A scripted session, recorded: the Tap's transcript and the client's own view.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Every byte both ways, decoded.
    pub transcript: Transcript,
    /// What the client sent and got back, step by step.
    pub steps: Vec<Step>,
}

/// Runs [`scripted_session`] at [`ECHO_PATH`] through a new Tap in front of the echo server at
/// `server`, with the RFC's example key; `observer` sees each event as it happens. Any echo
/// server will do: the echo chapter's, the by-hand one, the book server.
pub async fn through_tap(server: SocketAddr, observer: Option<Observer>) -> Result<Recording, Error> {
    let mut tap = Tap::bind("127.0.0.1:0", server).await?;
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event| observer(id, event));
    }
    let stream = TcpStream::connect(tap.local_addr()).await?;
    stream.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let host = tap.local_addr().to_string();
    let ws = connect_over(stream, &host, ECHO_PATH, Some(RFC_KEY)).await?;
    let steps = scripted_session(ws).await?;
    let transcript = connection.transcript().await;
    Ok(Recording { transcript, steps })
}

/// A message in words, for the client's output.
pub fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("text {:?}", text.as_str()),
        Message::Binary(data) => format!("binary {:02x?}", data.as_ref()),
        Message::Ping(data) => format!("ping {:?}", String::from_utf8_lossy(data)),
        Message::Pong(data) => format!("pong {:?}", String::from_utf8_lossy(data)),
        Message::Close(Some(frame)) => {
            let code = wire::CloseCode(u16::from(frame.code));
            format!("close {code} {:?}", frame.reason.as_str())
        }
        Message::Close(None) => "close (no code: 1005)".into(),
        Message::Frame(_) => "a raw frame".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused handshake as tungstenite reports it: the response, with the body bytes it read.
    fn refused(status: u16, body: Option<&[u8]>) -> Error {
        let response = http::Response::builder().status(status).body(body.map(<[u8]>::to_vec)).unwrap();
        Error::WebSocket(tungstenite::Error::Http(Box::new(response)))
    }

    #[test]
    fn a_refusal_is_its_status_and_the_first_line_of_its_body() {
        let line = refusal(&refused(403, Some(b"this origin may not connect\nmore detail\n"))).unwrap();
        assert_eq!(line, "the server refused the upgrade: 403 Forbidden: this origin may not connect");
        assert_eq!(
            refusal(&refused(503, None)).unwrap(),
            "the server refused the upgrade: 503 Service Unavailable"
        );
        let long = refusal(&refused(400, Some("é".repeat(500).as_bytes()))).unwrap();
        assert!(long.len() <= "the server refused the upgrade: 400 Bad Request: ".len() + MAX_REFUSAL_REASON);
        assert!(refusal(&Error::Unexpected("x".into())).is_none(), "only refusals are refusals");
    }

    #[test]
    fn urls_split_into_authority_and_path() {
        let (a, p) = split_ws_url("ws://127.0.0.1:3000/ws/echo").unwrap();
        assert_eq!((a.as_str(), p.as_str()), ("127.0.0.1:3000", "/ws/echo"));
        let (a, p) = split_ws_url("ws://localhost").unwrap();
        assert_eq!((a.as_str(), p.as_str()), ("localhost:80", "/"));
        assert!(split_ws_url("http://x/").is_err());
    }
}
