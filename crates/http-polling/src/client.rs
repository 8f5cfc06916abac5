//! Clients for every mode, on a plain `TcpStream`: HTTP/1.1 written and read by hand.
//!
//! A library such as `reqwest` would hide exactly what this chapter is about: which headers go
//! out, whether the connection is reused, how a chunked body arrives. Here every request is the
//! bytes its [`Request`] says, nothing added, so a transcript is the same on every run; and a
//! response is read by the rules of RFC 9112 §6.3 (`Content-Length`, chunked, or until close).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use wire::http::{BodyKind, Head};

use crate::feed::Message;
use crate::server::paths;
use crate::sse;

/// How long a client waits for the server before giving up: longer than any long poll, so it
/// never fires in a test unless something is broken (and then the test fails, not hangs).
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// What went wrong on the client's side.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The server said something this client did not expect.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// The connection ended before what the client was reading was complete: the server (or
    /// something in between) dropped it. For an event stream, this is a drop, not an end: the
    /// last chunk never came.
    #[error("the connection ended before {0}")]
    Closed(String),
    /// The WebSocket library reported an error.
    #[error("WebSocket error: {0}")]
    WebSocket(#[from] tungstenite::Error),
}

/// A request, exactly as it will be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target, such as `/messages?since=0`.
    pub target: String,
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor: u8,
    /// Header fields in order. Nothing is added, not even `Host`.
    pub headers: Vec<(String, String)>,
    /// The body; a non-empty body gets a `Content-Length` after the headers.
    pub body: Vec<u8>,
}

impl Request {
    /// `GET target HTTP/1.1` with a `Host` header.
    pub fn get(host: &str, target: &str) -> Request {
        Request {
            method: "GET".into(),
            target: target.into(),
            minor: 1,
            headers: vec![("Host".into(), host.into())],
            body: Vec::new(),
        }
    }

    /// `POST target HTTP/1.1` with `Host`, `Content-Type: text/plain` and the text as body.
    pub fn post_text(host: &str, target: &str, text: &str) -> Request {
        Request { method: "POST".into(), body: text.as_bytes().to_vec(), ..Request::get(host, target) }
            .header("Content-Type", "text/plain; charset=utf-8")
    }

    /// The same request with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same request as HTTP/1.0.
    pub fn http_1_0(mut self) -> Request {
        self.minor = 0;
        self
    }

    /// The bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.{}\r\n", self.method, self.target, self.minor);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// A response: its head and its whole body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status line and headers.
    pub head: Head,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.head.status().unwrap_or_default()
    }

    /// The body as a JSON list of messages.
    pub fn messages(&self) -> Result<Vec<Message>, Error> {
        parse_messages(&self.body)
    }
}

/// One HTTP/1.1 connection, used for one request after another (keep-alive).
pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
    host: String,
}

