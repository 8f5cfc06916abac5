//! The HTTP/2 client: requests and a WebSocket on one connection, as a browser's page would.
//!
//! [`Client::handshake`] opens the connection (the 24-byte preface, then SETTINGS). A request
//! opens a stream; [`Client::websocket`] opens one with an extended CONNECT, which a client may
//! only send once the server's SETTINGS said `ENABLE_CONNECT_PROTOCOL = 1` (RFC 8441 §3).

use bytes::Bytes;
use h2::client::SendRequest;
use http::{Method, Request, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::Role;

use crate::stream::H2Stream;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// HTTP/2 itself failed.
    #[error("HTTP/2: {0}")]
    H2(#[from] h2::Error),
    /// A request could not be built.
    #[error("request: {0}")]
    Http(#[from] http::Error),
    /// The server did not advertise extended CONNECT.
    #[error(
        "the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, so a client must not send an extended \
         CONNECT (RFC 8441 §3); a browser would open a separate HTTP/1.1 connection instead"
    )]
    NoExtendedConnect,
    /// The server refused the WebSocket.
    #[error("the server answered the extended CONNECT with {0}, not 200 (RFC 8441 §5)")]
    Refused(StatusCode),
}

/// An HTTP/2 connection, from the client's side.
pub struct Client {
    send: SendRequest<Bytes>,
    driver: JoinHandle<Result<(), h2::Error>>,
    authority: String,
}

/// A response, whole.
#[derive(Debug)]
pub struct Reply {
    /// The stream it came on.
    pub stream: u32,
    /// Its status.
    pub status: StatusCode,
    /// Its body.
    pub body: Vec<u8>,
}

impl Client {
    /// Opens an HTTP/2 connection over `io` ("prior knowledge": the preface at once, RFC 9113
    /// §3.3). `authority` is the `:authority` of every request (`host:port`).
    pub async fn handshake<T>(io: T, authority: &str) -> Result<Client, Error>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (send, connection) = h2::client::handshake(io).await?;
        // The connection is a future that reads and writes frames for every stream: it runs in
        // its own task for as long as the connection is open.
        let driver = tokio::spawn(connection);
        Ok(Client { send, driver, authority: authority.to_owned() })
    }

    /// `GET path`, the response read whole.
    pub async fn get(&self, path: &str) -> Result<Reply, Error> {
        let request = Request::get(format!("http://{}{path}", self.authority)).body(())?;
        let mut send = self.send.clone().ready().await?;
        let (response, _) = send.send_request(request, true)?;
        let response = response.await?;
        let status = response.status();
        let mut body = response.into_body();
        let stream = body.stream_id().as_u32();
        let mut bytes = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
            bytes.extend_from_slice(&chunk);
        }
        Ok(Reply { stream, status, body: bytes })
    }

    /// Whether the server's SETTINGS allowed extended CONNECT (RFC 8441 §3). The server sends
    /// its SETTINGS first, so once any response has arrived, they have too.
    pub fn extended_connect_allowed(&self) -> bool {
        self.send.is_extended_connect_protocol_enabled()
    }

    // ANCHOR: connect
    /// Opens a WebSocket at `path` on a new stream of this connection: an extended CONNECT,
    /// a `200`, then WebSocket frames in the stream's DATA frames.
    pub async fn websocket(&mut self, path: &str) -> Result<WebSocketStream<H2Stream>, Error> {
        if !self.extended_connect_allowed() {
            return Err(Error::NoExtendedConnect);
        }
        let mut request = Request::builder()
            .method(Method::CONNECT)
            .uri(format!("http://{}{path}", self.authority))
            .header("sec-websocket-version", "13")
            .body(())?;
        // `:protocol websocket`, the pseudo-header RFC 8441 §4 adds to CONNECT.
        request.extensions_mut().insert(h2::ext::Protocol::from_static("websocket"));
        let mut send = self.send.clone().ready().await?;
        let (response, stream) = send.send_request(request, false)?;
        let response = response.await?;
        if response.status() != StatusCode::OK {
            return Err(Error::Refused(response.status()));
        }
        let io = H2Stream::new(stream, response.into_body());
        // The client side of RFC 6455 from here on: it masks every frame, as always.
        Ok(WebSocketStream::from_raw_socket(io, Role::Client, None).await)
    }
    // ANCHOR_END: connect

    /// Closes the connection: no new streams; h2 sends GOAWAY once every stream has ended, and
    /// then the transport is closed.
    pub async fn close(self) -> Result<(), Error> {
        drop(self.send);
        match self.driver.await {
            Ok(result) => Ok(result?),
            Err(_) => Ok(()),
        }
    }
}
