//! Close codes and the close frame's payload (RFC 6455 §5.5.1, §7.4).
//!
//! A close frame's payload is empty, or a 2-byte big-endian status code followed by an optional
//! UTF-8 reason. Some codes exist only to *report* what happened and must never be sent (1005,
//! 1006, 1015); receiving one of those, or a code outside the defined ranges, is a protocol error.

use std::fmt;

/// A WebSocket status code (RFC 6455 §7.4), with the RFC's names as constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away: a server shutting down, a browser leaving the page.
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL: CloseCode = CloseCode(1002);
    /// 1003: a kind of data the endpoint cannot accept (say, binary to a text-only server).
    pub const UNSUPPORTED: CloseCode = CloseCode(1003);
    /// 1004: reserved; never sent.
    pub const RESERVED: CloseCode = CloseCode(1004);
    /// 1005: reported when a close frame carried no code; never sent.
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: reported when the connection ended without a close frame; never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: data inconsistent with its type, such as invalid UTF-8 in a text message.
    pub const INVALID_DATA: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected an extension the server did not negotiate (client only).
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1015: reported when the TLS handshake failed; never sent.
    pub const TLS: CloseCode = CloseCode(1015);

    /// The RFC's name for the code, or the range it falls in.
    pub fn name(self) -> &'static str {
        match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1004 => "reserved",
            1005 => "no status received",
            1006 => "abnormal closure",
            1007 => "invalid frame payload data",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension",
            1011 => "internal error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            1015 => "TLS handshake failure",
            3000..=3999 => "registered for libraries and frameworks",
            4000..=4999 => "private use by applications",
            _ => "not a valid close code",
        }
    }

    /// Whether this code may travel in a close frame (RFC 6455 §7.4.1, §7.4.2).
    ///
    /// 1005, 1006 and 1015 only report what an endpoint observed; 1004 is reserved; codes below
    /// 1000, from 1016 to 2999 and from 5000 up are not defined. Receiving any of them is a
    /// protocol error (1002). 1012–1014 were registered with IANA after the RFC and are accepted.
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.name())
    }
}

/// Why a close frame's payload is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CloseError {
    /// RFC 6455 §5.5.1: the code is two bytes, so a 1-byte payload cannot be right.
    #[error("a close payload of 1 byte cannot hold a 2-byte status code (RFC 6455 §5.5.1)")]
    OneByte,
    /// RFC 6455 §7.4: the code is one that must never be sent, or is undefined.
    #[error("close code {0} must not be sent on the wire (RFC 6455 §7.4)")]
    NotSendable(u16),
    /// RFC 6455 §5.5.1: the reason must be UTF-8.
    #[error("the close reason is not valid UTF-8 (RFC 6455 §5.5.1)")]
    InvalidUtf8,
}

impl CloseError {
    /// The code the receiver closes with in answer: 1007 for bad UTF-8, 1002 for the rest.
    pub fn answer(&self) -> CloseCode {
        match self {
            CloseError::InvalidUtf8 => CloseCode::INVALID_DATA,
            _ => CloseCode::PROTOCOL,
        }
    }
}

/// A parsed close payload: its status code and reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosePayload {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most 123 bytes of UTF-8 (125 minus the code).
    pub reason: String,
}

impl ClosePayload {
    /// Parses a close frame's (unmasked) payload. `Ok(None)` means an empty payload, which the
    /// receiving application reports as 1005 (no status received).
    pub fn parse(payload: &[u8]) -> Result<Option<ClosePayload>, CloseError> {
        match payload {
            [] => Ok(None),
            [_] => Err(CloseError::OneByte),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_sendable() {
                    return Err(CloseError::NotSendable(code.0));
                }
                let reason = std::str::from_utf8(reason).map_err(|_| CloseError::InvalidUtf8)?;
                Ok(Some(ClosePayload { code, reason: reason.to_owned() }))
            }
        }
    }

    /// The payload bytes: the code, big-endian, then the reason.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.code.0.to_be_bytes().to_vec();
        bytes.extend_from_slice(self.reason.as_bytes());
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_payload_means_no_status_which_reports_as_1005() {
        assert_eq!(ClosePayload::parse(&[]), Ok(None));
    }

    #[test]
    fn a_one_byte_payload_is_a_protocol_error() {
        let err = ClosePayload::parse(&[0x03]).unwrap_err();
        assert_eq!(err.answer(), CloseCode::PROTOCOL);
    }

    #[test]
    fn close_1001_bye_parses_from_the_rfc_bytes() {
        let parsed = ClosePayload::parse(&[0x03, 0xe9, b'b', b'y', b'e']).unwrap().unwrap();
        assert_eq!(parsed.code, CloseCode::GOING_AWAY);
        assert_eq!(parsed.reason, "bye");
        assert_eq!(parsed.to_bytes(), [0x03, 0xe9, b'b', b'y', b'e']);
    }

    #[test]
    fn codes_that_only_report_are_never_sendable() {
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert!(!CloseCode(code).is_sendable(), "{code} must not travel on the wire");
            assert_eq!(ClosePayload::parse(&code.to_be_bytes()), Err(CloseError::NotSendable(code)));
        }
        for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999] {
            assert!(CloseCode(code).is_sendable(), "{code} may be sent");
        }
    }

    #[test]
    fn a_reason_that_is_not_utf8_is_answered_with_1007() {
        let err = ClosePayload::parse(&[0x03, 0xe8, 0xff]).unwrap_err();
        assert_eq!(err, CloseError::InvalidUtf8);
        assert_eq!(err.answer(), CloseCode::INVALID_DATA);
    }
}
