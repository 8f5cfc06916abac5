//! Clients for the chapter: a raw HTTP exchange (what curl does), an upgrade with the headers a
//! browser or a program adds, and the scripted WebSocket session.

use futures_util::{SinkExt, StreamExt};
use serve::Limits;
use serve::client::describe;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use wire::http::Head;

/// What can go wrong on the client side.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The WebSocket library reported an error (including a refused upgrade).
    #[error("WebSocket error: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// The server's answer was not HTTP.
    #[error("the server's answer is not an HTTP response: {0}")]
    NotHttp(String),
    /// The server closed before its answer was complete.
    #[error("the server closed the connection before its response was complete")]
    Truncated,
    /// The server said something the script did not expect.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

/// Largest response the raw client reads; the chapter's are a few hundred bytes.
pub const MAX_RESPONSE: usize = 64 * 1024;

/// Sends `request` (a whole request, head and body) and reads one response, delimited by its
/// `Content-Length`. Reads nothing beyond it, so the connection can carry another request, even
/// an upgrade.
pub async fn exchange<S>(stream: &mut S, request: &str) -> Result<(Head, Vec<u8>), ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(head) = Head::parse_response(&buf).map_err(|e| ClientError::NotHttp(e.0))? {
            let length =
                head.header("Content-Length").and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(0);
            if buf.len() >= head.len + length {
                let body = buf[head.len..head.len + length].to_vec();
                return Ok((head, body));
            }
        }
        if buf.len() > MAX_RESPONSE {
            return Err(ClientError::NotHttp(format!("more than {MAX_RESPONSE} bytes without an end")));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(ClientError::Truncated);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Ends a connection the polite way, as curl does after one response: if the server said it
/// will close, wait for it to; otherwise close our side and then read to the end. Either way the
/// server's close is seen before the client's, on every run.
pub async fn finish<S>(mut stream: S, response: &Head) -> Result<(), ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut rest = Vec::new();
    if !response.closes_connection() {
        stream.shutdown().await?;
    }
    stream.read_to_end(&mut rest).await?;
    Ok(())
}

/// A request head as text, with the given extra header lines (`Name: value`).
pub fn request(method: &str, path: &str, host: &str, headers: &[(&str, &str)]) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text
}

/// Opens a WebSocket over `stream` with `key` and extra headers (`Origin`, `Cookie`,
/// `Authorization`), the way tungstenite writes the request: its five headers, then the extras.
pub async fn upgrade<S>(
    stream: S,
    host: &str,
    path: &str,
    key: &str,
    extra: &[(&str, &str)],
) -> Result<WebSocketStream<S>, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut builder = http::Request::builder()
        .uri(format!("ws://{host}{path}"))
        .header("Host", host)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", key);
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(()).map_err(|e| ClientError::Unexpected(e.to_string()))?;
    let config = serve::TungsteniteConfig::websocket_config(&Limits::default());
    let (ws, _response) = tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    Ok(ws)
}

/// The chapter's WebSocket session: read the server's greeting, send `messages` one at a time
/// and wait for each echo, then close with 1000 and read until the server has closed TCP.
/// Returns what came back, in words.
pub async fn session<S>(
    mut ws: WebSocketStream<S>,
    messages: Vec<Message>,
) -> Result<Vec<String>, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut received = Vec::new();
    received.push(next_message(&mut ws).await?);
    for message in messages {
        ws.send(message).await?;
        received.push(next_message(&mut ws).await?);
    }
    ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "done".into() })).await?;
    while let Some(message) = ws.next().await {
        match message {
            Ok(message) => received.push(describe(&message)),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(received)
}

async fn next_message<S>(ws: &mut WebSocketStream<S>) -> Result<String, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let message = ws.next().await.ok_or_else(|| ClientError::Unexpected("the server closed".into()))??;
    Ok(describe(&message))
}
