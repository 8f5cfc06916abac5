//! The HTTP/2 server: pages and a WebSocket echo on one connection (RFC 8441).
//!
//! One TCP (or TLS) connection carries many streams. Each stream is one request: `GET /` for the
//! page, `GET /hello.txt`, and an *extended CONNECT* for the WebSocket, which stays open while
//! the others come and go. The server:
//! 1. sends `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` in its first SETTINGS frame (RFC 8441 §3):
//!    without it a client may not send an extended CONNECT;
//! 2. checks the CONNECT: `:protocol websocket`, the path, `sec-websocket-version: 13` (§5);
//! 3. answers `200` (not `101`: HTTP/2 has no Upgrade, §5), with no `Sec-WebSocket-Accept`:
//!    there is no key to prove anything about, the CONNECT itself says what the client wants;
//! 4. runs the same WebSocket frames as ever inside the stream ([`crate::stream::H2Stream`]).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use h2::server::SendResponse;
use http::{Method, Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::Role;

use crate::stream::H2Stream;

/// Where the echo answers.
pub const ECHO_PATH: &str = "/ws/echo";

/// The page, served at `/`: it opens a WebSocket to the same origin and logs what happens.
pub const PAGE: &str = include_str!("page.html");

/// A small text at `/hello.txt`: another request on the same connection while the WebSocket is
/// open.
pub const HELLO: &str = "hello over HTTP/2\n";

/// How long the server waits for the client's END_STREAM after its own, before it lets the
/// stream go (and h2 resets it).
pub const CLIENT_END: std::time::Duration = std::time::Duration::from_secs(5);

/// The size of `/picture`: a download that fits in HTTP/2's initial flow-control windows
/// (65,535 bytes, RFC 9113 §6.9.2), so the server sends it at once.
pub const PICTURE: usize = 48 * 1024;

/// What `/picture` is made of: one byte, over and over, easy to spot in a transcript.
pub const PICTURE_BYTE: u8 = 0xa5;

/// What went wrong on a connection.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// HTTP/2 itself failed (a protocol error, the connection closed mid-request).
    #[error("HTTP/2: {0}")]
    H2(#[from] h2::Error),
    /// A WebSocket inside a stream failed.
    #[error("WebSocket: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// The stream's byte stream failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// What the server did, one line per request, for tests and the terminal to watch.
#[derive(Clone, Debug)]
pub struct Journal(Arc<watch::Sender<Vec<String>>>);

impl Default for Journal {
    fn default() -> Self {
        Journal(Arc::new(watch::Sender::new(Vec::new())))
    }
}

impl Journal {
    /// An empty journal.
    pub fn new() -> Journal {
        Journal::default()
    }

    /// Adds a line.
    pub fn add(&self, line: String) {
        tracing::info!("{line}");
        self.0.send_modify(|lines| lines.push(line));
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    /// Waits until a line matches `pred`, and returns it.
    pub async fn wait_for(&self, pred: impl Fn(&str) -> bool) -> String {
        let mut rx = self.0.subscribe();
        let found = rx.wait_for(|lines| lines.iter().any(|l| pred(l))).await;
        let line = found.ok().and_then(|lines| lines.iter().find(|l| pred(l)).cloned());
        line.unwrap_or_default()
    }
}

// ANCHOR: handshake
/// Serves one HTTP/2 connection (after TLS, or cleartext "prior knowledge" where the client
/// starts with the preface at once, RFC 9113 §3.3) until the client goes away.
pub async fn serve_connection<T>(io: T, journal: Journal) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut connection = h2::server::Builder::new()
        // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in the server's first SETTINGS frame.
        .enable_connect_protocol()
        .handshake::<_, Bytes>(io)
        .await?;
    while let Some(request) = connection.accept().await {
        let (request, respond) = request?;
        let journal = journal.clone();
        // Each stream gets its own task: a WebSocket that stays open does not hold up the next
        // request, and the connection keeps being driven by this loop.
        tokio::spawn(async move {
            if let Err(e) = handle(request, respond, &journal).await {
                journal.add(format!("error: {e}"));
            }
        });
    }
    Ok(())
}
// ANCHOR_END: handshake

async fn handle(
    request: Request<h2::RecvStream>,
    respond: SendResponse<Bytes>,
    journal: &Journal,
) -> Result<(), Error> {
    let stream = respond.stream_id().as_u32();
    let path = request.uri().path().to_owned();
    let protocol = request.extensions().get::<h2::ext::Protocol>().map(|p| p.as_str().to_owned());
    let method = request.method().clone();
    match (&method, protocol.as_deref(), path.as_str()) {
        (&Method::CONNECT, Some("websocket"), ECHO_PATH) => websocket(request, respond, journal).await,
        (&Method::GET, None, "/") => {
            send(respond, journal, stream, "GET /", StatusCode::OK, "text/html", PAGE)
        }
        (&Method::GET, None, "/picture") => {
            let response =
                Response::builder().status(StatusCode::OK).header("content-type", "image/x-demo").body(())?;
            let mut respond = respond;
            let mut send = respond.send_response(response, false)?;
            send.send_data(Bytes::from(vec![PICTURE_BYTE; PICTURE]), true)?;
            journal.add(format!("stream {stream}: GET /picture → 200"));
            Ok(())
        }
        (&Method::GET, None, "/hello.txt") => {
            send(respond, journal, stream, "GET /hello.txt", StatusCode::OK, "text/plain", HELLO)
        }
        _ => {
            let what = match protocol {
                Some(p) => format!("{method} :protocol {p} {path}"),
                None => format!("{method} {path}"),
            };
            send(respond, journal, stream, &what, StatusCode::NOT_FOUND, "text/plain", "not found\n")
        }
    }
}

fn send(
    mut respond: SendResponse<Bytes>,
    journal: &Journal,
    stream: u32,
    what: &str,
    status: StatusCode,
    content_type: &str,
    body: &'static str,
) -> Result<(), Error> {
    let response = Response::builder().status(status).header("content-type", content_type).body(())?;
    let mut send = respond.send_response(response, false)?;
    send.send_data(Bytes::from_static(body.as_bytes()), true)?;
    journal.add(format!("stream {stream}: {what} → {}", status.as_u16()));
    Ok(())
}

impl From<http::Error> for Error {
    fn from(e: http::Error) -> Self {
        Error::Io(std::io::Error::other(e))
    }
}

/// How many connections the server serves at once.
pub const MAX_CONNECTIONS: usize = 256;

/// How long a client has to finish the TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Accepts connections on `listener` and serves each as HTTP/2: inside TLS if `tls` is given
/// (what a browser needs), cleartext with prior knowledge otherwise (what `curl
/// --http2-prior-knowledge` and the demo's client speak).
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    journal: Journal,
) -> std::io::Result<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let slots = guard::Slots::new(MAX_CONNECTIONS);
    guard::accept::serve(listener, slots, guard::WhenFull::Close, move |stream, peer| {
        let (acceptor, journal) = (acceptor.clone(), journal.clone());
        async move {
            let result = match acceptor {
                Some(acceptor) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => serve_connection(tls, journal.clone()).await,
                        Ok(Err(e)) => Err(Error::Io(e)),
                        Err(_) => return,
                    }
                }
                None => serve_connection(stream, journal.clone()).await,
            };
            if let Err(e) = result {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        }
    })
    .await
}

