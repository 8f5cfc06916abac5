//! The limits, as tungstenite needs them: its configuration, and its errors as close codes.
//!
//! The limits themselves (their values, their reasons, the answer past each one) live in the
//! `guard` crate, shared by every server in the workspace, and are re-exported here. What is
//! tungstenite's own is here:
//! - [`TungsteniteConfig::websocket_config`]: the limits as a `WebSocketConfig`;
//! - [`close_code_for`]: the close code each tungstenite error deserves, and [`short_reason`],
//!   the error in words that fit a close frame.

use tungstenite::protocol::WebSocketConfig;
use wire::CloseCode;

pub use guard::Limits;
pub use guard::limits::{
    CLOSE_TIMEOUT, HANDSHAKE_TIMEOUT, IDLE_TIMEOUT, MAX_CONNECTIONS, MAX_HEAD, MAX_MESSAGE, READ_BUFFER,
    SEND_TIMEOUT, SLOW_READER_CODE,
};

/// The limits as tungstenite's configuration.
pub trait TungsteniteConfig {
    /// tungstenite's configuration for these limits: the largest message and frame, and the
    /// size of each socket's read buffer.
    fn websocket_config(&self) -> WebSocketConfig;
}

impl TungsteniteConfig for Limits {
    fn websocket_config(&self) -> WebSocketConfig {
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

/// The close reason for an error: the error in words, cut to fit a control frame (at most 123
/// bytes of reason after the 2-byte code, RFC 6455 §5.5).
pub fn short_reason(error: &tungstenite::Error) -> String {
    let mut reason = error.to_string();
    let mut cut = reason.len().min(123);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    reason.truncate(cut);
    reason
}
