//! The by-hand server's limits, each a named constant with the reason for its value.
//!
//! The same values as the tungstenite echo's (`ws_echo::limits`), so that the two servers answer
//! the same client the same way.
//!
//! | limit | default | what happens beyond it |
//! | --- | --- | --- |
//! | [`MAX_MESSAGE`] | 64 KiB | close 1009 (message too big) |
//! | [`MAX_HEAD`] | 8 KiB | `431 Request Header Fields Too Large` |
//! | [`HANDSHAKE_TIMEOUT`] | 10 s | `408 Request Timeout`, connection closed |
//! | [`CLOSE_TIMEOUT`] | 5 s | after our close frame, the TCP connection is closed without the peer's answer |
//! | [`MAX_CONNECTIONS`] | 1,024 | `503 Service Unavailable` before the upgrade |
//! | [`READ_BUFFER`] | 4 KiB | (not a limit: how much one `read` takes from the socket) |

use std::time::Duration;

/// Largest message accepted, fragments added up (and so the largest frame). Chat lines and JSON
/// updates are far smaller; 64 KiB keeps a thousand clients each holding a full message to
/// 64 MiB of memory.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Largest HTTP request head. Browsers send well under 2 KiB without cookies; 8 KiB is the
/// common server default (nginx's `large_client_header_buffers` line size).
pub const MAX_HEAD: usize = 8 * 1024;

/// How long a client may take to send its upgrade request: one that dribbles its head a byte at
/// a time would otherwise hold a connection forever (a "slowloris").
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for the peer's close frame after sending ours, before closing TCP anyway
/// (RFC 6455 §7.1.1 leaves the time to the implementation; Node's `ws` waits 30 s).
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Most connections served at once; further clients get `503` before any upgrade.
pub const MAX_CONNECTIONS: usize = 1024;

/// How many bytes one `read` takes from the socket: enough for any small message in one read.
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
