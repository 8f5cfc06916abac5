//! The same echo on blocking tungstenite: one thread per connection, plain `Read + Write`.
//!
//! The async server in [`crate::server`] multiplexes many connections on a few threads; this one
//! spends a thread (and its stack) on each. For a classroom both are fine, and seeing them side
//! by side is the point: the WebSocket logic is identical, only the I/O model differs. The book
//! server uses [`echo`] on the streams tiny_http hands over after an upgrade.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocket};
use tungstenite::{Message, WebSocket as Ws};
use wire::CloseCode;
use wire::http::Head;

use crate::accept::judge;
use crate::server::{Ending, short_reason};
use crate::{Limits, PATH};

/// Serves the echo on `listener`, a thread per connection, until the listener fails.
pub fn serve(listener: TcpListener, limits: Limits) -> std::io::Result<()> {
    let active = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let limits = limits.clone();
        let active = active.clone();
        std::thread::spawn(move || {
            use std::sync::atomic::Ordering;
            let count = active.fetch_add(1, Ordering::SeqCst) + 1;
            if count > limits.max_connections {
                let message = format!("the server is at its limit of {} connections", limits.max_connections);
                let rejection = wire::handshake::Rejection { status: 503, message, headers: Vec::new() };
                let mut stream = stream;
                let _ = stream.write_all(&rejection.response());
            } else {
                handle(stream, &limits);
            }
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

/// One connection: read the head (within the handshake timeout), answer it, echo.
pub fn handle(mut stream: TcpStream, limits: &Limits) -> Option<Ending> {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(limits.handshake_timeout));
    let (head, leftover) = read_head(&mut stream, limits.max_head)?;
    match judge(&head, PATH) {
        Ok(accepted) => {
            stream.write_all(accepted.response().as_bytes()).ok()?;
            let _ = stream.set_read_timeout(None);
            let mut ws = WebSocket::from_partially_read(
                stream,
                leftover,
                Role::Server,
                Some(limits.websocket_config()),
            );
            Some(echo(&mut ws, limits))
        }
        Err(rejection) => {
            let _ = stream.write_all(&rejection.response());
            None
        }
    }
}

fn read_head(stream: &mut TcpStream, max: usize) -> Option<(Head, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        // A timeout, an error or the client leaving all end the attempt.
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        match Head::parse_request(&buf) {
            Ok(Some(head)) => {
                let leftover = buf.split_off(head.len);
                return Some((head, leftover));
            }
            Ok(None) if buf.len() <= max => {}
            Ok(None) | Err(_) => {
                let status = if buf.len() > max { 431 } else { 400 };
                let message =
                    if status == 431 { "the request head is too large" } else { "malformed HTTP request" };
                let rejection =
                    wire::handshake::Rejection { status, message: message.into(), headers: Vec::new() };
                let _ = stream.write_all(&rejection.response());
                return None;
            }
        }
    }
}

/// A blocking stream whose reads can be bounded in time. The wait for the peer's close frame
/// uses it, so a peer that never answers cannot hold the thread for ever.
pub trait BoundedReads: Read + Write {
    /// Makes every later read give up after `timeout`.
    fn bound_reads(&mut self, timeout: std::time::Duration);
}

impl BoundedReads for TcpStream {
    fn bound_reads(&mut self, timeout: std::time::Duration) {
        let _ = self.set_read_timeout(Some(timeout));
    }
}

/// A stream that cannot bound its reads, such as the one tiny_http hands over after an upgrade
/// (it hides the socket). The close wait then lasts until the peer answers or TCP gives up.
pub struct Unbounded<S>(pub S);

impl<S: Read> Read for Unbounded<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl<S: Write> Write for Unbounded<S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<S: Read + Write> BoundedReads for Unbounded<S> {
    fn bound_reads(&mut self, _timeout: std::time::Duration) {}
}

/// Echoes messages until the connection ends; the blocking twin of [`crate::server::echo`].
pub fn echo<S: BoundedReads>(ws: &mut Ws<S>, limits: &Limits) -> Ending {
    let mut peer_close = None;
    loop {
        let message = match ws.read() {
            Ok(message) => message,
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return match peer_close {
                    Some(code) => Ending::PeerClosed(code),
                    None => Ending::Dropped("the connection ended".into()),
                };
            }
            Err(e) => return fail(ws, &e, limits),
        };
        let answer = match message {
            Message::Text(text) => Message::Text(text),
            Message::Binary(data) => Message::Binary(data),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            Message::Close(frame) => {
                peer_close = Some(frame.map(|f| CloseCode(u16::from(f.code))));
                continue;
            }
        };
        if let Err(e) = ws.send(answer) {
            return fail(ws, &e, limits);
        }
    }
}

fn fail<S: BoundedReads>(ws: &mut Ws<S>, error: &tungstenite::Error, limits: &Limits) -> Ending {
    let Some(code) = crate::limits::close_code_for(error) else {
        return Ending::Dropped(error.to_string());
    };
    let reason = short_reason(error);
    let frame = CloseFrame { code: TCloseCode::from(code.0), reason: reason.clone().into() };
    let _ = ws.close(Some(frame));
    // Wait for the peer's close frame (closing with unread data in the socket would send RST and
    // could destroy our close frame before the peer reads it), but not for ever.
    ws.get_mut().bound_reads(limits.close_timeout);
    let deadline = std::time::Instant::now() + limits.close_timeout;
    while std::time::Instant::now() < deadline {
        if ws.read().is_err() {
            break;
        }
    }
    Ending::WeClosed(code, reason)
}
