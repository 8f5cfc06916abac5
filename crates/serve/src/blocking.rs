//! The echo on blocking tungstenite: one thread per connection, plain `Read + Write`.
//!
//! The echo chapter's async server multiplexes many connections on a few threads; this one
//! spends a thread (and its stack) on each. For a classroom both are fine, and seeing them side
//! by side is the point: the WebSocket logic is identical, only the I/O model differs. The servers
//! on tiny_http (the book server, one-port) run [`echo`] on the streams tiny_http hands over
//! after an upgrade, and `ws-echo-server --blocking` runs [`handle`] on each connection.
//!
//! A blocking server bounds its waits with the socket's own timeouts: a read that waits longer
//! than the idle timeout, or a write that waits longer than the send timeout, fails, and the
//! connection is closed (1000 "idle", or 1013 for a client that stopped reading).
//!
//! After an error, tungstenite's reader is left where it broke and must not be used again (a
//! frame over the size limit is never read, and a second read trips an assertion inside
//! tungstenite in debug builds). So the close that answers an error is a *lingering close*, as
//! web servers do it: our close frame, then our half of TCP is closed (the peer reads the end
//! after the frame), and what the peer still sends is read and thrown away until it closes its
//! half, for at most the close timeout. Closing a socket with unread bytes in it would send a
//! reset, which can destroy our close frame before the peer reads it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use guard::limits::{IDLE_CODE, SLOW_READER_CODE};
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocket};
use tungstenite::{Message, WebSocket as Ws};
use wire::CloseCode;

use crate::accept::judge_handshake;
use crate::close::Ending;
use crate::limits::short_reason;
use crate::{ECHO_PATH, Limits, TungsteniteConfig};

/// One connection: read the head (within the handshake timeout), answer it, echo at
/// [`ECHO_PATH`]; logged as the echo chapter's async server logs it.
pub fn handle(mut stream: TcpStream, limits: &Limits) -> Option<Ending> {
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().map_or_else(|_| "?".to_owned(), |a| a.to_string());
    let (head, leftover) = match guard::head::read_request_blocking(&mut stream, limits) {
        Ok(read) => read,
        Err(e) => {
            tracing::info!(%peer, "handshake refused: {e}");
            return None;
        }
    };
    // RFC 6455 §4.2.1, then §10.2: a page of another origin gets 403 (`limits.origins`); then
    // the subprotocol (`limits.protocols`).
    match judge_handshake(&head, ECHO_PATH, limits) {
        Ok(accepted) => {
            stream.write_all(accepted.response().as_bytes()).ok()?;
            tracing::info!(%peer, "WebSocket open");
            let config = Some(limits.websocket_config());
            let mut ws = WebSocket::from_partially_read(stream, leftover, Role::Server, config);
            let ending = echo(&mut ws, limits);
            tracing::info!(%peer, ?ending, "WebSocket closed");
            Some(ending)
        }
        Err(rejection) => {
            tracing::info!(%peer, "handshake refused: {} {}", rejection.status, rejection.message);
            let _: Result<(), _> = guard::refuse::send_rejection_blocking(&mut stream, rejection);
            None
        }
    }
}

/// A blocking stream with a socket underneath that can be told how long to wait, and that we
/// have finished sending.
pub trait Timeouts: Read + Write {
    /// Makes every later read give up after `read`, and every write after `write` (`None`: wait
    /// for ever).
    fn set_timeouts(&mut self, read: Option<Duration>, write: Option<Duration>);

    /// Closes our half of the connection: the peer reads the end of the stream after what we
    /// sent, and we can still read what it sends (TCP's half-close, `shutdown(SHUT_WR)`).
    fn shutdown_write(&mut self);
}

impl Timeouts for TcpStream {
    fn set_timeouts(&mut self, read: Option<Duration>, write: Option<Duration>) {
        let _ = self.set_read_timeout(read);
        let _ = self.set_write_timeout(write);
    }

    fn shutdown_write(&mut self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

/// A stream read and written through one object (such as the one tiny_http hands over after an
/// upgrade), with a handle on its socket for the timeouts. Without a socket (`None`), reads and
/// writes wait as long as TCP lets them.
pub struct Upgraded<S> {
    /// Where the bytes are read and written.
    pub stream: S,
    /// The same connection's socket, for its options only. Shared, not duplicated: tiny_http's
    /// `Request::socket` hands out the connection's own handle, so a WebSocket costs one file
    /// descriptor.
    pub socket: Option<std::sync::Arc<TcpStream>>,
}

impl<S: Read> Read for Upgraded<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.stream.read(buf)
    }
}

impl<S: Write> Write for Upgraded<S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

impl<S: Read + Write> Timeouts for Upgraded<S> {
    fn set_timeouts(&mut self, read: Option<Duration>, write: Option<Duration>) {
        if let Some(socket) = &self.socket {
            let _ = socket.set_read_timeout(read);
            let _ = socket.set_write_timeout(write);
        }
    }

