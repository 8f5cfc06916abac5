//! HTTP/2 as the Tap sees it (RFC 9113), sans-I/O: the connection preface, frames, HPACK header
//! blocks, and the WebSocket frames that RFC 8441 carries inside a stream's DATA frames.
//!
//! HTTP/1.1 sends text heads, one request at a time per connection. HTTP/2 cuts everything into
//! binary **frames** (RFC 9113 §4.1): a 9-byte header (length, type, flags, stream) and a payload.
//! Every request and its response form one **stream**, numbered by the client (odd numbers), so
//! many exchanges share one TCP connection, their frames interleaved; stream 0 is the
//! connection itself (SETTINGS, PING, GOAWAY, connection-wide WINDOW_UPDATE).
//!
//! Headers travel in HEADERS frames as an HPACK block ([`hpack`]); bodies in DATA frames. For a
//! WebSocket over HTTP/2, the client sends an *extended CONNECT* (RFC 8441 §4): a HEADERS frame
//! with `:method CONNECT` and `:protocol websocket`; the server answers `:status 200`, and from
//! then on the stream's DATA frames carry WebSocket frames, both ways. [`Decoder`] follows that
//! and decodes them too.
//!
//! # Layout
//! - this file: frame headers and types, SETTINGS and error codes by name, [`Frame`], and the
//!   connection [`Decoder`] that turns bytes into transcript events.
//! - [`hpack`]: the header compression (RFC 7541): static and dynamic tables, literals.
//! - [`huffman`]: HPACK's Huffman code (RFC 7541 Appendix B).
//! - `render`: how the transcript shows a frame.

pub mod hpack;
pub mod huffman;
pub(crate) mod render;

use std::collections::HashMap;

use crate::frame::{FrameDecoder, OpCode};
use crate::transcript::{Direction, Event, EventKind, FrameEvent, PAYLOAD_KEPT};

pub use hpack::{Field, Indexing, Representation};

/// The client connection preface (RFC 9113 §3.4): 24 bytes that an HTTP/1.1 server would read as
/// a request with method `PRI` it does not know, so a server that does not speak HTTP/2 fails
/// fast instead of misreading frames. A SETTINGS frame follows it.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Every frame starts with 9 bytes: length (24 bits), type, flags, and a reserved bit followed
/// by the 31-bit stream identifier (RFC 9113 §4.1).
pub const HEADER_LEN: usize = 9;

/// Frame types (RFC 9113 §6).
pub mod kind {
    /// A stream's body bytes (§6.1).
    pub const DATA: u8 = 0x0;
    /// A header block that opens a stream or ends it with trailers (§6.2).
    pub const HEADERS: u8 = 0x1;
    /// A stream's priority, deprecated (§6.3).
    pub const PRIORITY: u8 = 0x2;
    /// Ends one stream at once, with an error code (§6.4).
    pub const RST_STREAM: u8 = 0x3;
    /// The sender's parameters, or the acknowledgement of the peer's (§6.5).
    pub const SETTINGS: u8 = 0x4;
    /// A server announces a response it will push (§6.6).
    pub const PUSH_PROMISE: u8 = 0x5;
    /// Eight bytes to be echoed: liveness and round-trip time (§6.7).
    pub const PING: u8 = 0x6;
    /// The sender will open no more streams, and says the last it handled (§6.8).
    pub const GOAWAY: u8 = 0x7;
    /// Flow control: the receiver has room for this many more bytes (§6.9).
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// More of a header block that did not fit in its HEADERS frame (§6.10).
    pub const CONTINUATION: u8 = 0x9;
}

/// Flags (RFC 9113 §6): their meaning depends on the frame type.
pub mod flag {
    /// DATA, HEADERS: the sender's last frame on this stream (its half of the stream is closed).
    pub const END_STREAM: u8 = 0x1;
    /// SETTINGS, PING: this is the acknowledgement.
    pub const ACK: u8 = 0x1;
    /// HEADERS, PUSH_PROMISE, CONTINUATION: the header block is complete.
    pub const END_HEADERS: u8 = 0x4;
    /// DATA, HEADERS, PUSH_PROMISE: a pad length byte and padding surround the payload.
    pub const PADDED: u8 = 0x8;
    /// HEADERS: a priority (dependency and weight) precedes the header block.
    pub const PRIORITY: u8 = 0x20;
}

