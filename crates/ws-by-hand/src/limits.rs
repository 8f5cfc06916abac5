//! The by-hand server's limits: the same as every Duplex server's, from the `guard` crate, so the
//! by-hand server and the tungstenite echo answer the same client the same way. (`guard` has no
//! tungstenite in it, so using it keeps this crate free of any WebSocket library.)
//!
//! | limit | default | what happens beyond it |
//! | --- | --- | --- |
//! | [`MAX_MESSAGE`] | 64 KiB | close 1009 (message too big) |
//! | [`MAX_HEAD`] | 8 KiB | `431 Request Header Fields Too Large` |
//! | [`HANDSHAKE_TIMEOUT`] | 10 s | `408 Request Timeout`, connection closed |
//! | [`IDLE_TIMEOUT`] | 5 min | close 1000 "idle" |
//! | [`SEND_TIMEOUT`] | 10 s | a client that stopped reading: close 1013, connection dropped |
//! | [`CLOSE_TIMEOUT`] | 5 s | after our close frame, the TCP connection is closed without the peer's answer |
//! | [`MAX_CONNECTIONS`] | 1,024 | `503 Service Unavailable` before the upgrade |
//! | [`READ_BUFFER`] | 4 KiB | (not a limit: how much one `read` takes from the socket) |
//! | `Limits::origins` | programs and the server's own pages | `403 Forbidden` for a page of another origin, before the upgrade |
//! | `Limits::protocols` | none | `400 Bad Request` for an offer of subprotocols with none in common, before the upgrade |

pub use guard::Limits;
pub use guard::limits::{
    CLOSE_TIMEOUT, HANDSHAKE_TIMEOUT, IDLE_TIMEOUT, MAX_CONNECTIONS, MAX_HEAD, MAX_MESSAGE, READ_BUFFER,
    SEND_TIMEOUT,
};