// ANCHOR: websocket
/// An extended CONNECT for `websocket`: checked, answered `200`, then an echo inside the stream.
async fn websocket(
    request: Request<h2::RecvStream>,
    mut respond: SendResponse<Bytes>,
    journal: &Journal,
) -> Result<(), Error> {
    let stream = respond.stream_id().as_u32();
    if request.headers().get("sec-websocket-version").is_none_or(|v| v != "13") {
        // RFC 6455 §4.4's answer to a version it does not speak, kept for HTTP/2 (RFC 8441 §5).
        let response = Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .header("sec-websocket-version", "13")
            .body(())?;
        respond.send_response(response, true)?;
        journal.add(format!("stream {stream}: extended CONNECT without sec-websocket-version 13 → 400"));
        return Ok(());
    }
    // 200, and the stream stays open: END_STREAM not set.
    let send = respond.send_response(Response::new(()), false)?;
    journal.add(format!("stream {stream}: extended CONNECT :protocol websocket {ECHO_PATH} → 200"));
    let io = H2Stream::new(send, request.into_body());
    // From here on, nothing about HTTP/2: the same tungstenite as the echo chapter's.
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    while let Some(message) = ws.next().await {
        match message? {
            message @ (Message::Text(_) | Message::Binary(_)) => ws.send(message).await?,
            Message::Close(frame) => {
                let code = frame.map_or(1005, |f| u16::from(f.code));
                journal.add(format!("stream {stream}: WebSocket closed by the client, {code}"));
            }
            // Pings are answered by tungstenite itself.
            _ => {}
        }
    }
    // The close handshake is done: END_STREAM, the stream's FIN; the server ends first, as it
    // closes TCP first over HTTP/1.1 (RFC 6455 §7.1.1). Then it waits for the client's
    // END_STREAM: a stream dropped before both sides have ended is reset (RST_STREAM).
    let mut io = ws.into_inner();
    io.shutdown().await?;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(CLIENT_END, io.read_to_end(&mut rest)).await;
    Ok(())
}
// ANCHOR_END: websocket
