//! Limits, each a named constant with the reason for its value, and what happens at each one.
//!
//! | limit | default | what happens beyond it |
//! | --- | --- | --- |
//! | [`MAX_MESSAGE`] | 64 KiB | close 1009 (message too big) |
//! | [`MAX_HEAD`] | 8 KiB | `431 Request Header Fields Too Large` |
//! | [`HANDSHAKE_TIMEOUT`] | 10 s | `408 Request Timeout`, connection closed |
//! | [`CLOSE_TIMEOUT`] | 5 s | the TCP connection is dropped without waiting for the peer |
//! | [`MAX_CONNECTIONS`] | 1,024 | `503 Service Unavailable` before the upgrade |
//! | [`READ_BUFFER`] | 4 KiB | (not a limit: the size of each socket's read buffer) |

use std::time::Duration;

use tungstenite::protocol::WebSocketConfig;
use wire::CloseCode;

/// Largest message the echo accepts. Chat lines and JSON updates are far smaller; 64 KiB keeps a
/// thousand clients each holding a full message to 64 MiB of memory. tungstenite's own default
/// is 64 MiB, which one hostile client could use to make the server allocate that much.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Largest HTTP request head. Browsers send well under 2 KiB without cookies; 8 KiB is the
/// common server default (nginx's `large_client_header_buffers` line size).
pub const MAX_HEAD: usize = 8 * 1024;

/// How long a client may take to send its upgrade request. A client that dribbles its head a
/// byte at a time would otherwise hold a connection forever (a "slowloris"); tokio-tungstenite
/// has no timeout of its own.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for the peer's answer to our close frame before dropping the connection
/// (RFC 6455 §7.1.1 leaves the time to the implementation; Node's `ws` waits 30 s).
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Most connections served at once; further clients get `503` before any upgrade.
pub const MAX_CONNECTIONS: usize = 1024;

/// Each socket's read buffer. tungstenite's default is 128 KiB per socket, which is most of the
/// memory an idle connection costs; 4 KiB holds any small message in one read.
pub const READ_BUFFER: usize = 4 * 1024;

/// The limits one server applies. [`Limits::default`] uses the constants above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_MESSAGE`].
    pub max_message: usize,
    /// See [`MAX_HEAD`].
    pub max_head: usize,
    /// See [`HANDSHAKE_TIMEOUT`].
    pub handshake_timeout: Duration,
    /// See [`CLOSE_TIMEOUT`].
    pub close_timeout: Duration,
    /// See [`MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// See [`READ_BUFFER`].
    pub read_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: MAX_MESSAGE,
            max_head: MAX_HEAD,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            close_timeout: CLOSE_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            read_buffer: READ_BUFFER,
        }
    }
}

impl Limits {
    /// tungstenite's configuration for these limits.
    pub fn websocket_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message))
            .read_buffer_size(self.read_buffer)
    }
}

/// The close code that answers a tungstenite error (RFC 6455 §7.4.1), or `None` when the
/// connection is already gone and there is nobody to tell.
///
/// tungstenite reports these errors but does not send a close frame for them: the application
/// must, or the peer only ever sees the TCP connection vanish (1006).
pub fn close_code_for(error: &tungstenite::Error) -> Option<CloseCode> {
    use tungstenite::error::{CapacityError, ProtocolError};
    match error {
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { .. }) => Some(CloseCode::TOO_BIG),
        tungstenite::Error::Capacity(_) => Some(CloseCode::TOO_BIG),
        tungstenite::Error::Utf8(_) => Some(CloseCode::INVALID_DATA),
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        tungstenite::Error::Protocol(_) => Some(CloseCode::PROTOCOL),
        _ => None,
    }
}