impl Connection {
    /// Connects to `addr`. Requests made with the mode functions send `Host: addr`.
    pub fn open(addr: SocketAddr) -> Result<Connection, Error> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        Ok(Connection { stream, buf: Vec::new(), host: addr.to_string() })
    }

    /// The `Host` this connection's requests carry.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Sends a request without reading anything.
    pub fn send(&mut self, request: &Request) -> Result<(), Error> {
        self.stream.write_all(&request.to_bytes())?;
        Ok(())
    }

    /// Sends a request and reads its whole response.
    pub fn exchange(&mut self, request: &Request) -> Result<Response, Error> {
        self.send(request)?;
        self.read_response(&request.method)
    }

    /// Reads the next whole response, the answer to a request with `method` sent before (with
    /// [`Connection::send`]: several requests may be sent before their answers are read).
    pub fn read_response(&mut self, method: &str) -> Result<Response, Error> {
        let head = self.read_head()?;
        let body = match head.body(Some(method)) {
            BodyKind::None | BodyKind::SwitchProtocols => Vec::new(),
            BodyKind::Length(n) => self.read_exact(usize::try_from(n).unwrap_or(usize::MAX))?,
            BodyKind::Chunked => {
                let mut body = Vec::new();
                while let Some(chunk) = self.read_chunk()? {
                    body.extend_from_slice(&chunk);
                }
                body
            }
            BodyKind::UntilClose => self.read_to_end()?,
        };
        Ok(Response { head, body })
    }

    /// Reads a response head.
    pub fn read_head(&mut self) -> Result<Head, Error> {
        loop {
            if let Some(head) =
                Head::parse_response(&self.buf).map_err(|e| Error::Unexpected(e.to_string()))?
            {
                self.buf.drain(..head.len);
                return Ok(head);
            }
            self.fill("a response head")?;
        }
    }

    /// Reads one chunk of a chunked body; `None` after the last (zero-size) chunk.
    pub fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let line = self.read_line()?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| Error::Unexpected(format!("{line:?} is not a chunk size")))?;
        if size == 0 {
            // Trailer fields, if any, end with an empty line.
            while !self.read_line()?.is_empty() {}
            return Ok(None);
        }
        let data = self.read_exact(size)?;
        if !self.read_line()?.is_empty() {
            return Err(Error::Unexpected("a chunk's data is not followed by CRLF".into()));
        }
        Ok(Some(data))
    }

    /// Reads until the server closes the connection.
    pub fn read_to_end(&mut self) -> Result<Vec<u8>, Error> {
        let mut rest = std::mem::take(&mut self.buf);
        self.stream.read_to_end(&mut rest)?;
        Ok(rest)
    }

    /// Reads whatever arrives next (at least one byte), or an empty vector at the end.
    pub fn read_some(&mut self) -> Result<Vec<u8>, Error> {
        if self.buf.is_empty() {
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk)?;
            return Ok(chunk[..n].to_vec());
        }
        Ok(std::mem::take(&mut self.buf))
    }

    /// Closes the connection the polite way: no more requests (FIN), then read until the server
    /// has closed its side too.
    pub fn close(mut self) -> Result<(), Error> {
        self.stream.shutdown(std::net::Shutdown::Write)?;
        let _ = self.read_to_end()?;
        Ok(())
    }

    fn fill(&mut self, waiting_for: &str) -> Result<(), Error> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(Error::Closed(waiting_for.to_owned()));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, Error> {
        while self.buf.len() < n {
            self.fill("the end of the body")?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn read_line(&mut self) -> Result<String, Error> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.drain(..end + 2);
                return Ok(line);
            }
            self.fill("the end of a line")?;
        }
    }
}

/// A JSON list of messages, as the polls answer.
pub fn parse_messages(body: &[u8]) -> Result<Vec<Message>, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Error::Unexpected(format!("not JSON: {e}")))?;
    let list = value.as_array().ok_or_else(|| Error::Unexpected("not a JSON list".into()))?;
    list.iter().map(parse_message).collect()
}

/// One `{"id":…,"text":…}` object.
pub fn parse_message(value: &serde_json::Value) -> Result<Message, Error> {
    let id = value.get("id").and_then(serde_json::Value::as_u64);
    let text = value.get("text").and_then(serde_json::Value::as_str);
    match (id, text) {
        (Some(id), Some(text)) => Ok(Message { id, text: text.to_owned() }),
        _ => Err(Error::Unexpected(format!("not a message: {value}"))),
    }
}

// ANCHOR: short_poll_client
/// The request a short-polling client sends.
pub fn short_poll_request(host: &str, prefix: &str, since: u64) -> Request {
    Request::get(host, &format!("{prefix}{}?since={since}", paths::MESSAGES))
        .header("Accept", "application/json")
}

/// One short poll: what is newer than `since`, maybe nothing.
pub fn short_poll(connection: &mut Connection, prefix: &str, since: u64) -> Result<Vec<Message>, Error> {
    let response = connection.exchange(&short_poll_request(&connection.host.clone(), prefix, since))?;
    expect(&response, 200)?;
    response.messages()
}
// ANCHOR_END: short_poll_client