/// The name of a frame type, as RFC 9113 §6 spells it.
pub fn kind_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        kind::DATA => "DATA",
        kind::HEADERS => "HEADERS",
        kind::PRIORITY => "PRIORITY",
        kind::RST_STREAM => "RST_STREAM",
        kind::SETTINGS => "SETTINGS",
        kind::PUSH_PROMISE => "PUSH_PROMISE",
        kind::PING => "PING",
        kind::GOAWAY => "GOAWAY",
        kind::WINDOW_UPDATE => "WINDOW_UPDATE",
        kind::CONTINUATION => "CONTINUATION",
        _ => return None,
    })
}

/// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3): a server that sends it with value 1 accepts
/// extended CONNECT requests, such as a WebSocket's.
pub const SETTINGS_ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

/// The name of a SETTINGS parameter (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1).
pub fn setting_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0x1 => "HEADER_TABLE_SIZE",
        0x2 => "ENABLE_PUSH",
        0x3 => "MAX_CONCURRENT_STREAMS",
        0x4 => "INITIAL_WINDOW_SIZE",
        0x5 => "MAX_FRAME_SIZE",
        0x6 => "MAX_HEADER_LIST_SIZE",
        SETTINGS_ENABLE_CONNECT_PROTOCOL => "ENABLE_CONNECT_PROTOCOL",
        0x9 => "NO_RFC7540_PRIORITIES",
        _ => return None,
    })
}

/// The name of an error code of RST_STREAM and GOAWAY (RFC 9113 §7).
pub fn error_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => return None,
    })
}

/// A frame's 9-byte header (RFC 9113 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// The payload's length, not counting these 9 bytes (24 bits).
    pub len: u32,
    /// The frame type ([`kind`]).
    pub kind: u8,
    /// The flags ([`flag`]).
    pub flags: u8,
    /// The stream, 0 for the connection itself (the reserved top bit is ignored).
    pub stream: u32,
}

impl FrameHeader {
    /// The header at the start of `buf`, or `None` if fewer than 9 bytes are there.
    pub fn parse(buf: &[u8]) -> Option<FrameHeader> {
        let b = buf.get(..HEADER_LEN)?;
        Some(FrameHeader {
            len: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        })
    }

    /// The 9 bytes of this header.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let len = self.len.to_be_bytes();
        let stream = self.stream.to_be_bytes();
        [len[1], len[2], len[3], self.kind, self.flags, stream[0], stream[1], stream[2], stream[3]]
    }

    /// Whether flag `f` is set.
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
}

/// A stream dependency and weight (RFC 9113 §5.3.2, deprecated but still sent by some).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    /// The dependency is exclusive.
    pub exclusive: bool,
    /// The stream this one depends on.
    pub depends_on: u32,
    /// The weight, 1 to 256.
    pub weight: u16,
}

/// What the Tap made of a header block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderBlock {
    /// The block is complete (END_HEADERS) and decoded: its fields, and its size in bytes on
    /// the wire, all fragments together.
    Fields {
        /// The fields, in order.
        fields: Vec<Field>,
        /// The HPACK block's length.
        block_len: usize,
    },
    /// The block continues in a CONTINUATION frame, where it is shown.
    Continues,
    /// The block could not be decoded: why.
    Failed(String),
}

impl HeaderBlock {
    /// The decoded fields, if any.
    pub fn fields(&self) -> &[Field] {
        match self {
            HeaderBlock::Fields { fields, .. } => fields,
            _ => &[],
        }
    }

    /// The value of the first field called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields().iter().find(|f| f.name == name).map(|f| f.value.as_str())
    }
}

