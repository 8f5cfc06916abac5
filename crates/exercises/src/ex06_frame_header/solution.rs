//! # Exercise 6: reading a frame header
//!
//! Chapter: *The handshake and frames*. About 30 minutes.
//!
//! Every WebSocket frame starts with a header of 2 to 14 bytes (RFC 6455 §5.2):
//!
//! ```text
//!  byte 0: FIN (1 bit) · RSV1–3 (3 bits) · opcode (4 bits)
//!  byte 1: MASK (1 bit) · payload length (7 bits)
//!          length 0–125: that is the length
//!          length 126:   the next 2 bytes hold it, big-endian
//!          length 127:   the next 8 bytes hold it, big-endian
//!  then, if MASK is set, 4 bytes of masking key
//! ```

/// A parsed frame header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// FIN: the last frame of its message.
    pub fin: bool,
    /// The opcode: 0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong, 0x0 continuation.
    pub opcode: u8,
    /// The payload's length in bytes.
    pub payload_len: u64,
    /// The masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// How many bytes the header took (2 to 14): the payload starts there.
    pub header_len: usize,
}

/// Parses the header at the start of `bytes`, or returns `None` if `bytes` is too short to
/// hold the whole header yet (the caller reads more and tries again).
///
/// `0x81 0x05` is a final text frame of 5 bytes, unmasked, with a 2-byte header.
pub fn parse_header(bytes: &[u8]) -> Option<Header> {
    // exercise 6: bits of byte 0, then byte 1, then the extended length and the mask
    let (first, second) = (*bytes.first()?, *bytes.get(1)?);
    let mut at = 2;
    let payload_len = match second & 0x7f {
        126 => {
            let len = u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?);
            at += 2;
            u64::from(len)
        }
        127 => {
            let len = u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
            at += 8;
            len
        }
        short => u64::from(short),
    };
    let mask = if second & 0x80 != 0 {
        let key: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(key)
    } else {
        None
    };
    Some(Header { fin: first & 0x80 != 0, opcode: first & 0x0f, payload_len, mask, header_len: at })
}
