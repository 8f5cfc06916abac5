//! The limits every Duplex server applies, each a named constant with the reason for its value
//! and the answer a client gets when it goes past it.
//!
//! | limit | default | what happens beyond it |
//! | --- | --- | --- |
//! | [`MAX_MESSAGE`] | 64 KiB | close 1009 (message too big), for a message or any one frame |
//! | [`MAX_HEAD`] | 8 KiB | `431 Request Header Fields Too Large`, connection closed |
//! | [`MAX_BODY`] | 4 KiB | `413 Content Too Large` |
//! | [`HANDSHAKE_TIMEOUT`] | 10 s | `408 Request Timeout`, connection closed |
//! | [`IDLE_TIMEOUT`] | 5 min | close 1000 "idle" (WebSocket), or the connection is closed (TCP, HTTP) |
//! | [`SEND_TIMEOUT`] | 10 s | a client that stopped reading: close 1013 (try again later), then TCP is closed |
//! | [`CLOSE_TIMEOUT`] | 5 s | after our close frame, TCP is closed without waiting longer for the answer |
//! | [`MAX_CONNECTIONS`] | 1,024 | `503 Service Unavailable` before any upgrade |
//! | [`READ_BUFFER`] | 4 KiB | (not a limit: how much one `read` takes from a socket) |
//! | [`Limits::origins`] | the server's own pages | `403 Forbidden` before any upgrade, for a page of another origin |
//! | [`Limits::protocols`] | none | `400 Bad Request` before any upgrade, for an offer of subprotocols with none in common |
//!
//! What a limit protects is always the same thing: the other clients. A server has one memory,
//! one set of threads or tasks and one table of file descriptors for everybody; a limit is the
//! most of them one client may take.

use std::time::Duration;

use wire::CloseCode;

use crate::admission::Origins;
use crate::upgrade::Subprotocols;

// ANCHOR: constants
/// Largest message accepted, fragments added up, and so also the largest frame. Chat lines and
/// JSON updates are far smaller; 64 KiB keeps a thousand clients each holding a whole message to
/// 64 MiB. tungstenite's own default is 64 MiB, Node's `ws` 100 MiB: with those, one client can
/// make the server allocate that much before a single check (RFC 6455 §10.4 asks endpoints to
/// limit what they buffer). Beyond it: close 1009, "message too big" (§7.4.1).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Largest HTTP request head (request line and header fields). Browsers send well under 2 KiB
/// without cookies; 8 KiB is the common server default (nginx's `large_client_header_buffers`
/// line size). Beyond it: `431 Request Header Fields Too Large` (RFC 6585 §5).
pub const MAX_HEAD: usize = 8 * 1024;

/// Largest HTTP request body (the feed's `POST /messages`). A chat line or a small JSON update
/// fits many times over. Beyond it: `413 Content Too Large` (RFC 9110 §15.5.14).
pub const MAX_BODY: usize = 4 * 1024;

/// How long a client may take to send a whole request head, an upgrade or an ordinary request,
/// counted from the moment the server starts waiting for it. A client that dribbles its head a
/// byte at a time (a "slowloris") would otherwise hold a connection, and on a blocking server a
/// thread, forever. Beyond it: `408 Request Timeout` (RFC 9110 §15.5.9), and the connection is
/// closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an open connection may go without a message from its client. Five minutes lets a
/// person read a page; a tab forgotten overnight holds no connection. A WebSocket is closed with
/// 1000 "idle" (nothing went wrong, the conversation is over); a TCP echo just closes.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How long one write to a client may make no progress. A client that stops reading (a phone in
/// a tunnel, a hostile client) fills its receive window, then the server's send buffer; after
/// that every write waits. Waiting without end would hold the connection's slot (and on a
/// blocking server, its thread) forever; queueing instead would grow memory without end. After
/// this long the server gives up on the client: close 1013 (see [`SLOW_READER_CODE`]) if the
/// frame still fits, then TCP is closed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for the peer's answer to our close frame before closing TCP anyway
/// (RFC 6455 §7.1.1 leaves the time to the implementation; Node's `ws` waits 30 s). After a
/// failure, which waits for no answer (§7.1.7), it bounds the lingering close instead: how long
/// the server reads and drops what the peer still sends before it closes TCP.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Most connections served at once. Every connection costs a file descriptor, some memory, and
/// on a blocking server a thread; 1,024 is a classroom many times over and the default
/// file-descriptor limit of many systems. Beyond it: `503 Service Unavailable` with
/// `Retry-After` before any upgrade (RFC 9110 §15.6.4), or, for raw TCP, the connection is
/// closed at once.
pub const MAX_CONNECTIONS: usize = 1024;