/// What a DATA frame on a WebSocket stream carried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebSocketContent {
    /// The WebSocket frames that this DATA frame completed.
    pub frames: Vec<FrameEvent>,
    /// Bytes of a WebSocket frame that is not complete yet (it continues in later DATA frames).
    pub pending: usize,
    /// Why the bytes stopped making sense as WebSocket frames, if they did.
    pub error: Option<String>,
}

/// A frame's payload, decoded by type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// DATA: body bytes (padding removed); on a WebSocket stream, the frames in them.
    Data {
        /// The bytes (at most [`PAYLOAD_KEPT`]).
        data: Vec<u8>,
        /// How many data bytes there were.
        len: usize,
        /// On a stream opened by an extended CONNECT for `websocket`: the WebSocket frames.
        websocket: Option<WebSocketContent>,
    },
    /// HEADERS.
    Headers {
        /// The header block.
        block: HeaderBlock,
        /// With the PRIORITY flag, the priority.
        priority: Option<Priority>,
    },
    /// PRIORITY.
    Priority(Priority),
    /// RST_STREAM, with its error code.
    RstStream {
        /// Why ([`error_name`]).
        code: u32,
    },
    /// SETTINGS: (parameter, value) pairs; none in an ACK.
    Settings {
        /// The parameters ([`setting_name`]) and values, in order.
        params: Vec<(u16, u32)>,
    },
    /// PUSH_PROMISE.
    PushPromise {
        /// The stream the pushed response will use.
        promised: u32,
        /// The promised request's header block.
        block: HeaderBlock,
    },
    /// PING, with its 8 bytes.
    Ping {
        /// The opaque data, echoed in the ACK.
        data: [u8; 8],
    },
    /// GOAWAY.
    GoAway {
        /// The highest stream the sender handled or may still handle.
        last_stream: u32,
        /// Why ([`error_name`]).
        code: u32,
        /// Debug data, for people.
        debug: Vec<u8>,
    },
    /// WINDOW_UPDATE.
    WindowUpdate {
        /// How many more bytes the receiver can take, on the stream or (stream 0) the connection.
        increment: u32,
    },
    /// CONTINUATION.
    Continuation {
        /// The header block, shown whole on the frame that ends it.
        block: HeaderBlock,
    },
    /// A type RFC 9113 does not define: a receiver ignores it (§5.5).
    Unknown,
    /// A frame whose payload breaks its type's rules.
    Malformed(String),
}

/// One HTTP/2 frame as the Tap saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Its header.
    pub header: FrameHeader,
    /// Its payload, decoded.
    pub body: Body,
}

/// What an HTTP/2 connection showed the Tap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Http2Event {
    /// The client's 24-byte connection preface (RFC 9113 §3.4).
    Preface,
    /// A frame.
    Frame(Frame),
}

/// The largest header block the Tap collects across CONTINUATION frames before giving up.
pub const MAX_HEADER_BLOCK: usize = 1024 * 1024;

/// How many bytes of a WebSocket frame the Tap buffers on one stream to show it whole.
const MAX_WS_FRAME: u64 = crate::decode::MAX_FRAME;

#[derive(Debug, Default)]
struct Side {
    buf: Vec<u8>,
    preface_seen: bool,
    hpack: hpack::Decoder,
    /// A header block still waiting for CONTINUATION frames: its stream and fragments.
    pending: Option<(u32, Vec<u8>)>,
    /// The bytes stopped making sense: everything after is shown raw.
    raw: bool,
}

#[derive(Debug)]
struct WebSocketStream {
    /// One decoder per direction: client to server, server to client.
    decoders: [(FrameDecoder, Option<OpCode>); 2],
    broken: [bool; 2],
}