    fn shutdown_write(&mut self) {
        // Whatever the stream still buffers goes out first.
        let _ = self.stream.flush();
        if let Some(socket) = &self.socket {
            let _ = socket.shutdown(Shutdown::Write);
        }
    }
}

/// Whether an I/O error is a socket timeout (Linux says `WouldBlock`, Windows `TimedOut`).
pub fn timed_out(error: &tungstenite::Error) -> bool {
    matches!(error, tungstenite::Error::Io(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
}

/// Whether a system call was interrupted by a signal before it did anything (`EINTR`).
fn interrupted(error: &tungstenite::Error) -> bool {
    matches!(error, tungstenite::Error::Io(e) if e.kind() == ErrorKind::Interrupted)
}

/// Echoes messages until the connection ends; the blocking twin of the echo chapter's async
/// `ws_echo::server::echo`.
pub fn echo<S: Timeouts>(ws: &mut Ws<S>, limits: &Limits) -> Ending {
    ws.get_mut().set_timeouts(limits.idle_timeout, Some(limits.send_timeout));
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
            // A signal interrupted the system call (strace or a debugger attaching does that to a
            // read with a timeout): nothing was lost, so read again.
            Err(e) if interrupted(&e) => continue,
            // The read timeout is the idle timeout: no bytes for that long.
            Err(e) if timed_out(&e) => return close(ws, IDLE_CODE, limits.idle_reason(), limits),
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
        match ws.send(answer) {
            Ok(()) => {}
            // The answer stays in tungstenite's queue; the next read writes it.
            Err(e) if interrupted(&e) => {}
            // The write timeout is the send timeout: the client stopped reading.
            Err(e) if timed_out(&e) => return cast_off(ws, limits),
            Err(e) => return fail(ws, &e, limits),
        }
    }
}

/// Answers an error with the close code it deserves, then closes lingeringly (see the module's
/// doc): tungstenite cannot read the peer's answer after an error.
fn fail<S: Timeouts>(ws: &mut Ws<S>, error: &tungstenite::Error, limits: &Limits) -> Ending {
    let Some(code) = crate::limits::close_code_for(error) else {
        return Ending::Dropped(error.to_string());
    };
    let reason = short_reason(error);
    let frame = CloseFrame { code: TCloseCode::from(code.0), reason: reason.clone().into() };
    let deadline = Instant::now() + limits.close_timeout;
    ws.get_mut().set_timeouts(None, Some(limits.close_timeout));
    let _ = ws.close(Some(frame));
    linger(ws.get_mut(), deadline);
    Ending::WeClosed(code, reason)
}

/// Closes our half of TCP, then reads and drops what the peer still sends (the rest of a message
/// too large, its close frame) until it closes its half or `deadline` passes.
fn linger<S: Timeouts>(stream: &mut S, deadline: Instant) {
    stream.shutdown_write();
    let mut discard = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        stream.set_timeouts(Some(left), None);
        match stream.read(&mut discard) {
            // The peer closed its half: the connection ends cleanly.
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A timeout or a reset: nothing more to wait for.
            Err(_) => return,
        }
    }
}

/// Closes with `code` and reads until the peer's close frame and the end of the stream, but not
/// past the close timeout: the close handshake of RFC 6455 §7.1, used while tungstenite's reader
/// is sound (the idle timeout, a refused credential).
pub fn close<S: Timeouts>(ws: &mut Ws<S>, code: CloseCode, reason: String, limits: &Limits) -> Ending {
    let frame = CloseFrame { code: TCloseCode::from(code.0), reason: reason.clone().into() };
    let deadline = Instant::now() + limits.close_timeout;
    ws.get_mut().set_timeouts(None, Some(limits.close_timeout));
    let _ = ws.close(Some(frame));
    // Each read waits at most until the deadline; the loop ends at the peer's end of the stream
    // (`ConnectionClosed`) or at any error, and tungstenite's reader is not used after one.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        ws.get_mut().set_timeouts(Some(left), Some(limits.close_timeout));
        if ws.read().is_err() {
            break;
        }
    }
    Ending::WeClosed(code, reason)
}

/// Gives up on a client that stopped reading: close 1013 if the frame still goes out within the
/// close timeout, then the connection is dropped, as in [`crate::close::cast_off`]. `close` writes what
/// is queued and the close frame and flushes them; if the client still does not read, it fails
/// after the write timeout, once: trying again would only wait as long again.
fn cast_off<S: Timeouts>(ws: &mut Ws<S>, limits: &Limits) -> Ending {
    let reason = limits.slow_reader_reason();
    let frame = CloseFrame { code: TCloseCode::from(SLOW_READER_CODE.0), reason: reason.clone().into() };
    ws.get_mut().set_timeouts(None, Some(limits.close_timeout));
    let _ = ws.close(Some(frame));
    Ending::WeClosed(SLOW_READER_CODE, reason)
}
