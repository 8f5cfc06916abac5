//! The frame codec, written by hand (RFC 6455 §5).
//!
//! Sans-I/O: [`Frame::encode`] turns a frame into bytes, [`decode`] and [`FrameDecoder`] turn bytes
//! into frames, and neither knows where the bytes come from. Every server, client and the Tap in
//! Duplex uses this one codec, and property tests check it against tungstenite's.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```

use bytes::{Buf, BytesMut};
use std::fmt;

use crate::close::{CloseCode, ClosePayload};

/// RFC 6455 §5.5: a control frame's payload is at most 125 bytes (so its length fits in 7 bits).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// The longest header: 2 bytes, 8 bytes of 64-bit length, 4 bytes of mask (RFC 6455 §5.2).
pub const MAX_HEADER_LEN: usize = 14;

/// RFC 6455 §5.2: the 4-bit opcode says what the payload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: the next fragment of a message started by a text or binary frame.
    Continuation,
    /// 0x1: the first (or only) frame of a UTF-8 text message.
    Text,
    /// 0x2: the first (or only) frame of a binary message.
    Binary,
    /// 0x8: the close handshake (control).
    Close,
    /// 0x9: a ping, which the peer must answer with a pong (control).
    Ping,
    /// 0xA: a pong, the answer to a ping, or an unsolicited heartbeat (control).
    Pong,
    /// 0x3–0x7 and 0xB–0xF: reserved for future use; receiving one fails the connection.
    Reserved(u8),
}

impl OpCode {
    /// The opcode for the low four bits of `bits`.
    pub fn from_bits(bits: u8) -> OpCode {
        match bits & 0x0f {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xa => OpCode::Pong,
            other => OpCode::Reserved(other),
        }
    }

    /// The 4-bit value on the wire.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xa,
            OpCode::Reserved(bits) => bits & 0x0f,
        }
    }

    /// RFC 6455 §5.5: opcodes with the high bit set (0x8–0xF) are control frames.
    pub fn is_control(self) -> bool {
        self.bits() & 0x08 != 0
    }

    /// RFC 6455 §5.2: whether the opcode is reserved (not defined by the RFC).
    pub fn is_reserved(self) -> bool {
        matches!(self, OpCode::Reserved(_))
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpCode::Continuation => f.write_str("continuation"),
            OpCode::Text => f.write_str("text"),
            OpCode::Binary => f.write_str("binary"),
            OpCode::Close => f.write_str("close"),
            OpCode::Ping => f.write_str("ping"),
            OpCode::Pong => f.write_str("pong"),
            OpCode::Reserved(bits) => write!(f, "reserved-0x{bits:x}"),
        }
    }
}

/// What the codec cannot decode at all. Rules about *valid* frames (masking, RSV bits, control
/// frame sizes) are checked by the endpoint, not the codec, so the Tap can still show a frame
/// that breaks them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// RFC 6455 §5.2: "the most significant bit MUST be 0" in a 64-bit length.
    #[error("the 64-bit payload length {0:#018x} has its top bit set (RFC 6455 §5.2)")]
    LengthTopBit(u64),
    /// The payload is longer than this decoder is willing to hold; an endpoint answers 1009.
    #[error("a frame of {len} bytes is over the limit of {max} bytes (close code 1009)")]
    TooLarge {
        /// The length the header announced.
        len: u64,
        /// The decoder's limit.
        max: u64,
    },
}

