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

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 6`. The tests are in crates/exercises/tests/ex06_frame_header.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

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
    todo!("exercise 6: bits of byte 0, then byte 1, then the extended length and the mask")
}