fn index(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

/// Decodes both directions of an HTTP/2 connection into transcript events. Each direction has
/// its own buffer and its own HPACK dynamic table; the streams opened for WebSocket are shared.
#[derive(Debug, Default)]
pub struct Decoder {
    sides: [Side; 2],
    websocket: HashMap<u32, WebSocketStream>,
}

impl Decoder {
    /// A decoder for a connection whose client has not sent its preface yet.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Bytes that `dir`'s sender wrote. Returns the events they completed.
    pub fn feed(&mut self, dir: Direction, bytes: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        let side = &mut self.sides[index(dir)];
        side.buf.extend_from_slice(bytes);
        if side.raw {
            let data = std::mem::take(&mut side.buf);
            let len = data.len();
            events.push(Event::new(Some(dir), EventKind::Data(data)).with_wire_len(len));
            return events;
        }
        if dir == Direction::ClientToServer && !side.preface_seen {
            if side.buf.len() < PREFACE.len() {
                return events;
            }
            if !side.buf.starts_with(PREFACE) {
                return self.fail(dir, "the client did not start with the HTTP/2 preface (RFC 9113 §3.4)");
            }
            side.buf.drain(..PREFACE.len());
            side.preface_seen = true;
            events.push(
                Event::new(Some(dir), EventKind::Http2(Http2Event::Preface)).with_wire_len(PREFACE.len()),
            );
        }
        loop {
            let side = &mut self.sides[index(dir)];
            let Some(header) = FrameHeader::parse(&side.buf) else { break };
            let total = HEADER_LEN + header.len as usize;
            if side.buf.len() < total {
                break;
            }
            let payload: Vec<u8> = side.buf[HEADER_LEN..total].to_vec();
            side.buf.drain(..total);
            let body = match self.body(dir, &header, &payload) {
                Ok(body) => body,
                Err(reason) => Body::Malformed(reason),
            };
            let malformed = matches!(body, Body::Malformed(_));
            let note = self.after(dir, &header, &body);
            events.push(
                Event::new(Some(dir), EventKind::Http2(Http2Event::Frame(Frame { header, body })))
                    .with_wire_len(total),
            );
            events.extend(note);
            if malformed {
                events.extend(self.fail(dir, "after a malformed frame the rest cannot be trusted"));
                break;
            }
        }
        events
    }

    /// `dir`'s sender stopped sending: what was left unfinished, if anything.
    pub fn finish(&mut self, dir: Direction) -> Option<Event> {
        let side = &mut self.sides[index(dir)];
        let leftover = std::mem::take(&mut side.buf);
        (!leftover.is_empty()).then(|| {
            Event::new(Some(dir), EventKind::Truncated { data: leftover, what: "an HTTP/2 frame".to_owned() })
        })
    }

    /// Gives up on `dir`: what is buffered, and all that follows, is shown raw.
    fn fail(&mut self, dir: Direction, reason: &str) -> Vec<Event> {
        let side = &mut self.sides[index(dir)];
        side.raw = true;
        let mut data = std::mem::take(&mut side.buf);
        let len = data.len();
        if len == 0 {
            return vec![Event::new(Some(dir), EventKind::Note(format!("⚠ {reason}; showing raw bytes")))];
        }
        data.truncate(PAYLOAD_KEPT);
        vec![
            Event::new(Some(dir), EventKind::Undecodable { data, reason: reason.to_owned() })
                .with_wire_len(len),
        ]
    }

    /// Decodes a payload by the frame's type (RFC 9113 §6).
    fn body(&mut self, dir: Direction, header: &FrameHeader, payload: &[u8]) -> Result<Body, String> {
        let kind_name = kind_name(header.kind).unwrap_or("frame");
        let fixed = |n: usize| {
            if payload.len() == n {
                Ok(())
            } else {
                Err(format!("a {kind_name} frame must carry {n} bytes, not {}", payload.len()))
            }
        };
        Ok(match header.kind {
            kind::DATA => {
                let data = unpad(header, payload)?;
                let websocket = self.websocket_data(dir, header.stream, data);
                let mut kept = data.to_vec();
                kept.truncate(PAYLOAD_KEPT);
                Body::Data { data: kept, len: data.len(), websocket }
            }
            kind::HEADERS => {
                let mut rest = unpad(header, payload)?;
                let priority = if header.has(flag::PRIORITY) {
                    let (p, tail) = priority(rest)?;
                    rest = tail;
                    Some(p)
                } else {
                    None
                };
                Body::Headers { block: self.header_block(dir, header, rest, true), priority }
            }
            kind::PRIORITY => {
                fixed(5)?;
                Body::Priority(priority(payload)?.0)
            }
            kind::RST_STREAM => {
                fixed(4)?;
                Body::RstStream { code: u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) }
            }
            kind::SETTINGS => {
                if !payload.len().is_multiple_of(6) {
                    return Err(format!(
                        "a SETTINGS payload is 6-byte parameters, and {} is not a multiple of 6 (RFC 9113 §6.5)",
                        payload.len()
                    ));
                }
                let params = payload
                    .chunks_exact(6)
                    .map(|p| (u16::from_be_bytes([p[0], p[1]]), u32::from_be_bytes([p[2], p[3], p[4], p[5]])))
                    .collect::<Vec<_>>();
                Body::Settings { params }
            }
            kind::PUSH_PROMISE => {
                let rest = unpad(header, payload)?;
                if rest.len() < 4 {
                    return Err("a PUSH_PROMISE shorter than its promised stream id".to_owned());
                }
                let promised = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) & 0x7fff_ffff;
                Body::PushPromise { promised, block: self.header_block(dir, header, &rest[4..], true) }
            }
            kind::PING => {
                fixed(8)?;
                let mut data = [0; 8];
                data.copy_from_slice(payload);
                Body::Ping { data }
            }
            kind::GOAWAY => {
                if payload.len() < 8 {
                    return Err("a GOAWAY shorter than 8 bytes (RFC 9113 §6.8)".to_owned());
                }
                Body::GoAway {
                    last_stream: u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]])
                        & 0x7fff_ffff,
                    code: u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]),
                    debug: payload[8..].to_vec(),
                }
            }
            kind::WINDOW_UPDATE => {
                fixed(4)?;
                Body::WindowUpdate {
                    increment: u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]])
                        & 0x7fff_ffff,
                }
            }
            kind::CONTINUATION => {
                Body::Continuation { block: self.header_block(dir, header, payload, false) }
            }
            _ => Body::Unknown,
        })
    }

    /// Collects a header block fragment; decodes the block once END_HEADERS ends it.
    fn header_block(
        &mut self,
        dir: Direction,
        header: &FrameHeader,
        fragment: &[u8],
        first: bool,
    ) -> HeaderBlock {
        let side = &mut self.sides[index(dir)];
        let mut block = match (first, side.pending.take()) {
            (true, None) => fragment.to_vec(),
            (false, Some((stream, mut block))) if stream == header.stream => {
                block.extend_from_slice(fragment);
                block
            }
            (true, Some(_)) => {
                return HeaderBlock::Failed(
                    "a new header block while one is still waiting for CONTINUATION (RFC 9113 §6.10)"
                        .to_owned(),
                );
            }
            (false, _) => {
                return HeaderBlock::Failed(
                    "a CONTINUATION that continues no header block (RFC 9113 §6.10)".to_owned(),
                );
            }
        };
        if block.len() > MAX_HEADER_BLOCK {
            return HeaderBlock::Failed(format!("a header block longer than {MAX_HEADER_BLOCK} bytes"));
        }
        if !header.has(flag::END_HEADERS) {
            side.pending = Some((header.stream, std::mem::take(&mut block)));
            return HeaderBlock::Continues;
        }
        match side.hpack.decode(&block) {
            Ok(fields) => HeaderBlock::Fields { fields, block_len: block.len() },
            Err(e) => HeaderBlock::Failed(format!("HPACK: {e}")),
        }
    }

    /// What a frame changes in the connection's state, and the note that says so.
    fn after(&mut self, dir: Direction, header: &FrameHeader, body: &Body) -> Option<Event> {
        let block = match body {
            Body::Headers { block, .. } | Body::Continuation { block } => block,
            Body::RstStream { .. } => {
                self.websocket.remove(&header.stream);
                return None;
            }
            _ => return None,
        };
        match dir {
            Direction::ClientToServer
                if block.get(":method") == Some("CONNECT") && block.get(":protocol") == Some("websocket") =>
            {
                let new = || (FrameDecoder::new(MAX_WS_FRAME), None);
                self.websocket
                    .insert(header.stream, WebSocketStream { decoders: [new(), new()], broken: [false; 2] });
                None
            }
            Direction::ServerToClient if self.websocket.contains_key(&header.stream) => {
                let status = block.get(":status")?;
                if status.starts_with('2') {
                    Some(Event::note(format!(
                        "{status} to an extended CONNECT: stream {} is now a WebSocket, its DATA frames carry \
                         WebSocket frames both ways (RFC 8441 §5)",
                        header.stream
                    )))
                } else {
                    self.websocket.remove(&header.stream);
                    None
                }
            }
            _ => None,
        }
    }

    /// On a WebSocket stream, the WebSocket frames that `data` completes.
    fn websocket_data(&mut self, dir: Direction, stream: u32, data: &[u8]) -> Option<WebSocketContent> {
        let ws = self.websocket.get_mut(&stream)?;
        let i = index(dir);
        if ws.broken[i] {
            return None;
        }
        let (decoder, open_message) = &mut ws.decoders[i];
        decoder.push(data);
        let mut content = WebSocketContent::default();
        loop {
            match decoder.next_frame() {
                Ok(Some((frame, _raw))) => {
                    let continues = match frame.opcode {
                        OpCode::Continuation => *open_message,
                        _ => None,
                    };
                    if !frame.opcode.is_control() {
                        *open_message = if frame.fin {
                            None
                        } else if frame.opcode == OpCode::Continuation {
                            *open_message
                        } else {
                            Some(frame.opcode)
                        };
                    }
                    let header = frame.header();
                    let mut payload = frame.payload;
                    payload.truncate(PAYLOAD_KEPT);
                    content.frames.push(FrameEvent::new(header, payload, continues));
                }
                Ok(None) => break,
                Err(e) => {
                    decoder.take_buffered();
                    ws.broken[i] = true;
                    content.error = Some(e.to_string());
                    break;
                }
            }
        }
        content.pending = decoder.buffered().len();
        Some(content)
    }
}