/// A frame header, as parsed from the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the last frame of its message.
    pub fin: bool,
    /// RSV1, for extensions such as permessage-deflate; 0 unless one was negotiated.
    pub rsv1: bool,
    /// RSV2, reserved for extensions.
    pub rsv2: bool,
    /// RSV3, reserved for extensions.
    pub rsv3: bool,
    /// What the payload is.
    pub opcode: OpCode,
    /// The masking key: present on every client-to-server frame, never on server frames.
    pub mask: Option<[u8; 4]>,
    /// The payload length, in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the start of `buf`. `Ok(None)` means more bytes are needed; otherwise
    /// the header and its length in bytes (2 to 14).
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, FrameError> {
        let [first, second, rest @ ..] = buf else { return Ok(None) };
        let masked = second & 0x80 != 0;
        let (payload_len, len_bytes) = match second & 0x7f {
            126 => match rest {
                [a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 2),
                _ => return Ok(None),
            },
            127 => match rest.get(..8) {
                Some(bytes) => {
                    let mut be = [0u8; 8];
                    be.copy_from_slice(bytes);
                    let len = u64::from_be_bytes(be);
                    if len >> 63 != 0 {
                        return Err(FrameError::LengthTopBit(len));
                    }
                    (len, 8)
                }
                None => return Ok(None),
            },
            short => (u64::from(short), 0),
        };
        let mut header_len = 2 + len_bytes;
        let mask = if masked {
            let Some(key) = buf.get(header_len..header_len + 4) else { return Ok(None) };
            header_len += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        let header = FrameHeader {
            fin: first & 0x80 != 0,
            rsv1: first & 0x40 != 0,
            rsv2: first & 0x20 != 0,
            rsv3: first & 0x10 != 0,
            opcode: OpCode::from_bits(*first),
            mask,
            payload_len,
        };
        Ok(Some((header, header_len)))
    }

    /// The header's size on the wire: RFC 6455 §5.2 uses the shortest length encoding that fits.
    pub fn encoded_len(&self) -> usize {
        let len_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xffff => 2,
            _ => 8,
        };
        2 + len_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Appends the header's bytes to `out`, with the minimal length encoding.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let first = u8::from(self.fin) << 7
            | u8::from(self.rsv1) << 6
            | u8::from(self.rsv2) << 5
            | u8::from(self.rsv3) << 4
            | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        out.push(first);
        match self.payload_len {
            len @ 0..=125 => out.push(mask_bit | len as u8),
            len @ 126..=0xffff => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        if let Some(key) = self.mask {
            out.extend_from_slice(&key);
        }
    }

    /// Whether any RSV bit is set (RFC 6455 §5.2: must be 0 unless an extension says otherwise).
    pub fn has_rsv(&self) -> bool {
        self.rsv1 || self.rsv2 || self.rsv3
    }
}

/// The extensions negotiated on a connection, as far as the frame rules are concerned: which RSV
/// bits a frame may carry (RFC 6455 §5.2: "MUST be 0 unless an extension is negotiated that
/// defines meanings for non-zero values").
///
/// The codec itself decodes any RSV bits (the Tap must be able to show a frame that breaks the
/// rules); an endpoint calls [`Extensions::check_rsv`] on each header it receives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    /// permessage-deflate (RFC 7692) is in use: RSV1 marks the first frame of a compressed
    /// message.
    pub per_message_deflate: bool,
}

/// A frame whose RSV bits the negotiated extensions do not allow; the endpoint fails the
/// connection with 1002.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RsvError {
    /// RFC 6455 §5.2: a bit set that no negotiated extension gives a meaning to.
    #[error("RSV{bit} set, but no extension that defines it was negotiated (RFC 6455 §5.2)")]
    NotNegotiated {
        /// 1, 2 or 3.
        bit: u8,
    },
    /// RFC 7692 §6: "An endpoint MUST NOT set the 'Per-Message Compressed' bit of control frames
    /// and non-first fragments of a data message."
    #[error("RSV1 on a {opcode} frame: only a message's first frame may be marked compressed (RFC 7692 §6)")]
    NotFirstFrame {
        /// The frame's opcode: a control opcode or continuation.
        opcode: OpCode,
    },
}

impl RsvError {
    /// The close code for every RSV violation: 1002, protocol error (RFC 6455 §7.4.1).
    pub fn close_code(&self) -> CloseCode {
        CloseCode::PROTOCOL
    }
}

impl Extensions {
    /// No extension: every RSV bit must be 0.
    pub const NONE: Extensions = Extensions { per_message_deflate: false };

    /// With permessage-deflate negotiated.
    pub const DEFLATE: Extensions = Extensions { per_message_deflate: true };