/// How many bytes one `read` takes from a socket, and the size of each connection's read buffer.
/// tungstenite's default is 128 KiB per socket, most of what an idle connection costs; 4 KiB
/// holds any small message in one read.
pub const READ_BUFFER: usize = 4 * 1024;
// ANCHOR_END: constants

// ANCHOR: slow_reader
/// The close code for a client that stopped reading: 1013, "try again later".
///
/// RFC 6455 §7.4.1 has no code for it. 1008 (policy violation) is for "a message that violates
/// its policy": a client that reads slowly sent no such message. 1013 was added to the IANA
/// "WebSocket Close Code Number Registry" (RFC 6455 §11.7) for a server "terminating the
/// connection due to a temporary condition, e.g. it is overloaded and is casting off some of its
/// clients", which is what happens: the server casts off one client to protect the others, and
/// the client may well come back (after a backoff, and resume where it was, as in the heartbeat
/// chapter). A client that is not reading may never see this frame, which is why the server
/// closes TCP right after it either way.
pub const SLOW_READER_CODE: CloseCode = CloseCode(1013);
// ANCHOR_END: slow_reader

/// The close code for an idle connection: 1000, normal closure. Nothing went wrong; the
/// conversation is over. The reason says why, for a person reading a log.
pub const IDLE_CODE: CloseCode = CloseCode::NORMAL;

/// The limits one server applies. [`Limits::default`] uses the constants above; every server
/// binary takes the same flags for them ([`crate::LimitArgs`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_MESSAGE`].
    pub max_message: usize,
    /// See [`MAX_HEAD`].
    pub max_head: usize,
    /// See [`MAX_BODY`].
    pub max_body: usize,
    /// See [`HANDSHAKE_TIMEOUT`].
    pub handshake_timeout: Duration,
    /// See [`IDLE_TIMEOUT`]; `None` never closes an idle connection.
    pub idle_timeout: Option<Duration>,
    /// See [`SEND_TIMEOUT`].
    pub send_timeout: Duration,
    /// See [`CLOSE_TIMEOUT`].
    pub close_timeout: Duration,
    /// See [`MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// See [`READ_BUFFER`].
    pub read_buffer: usize,
    /// Which pages may open a WebSocket (RFC 6455 §10.2): not a size or a time, but a bound all
    /// the same, on *who* may take a connection. By default programs (no `Origin`) and pages of
    /// the server itself; `--allow-origin` adds others (see [`crate::args::OriginArgs`]). A
    /// server with sign-in checks credentials too, with a whole `admission::Admission`.
    pub origins: Origins,
    /// Which subprotocols the server speaks (`Sec-WebSocket-Protocol`, RFC 6455 §1.9): not a
    /// limit either, but part of what the handshake agrees to before any `101`. By default none;
    /// `--protocol` adds them (see [`crate::args::ProtocolArgs`]).
    pub protocols: Subprotocols,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: MAX_MESSAGE,
            max_head: MAX_HEAD,
            max_body: MAX_BODY,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            idle_timeout: Some(IDLE_TIMEOUT),
            send_timeout: SEND_TIMEOUT,
            close_timeout: CLOSE_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            read_buffer: READ_BUFFER,
            origins: Origins::default(),
            protocols: Subprotocols::none(),
        }
    }
}

impl Limits {
    /// The reason sent in an idle close frame: "idle for 300 s".
    pub fn idle_reason(&self) -> String {
        let seconds = self.idle_timeout.unwrap_or_default().as_secs_f64();
        format!("idle for {seconds} s")
    }

    /// The reason sent in a slow reader's close frame.
    pub fn slow_reader_reason(&self) -> String {
        let seconds = self.send_timeout.as_secs_f64();
        format!("not reading: a send made no progress for {seconds} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_close_code_a_limit_answers_with_may_be_sent() {
        for code in [SLOW_READER_CODE, IDLE_CODE, CloseCode::TOO_BIG] {
            assert!(code.is_sendable(), "{code} must be allowed in a close frame (RFC 6455 §7.4)");
        }
    }

    #[test]
    fn reasons_fit_in_a_close_frame() {
        let limits = Limits::default();
        for reason in [limits.idle_reason(), limits.slow_reader_reason()] {
            assert!(reason.len() <= 123, "a close reason is at most 123 bytes (RFC 6455 §5.5): {reason}");
        }
    }
}