/// A payload without its padding (RFC 9113 §6.1): with PADDED, the first byte says how many
/// bytes of padding end the payload.
fn unpad<'a>(header: &FrameHeader, payload: &'a [u8]) -> Result<&'a [u8], String> {
    if !header.has(flag::PADDED) {
        return Ok(payload);
    }
    let (&pad, rest) = payload.split_first().ok_or("a PADDED frame without its pad length")?;
    rest.len()
        .checked_sub(usize::from(pad))
        .map(|end| &rest[..end])
        .ok_or_else(|| format!("{pad} bytes of padding in a frame of {} (RFC 9113 §6.1)", payload.len()))
}

/// A priority: exclusive bit and stream dependency (4 bytes), weight − 1 (1 byte).
fn priority(bytes: &[u8]) -> Result<(Priority, &[u8]), String> {
    if bytes.len() < 5 {
        return Err("a priority shorter than 5 bytes (RFC 9113 §6.3)".to_owned());
    }
    let dep = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let p = Priority {
        exclusive: dep & 0x8000_0000 != 0,
        depends_on: dep & 0x7fff_ffff,
        weight: u16::from(bytes[4]) + 1,
    };
    Ok((p, &bytes[5..]))
}

/// Whether `buf` starts like a server's first frame, a SETTINGS frame on stream 0 (RFC 9113
/// §3.4): a server may send it before the client's preface arrives. It takes the whole 9-byte
/// header to say so, so that a few bytes of another protocol are never held back.
pub fn could_be_server_preface(buf: &[u8]) -> bool {
    FrameHeader::parse(buf)
        .is_some_and(|h| h.kind == kind::SETTINGS && h.flags == 0 && h.stream == 0 && h.len.is_multiple_of(6))
}

#[cfg(test)]
mod tests;