    // ANCHOR: check_rsv
    /// Checks a received header's RSV bits against what was negotiated. It needs only the
    /// header, so an endpoint can refuse the frame before its payload arrives.
    pub fn check_rsv(self, header: &FrameHeader) -> Result<(), RsvError> {
        if header.rsv2 {
            return Err(RsvError::NotNegotiated { bit: 2 });
        }
        if header.rsv3 {
            return Err(RsvError::NotNegotiated { bit: 3 });
        }
        if header.rsv1 {
            if !self.per_message_deflate {
                return Err(RsvError::NotNegotiated { bit: 1 });
            }
            // RFC 7692 §6: RSV1 only on the first frame of a data message (text or binary).
            if !matches!(header.opcode, OpCode::Text | OpCode::Binary) {
                return Err(RsvError::NotFirstFrame { opcode: header.opcode });
            }
        }
        Ok(())
    }
    // ANCHOR_END: check_rsv
}

/// One WebSocket frame. `payload` always holds the *unmasked* application data; the mask, if any,
/// is applied by [`Frame::encode`] and removed by [`decode`].
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// FIN: this is the last frame of its message.
    pub fin: bool,
    /// RSV1, for extensions.
    pub rsv1: bool,
    /// RSV2, for extensions.
    pub rsv2: bool,
    /// RSV3, for extensions.
    pub rsv3: bool,
    /// What the payload is.
    pub opcode: OpCode,
    /// The masking key; clients must mask every frame (RFC 6455 §5.3), servers never do.
    pub mask: Option<[u8; 4]>,
    /// The application data, unmasked.
    pub payload: Vec<u8>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("fin", &self.fin)
            .field("rsv", &[self.rsv1, self.rsv2, self.rsv3])
            .field("opcode", &self.opcode)
            .field("mask", &self.mask)
            .field("payload", &String::from_utf8_lossy(&self.payload))
            .finish()
    }
}

impl Frame {
    /// A final, unmasked frame of the given kind.
    pub fn new(opcode: OpCode, payload: impl Into<Vec<u8>>) -> Frame {
        Frame {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            payload: payload.into(),
        }
    }

    /// A text frame (opcode 0x1).
    pub fn text(text: &str) -> Frame {
        Frame::new(OpCode::Text, text.as_bytes())
    }

    /// A binary frame (opcode 0x2).
    pub fn binary(data: impl Into<Vec<u8>>) -> Frame {
        Frame::new(OpCode::Binary, data)
    }

    /// A ping (opcode 0x9); the payload (≤ 125 bytes) comes back in the pong.
    pub fn ping(data: impl Into<Vec<u8>>) -> Frame {
        Frame::new(OpCode::Ping, data)
    }

    /// A pong (opcode 0xA).
    pub fn pong(data: impl Into<Vec<u8>>) -> Frame {
        Frame::new(OpCode::Pong, data)
    }

    /// A close frame (opcode 0x8), with a code and reason or with an empty payload.
    pub fn close(payload: Option<&ClosePayload>) -> Frame {
        Frame::new(OpCode::Close, payload.map(ClosePayload::to_bytes).unwrap_or_default())
    }

    /// The same frame, masked with `key` (what a client sends).
    pub fn masked(mut self, key: [u8; 4]) -> Frame {
        self.mask = Some(key);
        self
    }

    /// The same frame with FIN cleared: more fragments of this message follow.
    pub fn not_final(mut self) -> Frame {
        self.fin = false;
        self
    }

    /// The same frame with RSV1 set: the first frame of a message compressed with
    /// permessage-deflate (RFC 7692 §6).
    pub fn compressed(mut self) -> Frame {
        self.rsv1 = true;
        self
    }

    /// The frame's header.
    pub fn header(&self) -> FrameHeader {
        FrameHeader {
            fin: self.fin,
            rsv1: self.rsv1,
            rsv2: self.rsv2,
            rsv3: self.rsv3,
            opcode: self.opcode,
            mask: self.mask,
            payload_len: self.payload.len() as u64,
        }
    }