// ANCHOR: long_poll_client
/// One long poll: what is newer than `since`, or `None` if the server answered `204` because
/// nothing came within `timeout` seconds.
pub fn long_poll(
    connection: &mut Connection,
    prefix: &str,
    since: u64,
    timeout: u64,
) -> Result<Option<Vec<Message>>, Error> {
    let target = format!("{prefix}{}?since={since}&timeout={timeout}", paths::WAIT);
    let request = Request::get(&connection.host.clone(), &target).header("Accept", "application/json");
    let response = connection.exchange(&request)?;
    match response.status() {
        204 => Ok(None),
        200 => response.messages().map(Some),
        _ => Err(unexpected(&response)),
    }
}
// ANCHOR_END: long_poll_client

/// Publishes `text` with `POST /messages`.
pub fn publish(connection: &mut Connection, prefix: &str, text: &str) -> Result<Message, Error> {
    let request = Request::post_text(&connection.host.clone(), &format!("{prefix}{}", paths::MESSAGES), text);
    let response = connection.exchange(&request)?;
    expect(&response, 200)?;
    let value = serde_json::from_slice(&response.body).map_err(|e| Error::Unexpected(e.to_string()))?;
    parse_message(&value)
}

// ANCHOR: sse_client
/// An open event stream, read event by event.
pub struct EventStream {
    connection: Connection,
    parser: sse::Parser,
    pending: std::collections::VecDeque<sse::Event>,
    chunked: bool,
    ended: bool,
}

impl EventStream {
    /// The request an `EventSource` sends, with `Last-Event-ID` when it resumes.
    pub fn request(host: &str, prefix: &str, last_event_id: Option<u64>) -> Request {
        let mut request = Request::get(host, &format!("{prefix}{}", paths::EVENTS))
            .header("Accept", "text/event-stream")
            .header("Cache-Control", "no-cache");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", &id.to_string());
        }
        request
    }

    /// Sends `request` on `connection` and reads the response head.
    pub fn open(mut connection: Connection, request: &Request) -> Result<EventStream, Error> {
        connection.send(request)?;
        let head = connection.read_head()?;
        if head.status() != Some(200)
            || !head.header("Content-Type").is_some_and(|t| t.starts_with("text/event-stream"))
        {
            return Err(Error::Unexpected(format!("not an event stream: {}", head.start)));
        }
        let chunked = head.body(Some("GET")) == BodyKind::Chunked;
        let pending = std::collections::VecDeque::new();
        Ok(EventStream { connection, parser: sse::Parser::new(), pending, chunked, ended: false })
    }

    /// The next event (including the first, with `retry:` and the instance), or `None` when the
    /// server ended the stream. A stream that is cut off, without its last chunk, is
    /// [`Error::Closed`].
    pub fn next_event(&mut self) -> Result<Option<sse::Event>, Error> {
        while self.pending.is_empty() && !self.ended {
            let bytes = if self.chunked {
                self.connection.read_chunk()?
            } else {
                Some(self.connection.read_some()?).filter(|b| !b.is_empty())
            };
            match bytes {
                Some(bytes) => self.pending.extend(self.parser.feed(&bytes)),
                None => self.ended = true,
            }
        }
        Ok(self.pending.pop_front())
    }

    /// The connection, after the stream has ended (to reuse or close it).
    pub fn into_connection(self) -> Connection {
        self.connection
    }
}
// ANCHOR_END: sse_client

/// A blocking WebSocket client for the feed, with a chosen key (see `ws_echo::client`).
pub fn websocket(
    addr: SocketAddr,
    path: &str,
    key: &str,
) -> Result<tungstenite::WebSocket<TcpStream>, Error> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let host = addr.to_string();
    let request = http::Request::builder()
        .uri(format!("ws://{host}{path}"))
        .header("Host", &host)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", key)
        .body(())
        .map_err(|e| Error::Unexpected(e.to_string()))?;
    let (ws, _) = tungstenite::client::client(request, stream).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => Error::WebSocket(e),
        tungstenite::HandshakeError::Interrupted(_) => {
            Error::Unexpected("the handshake was interrupted".into())
        }
    })?;
    Ok(ws)
}

fn expect(response: &Response, status: u16) -> Result<(), Error> {
    if response.status() == status { Ok(()) } else { Err(unexpected(response)) }
}

fn unexpected(response: &Response) -> Error {
    Error::Unexpected(format!("{}: {}", response.head.start, String::from_utf8_lossy(&response.body).trim()))
}
