//! The same echo on blocking tungstenite: one thread per connection, plain `Read + Write`.
//!
//! The async server in [`crate::server`] multiplexes many connections on a few threads; this one
//! spends a thread (and its stack) on each. For a classroom both are fine, and seeing them side
//! by side is the point: the WebSocket logic is identical, only the I/O model differs. The book
//! server uses [`echo`] on the streams tiny_http hands over after an upgrade.
//!
//! A blocking server bounds its waits with the socket's own timeouts: a read that waits longer
//! than the idle timeout, or a write that waits longer than the send timeout, fails, and the
//! connection is closed (1000 "idle", or 1013 for a client that stopped reading).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use guard::limits::{IDLE_CODE, SLOW_READER_CODE};
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocket};
use tungstenite::{Message, WebSocket as Ws};
use wire::CloseCode;

use crate::accept::judge_origin;
use crate::server::{Ending, short_reason};
use crate::{Limits, PATH, TungsteniteConfig};

/// Serves the echo on `listener`, a thread per connection, until the listener fails. At most
/// `limits.max_connections` at once; the next client is told `503`.
pub fn serve(listener: TcpListener, limits: Limits) -> std::io::Result<()> {
    let slots = guard::Slots::new(limits.max_connections);
    serve_with(listener, limits, slots)
}

/// [`serve`], counting connections in `slots` (whose maximum applies).
pub fn serve_with(listener: TcpListener, limits: Limits, slots: guard::Slots) -> std::io::Result<()> {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let Some(slot) = slots.take() else {
            // Refused on the accepting thread: a short write into an empty send buffer.
            let _: Result<(), _> = guard::refuse::send_rejection_blocking(&mut stream, slots.busy());
            continue;
        };
        let limits = limits.clone();
        let spawned = std::thread::Builder::new().name("ws echo".into()).spawn(move || {
            let _slot = slot;
            handle(stream, &limits);
        });
        if let Err(e) = spawned {
            tracing::warn!("no thread for a connection: {e}");
        }
    }
    Ok(())
}

/// One connection: read the head (within the handshake timeout), answer it, echo.
pub fn handle(mut stream: TcpStream, limits: &Limits) -> Option<Ending> {
    let _ = stream.set_nodelay(true);
    let (head, leftover) = guard::head::read_request_blocking(&mut stream, limits).ok()?;
    // RFC 6455 §4.2.1, then §10.2: a page of another origin gets 403 (`limits.origins`).
    match judge_origin(&head, PATH, &limits.origins) {
        Ok(accepted) => {
            stream.write_all(accepted.response().as_bytes()).ok()?;
            let config = Some(limits.websocket_config());
            let mut ws = WebSocket::from_partially_read(stream, leftover, Role::Server, config);
            Some(echo(&mut ws, limits))
        }
        Err(rejection) => {
            let _: Result<(), _> = guard::refuse::send_rejection_blocking(&mut stream, rejection);
            None
        }
    }
}

/// A blocking stream whose reads and writes can be bounded in time: the socket's own timeouts.
pub trait Timeouts: Read + Write {
    /// Makes every later read give up after `read`, and every write after `write` (`None`: wait
    /// for ever).
    fn set_timeouts(&mut self, read: Option<Duration>, write: Option<Duration>);
}

impl Timeouts for TcpStream {
    fn set_timeouts(&mut self, read: Option<Duration>, write: Option<Duration>) {
        let _ = self.set_read_timeout(read);
        let _ = self.set_write_timeout(write);
    }
}

/// A stream read and written through one object (such as the one tiny_http hands over after an
/// upgrade), with a handle on its socket for the timeouts. Without a socket (`None`), reads and
/// writes wait as long as TCP lets them.
pub struct Upgraded<S> {
    /// Where the bytes are read and written.
    pub stream: S,
    /// The same connection's socket, for its options only.
    pub socket: Option<TcpStream>,
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
        if let Some(socket) = &mut self.socket {
            socket.set_timeouts(read, write);
        }
    }
}

/// Whether an I/O error is a socket timeout (Linux says `WouldBlock`, Windows `TimedOut`).
fn timed_out(error: &tungstenite::Error) -> bool {
    matches!(error, tungstenite::Error::Io(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
}

/// Whether a system call was interrupted by a signal before it did anything (`EINTR`).
fn interrupted(error: &tungstenite::Error) -> bool {
    matches!(error, tungstenite::Error::Io(e) if e.kind() == ErrorKind::Interrupted)
}

/// Echoes messages until the connection ends; the blocking twin of [`crate::server::echo`].
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

fn fail<S: Timeouts>(ws: &mut Ws<S>, error: &tungstenite::Error, limits: &Limits) -> Ending {
    match crate::limits::close_code_for(error) {
        Some(code) => close(ws, code, short_reason(error), limits),
        None => Ending::Dropped(error.to_string()),
    }
}

fn close<S: Timeouts>(ws: &mut Ws<S>, code: CloseCode, reason: String, limits: &Limits) -> Ending {
    let frame = CloseFrame { code: TCloseCode::from(code.0), reason: reason.clone().into() };
    // Wait for the peer's close frame (closing with unread data in the socket would send RST and
    // could destroy our close frame before the peer reads it), but not for ever.
    ws.get_mut().set_timeouts(Some(limits.close_timeout), Some(limits.close_timeout));
    let _ = ws.close(Some(frame));
    let deadline = std::time::Instant::now() + limits.close_timeout;
    while std::time::Instant::now() < deadline {
        if ws.read().is_err() {
            break;
        }
    }
    Ending::WeClosed(code, reason)
}

fn cast_off<S: Timeouts>(ws: &mut Ws<S>, limits: &Limits) -> Ending {
    let reason = limits.slow_reader_reason();
    let frame = CloseFrame { code: TCloseCode::from(SLOW_READER_CODE.0), reason: reason.clone().into() };
    ws.get_mut().set_timeouts(Some(limits.close_timeout), Some(limits.close_timeout));
    let _ = ws.close(Some(frame));
    let _ = ws.flush();
    Ending::WeClosed(SLOW_READER_CODE, reason)
}