    /// The frame's bytes on the wire: header, then the payload, masked if a key is set.
    pub fn encode(&self) -> Vec<u8> {
        let header = self.header();
        let mut out = Vec::with_capacity(header.encoded_len() + self.payload.len());
        header.encode_into(&mut out);
        let start = out.len();
        out.extend_from_slice(&self.payload);
        if let Some(key) = self.mask {
            apply_mask(&mut out[start..], key);
        }
        out
    }
}

// ANCHOR: apply_mask
/// RFC 6455 §5.3: byte `i` of the payload is XORed with byte `i mod 4` of the key. XOR twice
/// gives the original back, so the same function masks and unmasks.
pub fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}
// ANCHOR_END: apply_mask

/// Decodes one frame from the start of `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of a frame (read more and call again), or the
/// frame and how many bytes it took. Frames announcing more than `max_payload` bytes are refused
/// before any of the payload is buffered.
pub fn decode(buf: &[u8], max_payload: u64) -> Result<Option<(Frame, usize)>, FrameError> {
    let Some((header, header_len)) = FrameHeader::parse(buf)? else { return Ok(None) };
    if header.payload_len > max_payload {
        return Err(FrameError::TooLarge { len: header.payload_len, max: max_payload });
    }
    // The length fits in memory: it is at most `max_payload`, which the caller chose.
    let payload_len = header.payload_len as usize;
    let Some(payload) = buf.get(header_len..header_len + payload_len) else { return Ok(None) };
    let mut payload = payload.to_vec();
    if let Some(key) = header.mask {
        apply_mask(&mut payload, key);
    }
    let frame = Frame {
        fin: header.fin,
        rsv1: header.rsv1,
        rsv2: header.rsv2,
        rsv3: header.rsv3,
        opcode: header.opcode,
        mask: header.mask,
        payload,
    };
    Ok(Some((frame, header_len + payload_len)))
}

/// An incremental decoder: push bytes as they arrive from the network, pull whole frames out.
///
/// TCP delivers a byte stream, not frames: one read may hold half a header, or three frames and
/// the start of a fourth. The decoder keeps what it has not used yet.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: BytesMut,
    max_payload: u64,
}

impl FrameDecoder {
    /// A decoder that refuses frames larger than `max_payload` bytes.
    pub fn new(max_payload: u64) -> FrameDecoder {
        FrameDecoder { buffer: BytesMut::new(), max_payload }
    }

    /// Adds bytes read from the network.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole frame, if the buffered bytes hold one.
    pub fn next_frame(&mut self) -> Result<Option<(Frame, Vec<u8>)>, FrameError> {
        match decode(&self.buffer, self.max_payload)? {
            Some((frame, used)) => {
                let raw = self.buffer[..used].to_vec();
                self.buffer.advance(used);
                Ok(Some((frame, raw)))
            }
            None => Ok(None),
        }
    }

    /// Bytes received but not yet part of a whole frame.
    pub fn buffered(&self) -> &[u8] {
        &self.buffer
    }

    /// Takes the buffered bytes out, leaving the decoder empty.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.buffer.split().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn rfc_6455_section_5_7_examples_encode_byte_for_byte() {
        assert_eq!(hex(&Frame::text("Hello").encode()), "81 05 48 65 6c 6c 6f");
        assert_eq!(hex(&Frame::text("Hello").masked(KEY).encode()), "81 85 37 fa 21 3d 7f 9f 4d 51 58");
        assert_eq!(hex(&Frame::text("Hel").not_final().encode()), "01 03 48 65 6c");
        assert_eq!(hex(&Frame::new(OpCode::Continuation, "lo").encode()), "80 02 6c 6f");
        assert_eq!(hex(&Frame::ping("Hello").encode()), "89 05 48 65 6c 6c 6f");
    }

    #[test]
    fn lengths_use_the_shortest_of_the_three_encodings() {
        let head = |n: usize| hex(&Frame::binary(vec![0; n]).encode()[..n.clamp(2, 10)]);
        assert!(head(125).starts_with("82 7d"));
        assert!(head(126).starts_with("82 7e 00 7e"));
        assert!(head(65535).starts_with("82 7e ff ff"));
        assert!(head(65536).starts_with("82 7f 00 00 00 00 00 01 00 00"));
    }

    #[test]
    fn close_frames_carry_the_code_big_endian() {
        let normal = ClosePayload { code: CloseCode::NORMAL, reason: String::new() };
        assert_eq!(hex(&Frame::close(Some(&normal)).encode()), "88 02 03 e8");
        let bye = ClosePayload { code: CloseCode::GOING_AWAY, reason: "bye".into() };
        assert_eq!(hex(&Frame::close(Some(&bye)).encode()), "88 05 03 e9 62 79 65");
    }

    #[test]
    fn decoding_unmasks_the_payload() {
        let bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        let (frame, used) = decode(&bytes, 1024).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(frame.payload, b"Hello");
        assert_eq!(frame.mask, Some(KEY));
    }

    #[test]
    fn partial_input_asks_for_more_at_every_split_point() {
        let bytes = Frame::binary(vec![7; 300]).masked(KEY).encode();
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut], 1024).unwrap(), None, "cut at {cut}");
        }
        assert!(decode(&bytes, 1024).unwrap().is_some());
    }

    #[test]
    fn the_incremental_decoder_finds_frames_across_reads() {
        let mut wire = Frame::text("one").encode();
        wire.extend(Frame::text("two").encode());
        let mut decoder = FrameDecoder::new(1024);
        let mut seen = Vec::new();
        for byte in wire {
            decoder.push(&[byte]);
            while let Some((frame, _raw)) = decoder.next_frame().unwrap() {
                seen.push(String::from_utf8(frame.payload).unwrap());
            }
        }
        assert_eq!(seen, ["one", "two"]);
        assert!(decoder.buffered().is_empty());
    }

    #[test]
    fn a_64_bit_length_with_the_top_bit_set_is_refused() {
        let bytes = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1];
        assert!(matches!(decode(&bytes, u64::MAX), Err(FrameError::LengthTopBit(_))));
    }

    #[test]
    fn without_extensions_every_rsv_bit_is_refused() {
        for (bit, frame) in [
            (1, Frame { rsv1: true, ..Frame::text("x") }),
            (2, Frame { rsv2: true, ..Frame::text("x") }),
            (3, Frame { rsv3: true, ..Frame::text("x") }),
        ] {
            assert_eq!(Extensions::NONE.check_rsv(&frame.header()), Err(RsvError::NotNegotiated { bit }));
        }
        assert_eq!(Extensions::NONE.check_rsv(&Frame::text("x").header()), Ok(()));
    }

    #[test]
    fn with_deflate_rsv1_is_allowed_on_a_messages_first_frame_only() {
        let deflate = Extensions::DEFLATE;
        assert_eq!(deflate.check_rsv(&Frame::text("x").compressed().header()), Ok(()));
        assert_eq!(deflate.check_rsv(&Frame::binary("x").compressed().not_final().header()), Ok(()));
        for opcode in [OpCode::Continuation, OpCode::Ping, OpCode::Pong, OpCode::Close] {
            let header = Frame::new(opcode, "").compressed().header();
            let refused = deflate.check_rsv(&header);
            assert_eq!(refused, Err(RsvError::NotFirstFrame { opcode }));
            assert_eq!(refused.map_err(|e| e.close_code()), Err(CloseCode::PROTOCOL));
        }
        assert_eq!(
            deflate.check_rsv(&Frame { rsv2: true, ..Frame::text("x") }.header()),
            Err(RsvError::NotNegotiated { bit: 2 })
        );
    }

    #[test]
    fn an_oversize_frame_is_refused_before_its_payload_arrives() {
        let header_only = [0x82, 0x7e, 0x10, 0x00];
        assert_eq!(decode(&header_only, 1024), Err(FrameError::TooLarge { len: 4096, max: 1024 }));
    }
}
