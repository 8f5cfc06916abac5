//! Decoding a whole connection, both directions, into transcript events (sans-I/O).
//!
//! [`ConnectionDecoder`] is the brain of the Tap with the sockets taken out: feed it the bytes each
//! side sent, in the order they arrived, and it returns [`Event`]s. It follows the connection's
//! life: HTTP/1.1 heads and bodies (several on one keep-alive connection), the switch to WebSocket
//! frames after `101 Switching Protocols`, TLS records if the client starts with a TLS handshake,
//! HTTP/2 frames if it starts with the HTTP/2 preface (and WebSocket frames inside the DATA of a
//! stream opened by an extended CONNECT, RFC 8441), and raw bytes for anything else. Bytes it cannot decode become an `Undecodable` event; it never
//! panics and never stops passing judgement on to the reader.

use std::collections::VecDeque;

use crate::deflate::Decompressor;
use crate::frame::{FrameDecoder, FrameError, OpCode};
use crate::http::{BodyKind, Head};
use crate::tls::{Header as TlsHeader, TlsReader};
use crate::transcript::{Closure, Direction, Event, EventKind, FrameEvent, PAYLOAD_KEPT};

/// The largest head the decoder waits for before calling the bytes undecodable.
pub const MAX_HEAD: usize = 64 * 1024;

/// The largest frame payload the decoder buffers to show whole (tungstenite's default frame
/// limit). Bigger frames are passed on as raw bytes.
pub const MAX_FRAME: u64 = 16 * 1024 * 1024;

/// What the connection is expected to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Work it out: HTTP (and WebSocket after an upgrade), TLS if the first byte says so, raw
    /// bytes otherwise.
    Auto,
    /// WebSocket frames from the first byte (a connection whose handshake is already done).
    WebSocket,
    /// Raw bytes, shown as they were read: for protocols the Tap does not know, such as the raw
    /// TCP examples.
    Raw,
}

#[derive(Debug)]
enum Phase {
    /// Nothing decided yet (auto mode, no bytes seen).
    Start,
    /// Waiting for an HTTP head.
    Head,
    /// Reading a body of known length.
    Body { remaining: u64, kept: Vec<u8>, len: u64 },
    /// Reading a chunked body.
    Chunked(ChunkState),
    /// Reading a response body that ends when the connection does.
    UntilClose,
    /// WebSocket frames; `inflate` if the handshake agreed on permessage-deflate.
    Frames { decoder: FrameDecoder, open_message: Option<OpCode>, inflate: Option<Inflate> },
    /// TLS records.
    Tls,
    /// HTTP/2 frames (the connection's [`crate::http2::Decoder`] holds the state).
    Http2,
    /// Anything else, as it comes.
    Raw,
}

#[derive(Debug)]
enum ChunkState {
    Size,
    Data { remaining: u64, kept: Vec<u8>, size: u64, wire: usize },
    DataEnd { kept: Vec<u8>, size: u64, wire: usize },
    Trailers,
}

/// permessage-deflate as the Tap follows it, for one direction: the inflater the receiver keeps
/// (with or without context takeover, as agreed), and the compressed message in progress.
#[derive(Debug)]
struct Inflate {
    decompressor: Decompressor,
    /// The current message inflated so far, if its first frame had RSV1 set.
    message: Option<Vec<u8>>,
    /// An inflate failed: the rest of this direction cannot be inflated.
    failed: bool,
}

impl Inflate {
    fn new(no_context_takeover: bool) -> Inflate {
        Inflate { decompressor: Decompressor::new(no_context_takeover), message: None, failed: false }
    }
}

/// The `*_no_context_takeover` of a `101` that accepted permessage-deflate, as (client's, server's),
/// or `None` if the response accepted no such extension.
fn deflate_agreed(head: &Head) -> Option<(bool, bool)> {
    let value = head.header("Sec-WebSocket-Extensions")?;
    let extensions = crate::deflate::header::parse(value).ok()?;
    let deflate = extensions.iter().find(|e| e.name.eq_ignore_ascii_case("permessage-deflate"))?;
    let has = |name: &str| deflate.params.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    Some((has("client_no_context_takeover"), has("server_no_context_takeover")))
}

#[derive(Debug)]
struct Side {
    buf: Vec<u8>,
    phase: Phase,
    closed: bool,
}

impl Side {
    fn new(mode: Mode) -> Side {
        let phase = match mode {
            Mode::Auto => Phase::Start,
            Mode::WebSocket => new_frames(),
            Mode::Raw => Phase::Raw,
        };
        Side { buf: Vec::new(), phase, closed: false }
    }
}

/// Decodes both directions of one connection into events. See the module docs.
#[derive(Debug)]
pub struct ConnectionDecoder {
    client: Side,
    server: Side,
    /// Methods of requests not yet answered, oldest first: a response to HEAD has no body.
    methods: VecDeque<String>,
    /// The server answered 101: both sides speak WebSocket from here on.
    upgraded: bool,
    /// An HTTP message has been seen, so failures are errors rather than another protocol.
    seen_http: bool,
    /// What the TLS records have told so far, for a connection that speaks TLS.
    tls: TlsReader,
    /// For a connection that speaks HTTP/2: both directions' frames, HPACK tables and streams.
    http2: Option<Box<crate::http2::Decoder>>,
    /// The `101` accepted permessage-deflate: the (client's, server's) `no_context_takeover`.
    deflate: Option<(bool, bool)>,
}

impl ConnectionDecoder {
    /// A decoder for a connection expected to speak `mode`.
    pub fn new(mode: Mode) -> ConnectionDecoder {
        ConnectionDecoder {
            client: Side::new(mode),
            server: Side::new(mode),
            methods: VecDeque::new(),
            upgraded: false,
            seen_http: false,
            tls: TlsReader::new(),
            http2: None,
            deflate: None,
        }
    }

    /// Bytes that `dir`'s sender wrote, as they arrived. Returns what they completed.
    pub fn feed(&mut self, dir: Direction, bytes: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        self.side(dir).buf.extend_from_slice(bytes);
        self.process(dir, &mut events);
        // A server's first HTTP/2 frame may have arrived before the client's preface decided
        // what the connection speaks: decode it now.
        let other = dir.reverse();
        if self.http2.is_some() && !self.side(other).buf.is_empty() {
            self.process(other, &mut events);
        }
        events
    }

    /// `dir`'s sender stopped sending. Reports anything left unfinished, then the closure.
    pub fn finish(&mut self, dir: Direction, how: Closure) -> Vec<Event> {
        let mut events = Vec::new();
        let side = self.side(dir);
        if side.closed {
            return events;
        }
        side.closed = true;
        let leftover = std::mem::take(&mut side.buf);
        let phase = std::mem::replace(&mut side.phase, Phase::Raw);
        let truncated = |what: &str, data: Vec<u8>| {
            Event::new(Some(dir), EventKind::Truncated { data, what: what.to_owned() })
        };
        match phase {
            Phase::Frames { mut decoder, .. } => {
                let mut partial = decoder.take_buffered();
                partial.extend_from_slice(&leftover);
                if !partial.is_empty() {
                    events.push(truncated("a WebSocket frame", partial));
                }
            }
            Phase::UntilClose if !leftover.is_empty() => {
                let len = leftover.len();
                events.push(body_event(dir, leftover, len, len as u64, false));
            }
            Phase::UntilClose => {}
            Phase::Body { kept, len, .. } => events.push(truncated(&format!("a body of {len} bytes"), kept)),
            Phase::Chunked(_) => events.push(truncated("a chunked body", leftover)),
            Phase::Head if !leftover.is_empty() => events.push(truncated("an HTTP head", leftover)),
            Phase::Tls if !leftover.is_empty() => events.push(truncated("a TLS record", leftover)),
            Phase::Http2 => {
                if let Some(http2) = &mut self.http2 {
                    http2.feed(dir, &leftover);
                    events.extend(http2.finish(dir));
                }
            }
            _ if !leftover.is_empty() => {
                let len = leftover.len();
                events.push(Event::new(Some(dir), EventKind::Data(leftover)).with_wire_len(len));
            }
            _ => {}
        }
        events.push(Event::new(Some(dir), EventKind::Closed(how)));
        events
    }

    fn side(&mut self, dir: Direction) -> &mut Side {
        match dir {
            Direction::ClientToServer => &mut self.client,
            Direction::ServerToClient => &mut self.server,
        }
    }

    fn process(&mut self, dir: Direction, events: &mut Vec<Event>) {
        // Each step consumes bytes or changes phase; stop when a step does neither.
        loop {
            let before = self.progress_marker(dir);
            self.step(dir, events);
            if self.progress_marker(dir) == before {
                break;
            }
        }
    }

    fn progress_marker(&mut self, dir: Direction) -> (usize, std::mem::Discriminant<Phase>) {
        let side = self.side(dir);
        (side.buf.len(), std::mem::discriminant(&side.phase))
    }

    fn step(&mut self, dir: Direction, events: &mut Vec<Event>) {
        let upgraded = self.upgraded;
        let seen_http = self.seen_http;
        let deflate = self.deflate;
        if self.side(dir).buf.is_empty() {
            return;
        }
        if matches!(self.side(dir).phase, Phase::Start) {
            let buf = match dir {
                Direction::ClientToServer => &self.client.buf,
                Direction::ServerToClient => &self.server.buf,
            };
            match dir {
                Direction::ClientToServer if buf.starts_with(crate::http2::PREFACE) => {
                    events.push(Event::note(
                        "the client starts with the HTTP/2 connection preface: from here on both sides \
                         send HTTP/2 frames (RFC 9113 §3.4), their headers compressed with HPACK (RFC 7541)",
                    ));
                    self.http2 = Some(Box::default());
                    self.client.phase = Phase::Http2;
                    self.server.phase = Phase::Http2;
                    return;
                }
                // The start of the HTTP/2 preface: more bytes will decide.
                Direction::ClientToServer if crate::http2::PREFACE.starts_with(buf) => return,
                // A server may send its SETTINGS before the client's preface arrives: wait for
                // the client to say what the connection speaks.
                Direction::ServerToClient
                    if crate::http2::PREFACE.starts_with(&self.client.buf)
                        && crate::http2::could_be_server_preface(buf) =>
                {
                    return;
                }
                _ => {}
            }
            // A TLS record starts with its content type, 22 for handshake (the ClientHello), then
            // the major version, 3.
            let buf = &self.side(dir).buf;
            if buf == &[0x16] {
                return; // One byte more decides.
            }
            let tls = buf.starts_with(&[0x16, 0x03]);
            if tls {
                events.push(Event::note(
                    "the client starts a TLS handshake: from here on the Tap sees TLS records, each \
                     with its type and length in the clear (RFC 8446 §5.1), its content only until \
                     the two sides have agreed on keys",
                ));
            }
            for side in [&mut self.client, &mut self.server] {
                if matches!(side.phase, Phase::Start) {
                    side.phase = if tls { Phase::Tls } else { Phase::Head };
                }
            }
            return;
        }
        if matches!(self.side(dir).phase, Phase::Http2) {
            let data = std::mem::take(&mut self.side(dir).buf);
            let http2 = self.http2.get_or_insert_with(Box::default);
            events.extend(http2.feed(dir, &data));
            return;
        }
        if matches!(self.side(dir).phase, Phase::Tls) {
            // Field by field, so the side's buffer and the connection's TLS state can both be used.
            let side = match dir {
                Direction::ClientToServer => &mut self.client,
                Direction::ServerToClient => &mut self.server,
            };
            step_tls(dir, side, &mut self.tls, events);
            return;
        }
        let side = self.side(dir);
        match &mut side.phase {
            Phase::Start | Phase::Tls | Phase::Http2 => {}
            Phase::Head if upgraded && dir == Direction::ClientToServer => {
                side.phase = frames_after_101(dir, deflate);
            }
            Phase::Head => {
                let parsed = match dir {
                    Direction::ClientToServer => Head::parse_request(&side.buf),
                    Direction::ServerToClient => Head::parse_response(&side.buf),
                };
                match parsed {
                    Ok(Some(head)) => {
                        side.buf.drain(..head.len);
                        self.on_head(dir, head, events);
                    }
                    Ok(None) if side.buf.len() > MAX_HEAD => {
                        let data = std::mem::take(&mut side.buf);
                        side.phase = Phase::Raw;
                        events.push(undecodable(
                            dir,
                            data,
                            format!("an HTTP head longer than {MAX_HEAD} bytes"),
                        ));
                    }
                    Ok(None) => {}
                    Err(e) if !seen_http => {
                        // Nothing HTTP has been said: this connection speaks something else.
                        self.client.phase = Phase::Raw;
                        self.server.phase = Phase::Raw;
                        events.push(Event::note(format!(
                            "the {} did not start with HTTP ({}): showing raw bytes",
                            dir.sender(),
                            e.0
                        )));
                    }
                    Err(e) => {
                        let data = std::mem::take(&mut side.buf);
                        side.phase = Phase::Raw;
                        events.push(undecodable(dir, data, e.to_string()));
                    }
                }
            }
            Phase::Body { remaining, kept, len } => {
                let take = (*remaining).min(side.buf.len() as u64) as usize;
                let room = PAYLOAD_KEPT.saturating_sub(kept.len()).min(take);
                kept.extend_from_slice(&side.buf[..room]);
                side.buf.drain(..take);
                *remaining -= take as u64;
                if *remaining == 0 {
                    let (kept, len) = (std::mem::take(kept), *len);
                    side.phase = Phase::Head;
                    if len > 0 {
                        events.push(body_event(dir, kept, len as usize, len, false));
                    }
                }
            }
            Phase::Chunked(state) => {
                if let Err(reason) = step_chunked(dir, state, &mut side.buf, events) {
                    let data = std::mem::take(&mut side.buf);
                    side.phase = Phase::Raw;
                    events.push(undecodable(dir, data, reason));
                } else if matches!(state, ChunkState::Trailers) && side.buf.starts_with(b"\r\n") {
                    side.buf.drain(..2);
                    side.phase = Phase::Head;
                }
            }
            Phase::UntilClose => {
                let data = std::mem::take(&mut side.buf);
                let len = data.len();
                events.push(body_event(dir, data, len, len as u64, false));
            }
            Phase::Frames { decoder, open_message, inflate } => {
                decoder.push(&side.buf);
                side.buf.clear();
                loop {
                    match decoder.next_frame() {
                        Ok(Some((frame, raw))) => {
                            let (compressed, inflated) = match inflate {
                                Some(inflate) => follow_deflate(dir, inflate, &frame, events),
                                None => (false, None),
                            };
                            let continues = match frame.opcode {
                                OpCode::Continuation => *open_message,
                                _ => None,
                            };
                            if !frame.opcode.is_control() {
                                *open_message = match (frame.opcode, frame.fin) {
                                    (_, true) => None,
                                    (OpCode::Continuation, false) => *open_message,
                                    (opcode, false) => Some(opcode),
                                };
                            }
                            let mut payload = frame.payload;
                            let payload_len = payload.len() as u64;
                            payload.truncate(PAYLOAD_KEPT);
                            let mut header = frame_header(
                                &frame.opcode,
                                frame.fin,
                                frame.mask,
                                [frame.rsv1, frame.rsv2, frame.rsv3],
                            );
                            header.payload_len = payload_len;
                            events.push(
                                Event::new(
                                    Some(dir),
                                    EventKind::Frame(FrameEvent {
                                        header,
                                        payload,
                                        continues,
                                        compressed,
                                        inflated,
                                    }),
                                )
                                .with_wire_len(raw.len()),
                            );
                        }
                        Ok(None) => break,
                        Err(e) => {
                            let data = decoder.take_buffered();
                            let reason = match e {
                                FrameError::TooLarge { len, .. } => format!(
                                    "a frame of {len} bytes, larger than the Tap shows ({MAX_FRAME}); passing it on as raw bytes"
                                ),
                                other => other.to_string(),
                            };
                            side.phase = Phase::Raw;
                            events.push(undecodable(dir, data, reason));
                            break;
                        }
                    }
                }
            }
            Phase::Raw => {
                let data = std::mem::take(&mut side.buf);
                let len = data.len();
                events.push(Event::new(Some(dir), EventKind::Data(data)).with_wire_len(len));
            }
        }
    }

    fn on_head(&mut self, dir: Direction, head: Head, events: &mut Vec<Event>) {
        self.seen_http = true;
        let len = head.len;
        let method = head.method().map(str::to_owned);
        let body = match dir {
            Direction::ClientToServer => head.body(None),
            Direction::ServerToClient => {
                let informational = head.status().is_some_and(|s| (100..200).contains(&s) && s != 101);
                let request_method =
                    if informational { self.methods.front().cloned() } else { self.methods.pop_front() };
                head.body(request_method.as_deref())
            }
        };
        if let Some(method) = method {
            self.methods.push_back(method);
        }
        let deflate = deflate_agreed(&head);
        events.push(Event::new(Some(dir), EventKind::Head(head)).with_wire_len(len));
        let phase = match body {
            BodyKind::None | BodyKind::Length(0) => Phase::Head,
            BodyKind::Length(n) => Phase::Body { remaining: n, kept: Vec::new(), len: n },
            BodyKind::Chunked => Phase::Chunked(ChunkState::Size),
            BodyKind::UntilClose => Phase::UntilClose,
            BodyKind::SwitchProtocols => {
                self.upgraded = true;
                events.push(Event::note(
                    "101 Switching Protocols: from here on, both sides speak WebSocket frames (RFC 6455 §4.2.2)",
                ));
                self.deflate = deflate;
                if self.deflate.is_some() {
                    events.push(Event::note(
                        "permessage-deflate agreed: a frame with RSV1 set starts a compressed message \
                         (RFC 7692 §6); the Tap inflates it as the receiver does",
                    ));
                }
                // A client that did not wait for the 101 may have frames queued already.
                if matches!(self.client.phase, Phase::Head) {
                    self.client.phase = frames_after_101(Direction::ClientToServer, self.deflate);
                }
                frames_after_101(dir, self.deflate)
            }
        };
        self.side(dir).phase = phase;
        if self.upgraded && dir == Direction::ServerToClient && !self.client.buf.is_empty() {
            self.process(Direction::ClientToServer, events);
        }
    }
}

/// Turns every whole TLS record buffered for `dir` into events.
fn step_tls(dir: Direction, side: &mut Side, tls: &mut TlsReader, events: &mut Vec<Event>) {
    loop {
        match crate::tls::header(&side.buf) {
            TlsHeader::Record { content_type, len } => {
                events.extend(tls.record(dir, content_type, &side.buf[5..5 + len]));
                side.buf.drain(..5 + len);
            }
            TlsHeader::Incomplete => return,
            TlsHeader::Invalid(reason) if !tls.spoke(dir) => {
                // Such as a plain HTTP server answering a TLS hello with `400`: show what it said.
                side.phase = Phase::Raw;
                events.push(Event::note(format!(
                    "the {} does not speak TLS: {reason}; showing raw bytes",
                    dir.sender()
                )));
                return;
            }
            TlsHeader::Invalid(reason) => {
                let data = std::mem::take(&mut side.buf);
                side.phase = Phase::Raw;
                events.push(undecodable(dir, data, reason));
                return;
            }
        }
    }
}

fn new_frames() -> Phase {
    Phase::Frames { decoder: FrameDecoder::new(MAX_FRAME), open_message: None, inflate: None }
}

/// Frames for `dir` after a `101`, with an inflater if permessage-deflate was agreed.
fn frames_after_101(dir: Direction, deflate: Option<(bool, bool)>) -> Phase {
    let inflate = deflate.map(|(client, server)| {
        Inflate::new(match dir {
            Direction::ClientToServer => client,
            Direction::ServerToClient => server,
        })
    });
    Phase::Frames { decoder: FrameDecoder::new(MAX_FRAME), open_message: None, inflate }
}

/// Follows permessage-deflate through one frame: whether the frame is part of a compressed
/// message, and on its last frame the message inflated. Control frames are never compressed.
fn follow_deflate(
    dir: Direction,
    inflate: &mut Inflate,
    frame: &crate::frame::Frame,
    events: &mut Vec<Event>,
) -> (bool, Option<Vec<u8>>) {
    if frame.opcode.is_control() || inflate.failed {
        return (false, None);
    }
    if matches!(frame.opcode, OpCode::Text | OpCode::Binary) {
        inflate.message = frame.rsv1.then(Vec::new);
    }
    let Some(message) = inflate.message.as_mut() else { return (false, None) };
    match inflate.decompressor.decompress_fragment(&frame.payload, frame.fin, message, MAX_FRAME as usize) {
        Ok(()) if frame.fin => {
            let mut whole = inflate.message.take().unwrap_or_default();
            whole.truncate(PAYLOAD_KEPT);
            (true, Some(whole))
        }
        Ok(()) => (true, None),
        Err(e) => {
            inflate.failed = true;
            inflate.message = None;
            events.push(Event::new(
                Some(dir),
                EventKind::Note(format!("the Tap cannot inflate this message: {e}")),
            ));
            (true, None)
        }
    }
}

fn frame_header(
    opcode: &OpCode,
    fin: bool,
    mask: Option<[u8; 4]>,
    rsv: [bool; 3],
) -> crate::frame::FrameHeader {
    crate::frame::FrameHeader {
        fin,
        rsv1: rsv[0],
        rsv2: rsv[1],
        rsv3: rsv[2],
        opcode: *opcode,
        mask,
        payload_len: 0,
    }
}

fn undecodable(dir: Direction, mut data: Vec<u8>, reason: String) -> Event {
    let len = data.len();
    data.truncate(PAYLOAD_KEPT);
    Event::new(Some(dir), EventKind::Undecodable { data, reason }).with_wire_len(len)
}

fn body_event(dir: Direction, mut data: Vec<u8>, wire: usize, len: u64, chunk: bool) -> Event {
    data.truncate(PAYLOAD_KEPT);
    Event::new(Some(dir), EventKind::Body { data, len, chunk }).with_wire_len(wire)
}

/// Most bytes a chunk-size line may have (size, extensions, CRLF).
const MAX_CHUNK_LINE: usize = 1024;

/// Advances a chunked body (RFC 9112 §7.1) as far as the buffered bytes allow.
fn step_chunked(
    dir: Direction,
    state: &mut ChunkState,
    buf: &mut Vec<u8>,
    events: &mut Vec<Event>,
) -> Result<(), String> {
    loop {
        match state {
            ChunkState::Size => {
                let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
                    if buf.len() > MAX_CHUNK_LINE {
                        return Err("a chunk-size line longer than 1 KiB".to_owned());
                    }
                    return Ok(());
                };
                let line = String::from_utf8_lossy(&buf[..end]).into_owned();
                let size_text = line.split(';').next().unwrap_or_default().trim();
                let size = u64::from_str_radix(size_text, 16)
                    .map_err(|_| format!("{line:?} is not a chunk size in hex (RFC 9112 §7.1)"))?;
                buf.drain(..end + 2);
                if size == 0 {
                    events.push(body_event(dir, Vec::new(), end + 2, 0, true));
                    *state = ChunkState::Trailers;
                } else {
                    *state = ChunkState::Data { remaining: size, kept: Vec::new(), size, wire: end + 2 };
                }
            }
            ChunkState::Data { remaining, kept, size, wire } => {
                let take = (*remaining).min(buf.len() as u64) as usize;
                let room = PAYLOAD_KEPT.saturating_sub(kept.len()).min(take);
                kept.extend_from_slice(&buf[..room]);
                buf.drain(..take);
                *remaining -= take as u64;
                *wire += take;
                if *remaining > 0 {
                    return Ok(());
                }
                *state = ChunkState::DataEnd { kept: std::mem::take(kept), size: *size, wire: *wire };
            }
            ChunkState::DataEnd { kept, size, wire } => {
                if buf.len() < 2 {
                    return Ok(());
                }
                if &buf[..2] != b"\r\n" {
                    return Err("a chunk's data is not followed by CRLF (RFC 9112 §7.1)".to_owned());
                }
                buf.drain(..2);
                events.push(body_event(dir, std::mem::take(kept), *wire + 2, *size, true));
                *state = ChunkState::Size;
            }
            ChunkState::Trailers => {
                // Trailer fields end with an empty line; most bodies have none.
                if buf.starts_with(b"\r\n") || buf.len() < 2 {
                    return Ok(());
                }
                let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(());
                };
                buf.drain(..end + 2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use crate::transcript::{Render, Transcript};
    use Direction::{ClientToServer as C, ServerToClient as S};

    fn run(mode: Mode, script: &[(Direction, &[u8])]) -> Transcript {
        let mut decoder = ConnectionDecoder::new(mode);
        let mut transcript = Transcript::new();
        for (dir, bytes) in script {
            transcript.events.extend(decoder.feed(*dir, bytes));
        }
        transcript.events.extend(decoder.finish(S, Closure::Fin));
        transcript.events.extend(decoder.finish(C, Closure::Fin));
        transcript
    }

    fn render(t: &Transcript) -> String {
        t.render(&Render::snapshot().without_hex())
    }

    #[test]
    fn after_a_101_that_agreed_on_deflate_compressed_messages_are_shown_inflated() {
        let hello = Frame::new(OpCode::Text, vec![0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).compressed();
        // RFC 7692 §7.2.3.2: the second "Hello" refers back to the first.
        let again = Frame::new(OpCode::Text, vec![0xf2, 0x00, 0x11, 0x00, 0x00]).compressed();
        let t = run(
            Mode::Auto,
            &[
                (C, b"GET / HTTP/1.1\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
                (S, b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
                (C, &hello.clone().masked([1, 2, 3, 4]).encode()),
                (S, &hello.encode()),
                (S, &again.encode()),
                (S, &Frame::text("plain").encode()),
            ],
        );
        let text = render(&t);
        assert!(text.contains("permessage-deflate agreed"), "{text}");
        assert!(
            text.contains("S→C frame FIN RSV1 text          len=7  compressed: f2 48 cd c9 c9 07 00"),
            "{text}"
        );
        assert_eq!(
            text.matches("inflated, with the tail 00 00 ff ff put back: \"Hello\" (5 bytes)").count(),
            3,
            "{text}"
        );
        assert!(text.contains("len=5  \"plain\""), "an uncompressed message on the same connection: {text}");
    }

    #[test]
    fn without_deflate_agreed_an_rsv1_frame_is_shown_as_it_is() {
        let hello = Frame::text("Hello").compressed();
        let t = run(Mode::WebSocket, &[(S, &hello.encode())]);
        let text = render(&t);
        assert!(text.contains("RSV1 text          len=5  \"Hello\""), "{text}");
        assert!(!text.contains("inflated"), "{text}");
    }

    #[test]
    fn two_requests_share_one_keep_alive_connection() {
        let t = run(
            Mode::Auto,
            &[
                (C, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"),
                (S, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
                (C, b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
                (S, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyo!"),
            ],
        );
        let heads: Vec<String> = t.heads().map(|(_, h)| h.start.to_string()).collect();
        assert_eq!(heads, ["GET /a HTTP/1.1", "HTTP/1.1 200 OK", "GET /b HTTP/1.1", "HTTP/1.1 200 OK"]);
        let text = render(&t);
        assert!(text.contains("S→C body, 2 bytes: \"hi\""), "{text}");
        assert!(text.contains("S→C body, 3 bytes: \"yo!\""), "{text}");
    }

    #[test]
    fn bytes_arriving_one_at_a_time_decode_the_same() {
        let whole: &[(Direction, &[u8])] = &[
            (C, b"POST /m HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
            (S, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n"),
        ];
        let mut split: Vec<(Direction, &[u8])> = Vec::new();
        for (dir, bytes) in whole {
            for i in 0..bytes.len() {
                split.push((*dir, &bytes[i..=i]));
            }
        }
        let a = run(Mode::Auto, whole);
        let b = run(Mode::Auto, &split);
        assert_eq!(render(&a), render(&b));
        assert!(render(&a).contains("S→C chunk of 3 bytes: \"abc\""), "{}", render(&a));
        assert!(render(&a).contains("S→C last chunk"), "{}", render(&a));
    }

    #[test]
    fn a_101_switches_both_directions_to_frames() {
        let request = crate::handshake::client_request("x", "/ws", "dGhlIHNhbXBsZSBub25jZQ==");
        let accepted = crate::handshake::Accepted {
            key: String::new(),
            accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
            origin: None,
            offered: Vec::new(),
            protocol: None,
        };
        let ping = Frame::text("hi").masked([1, 2, 3, 4]).encode();
        let echo = Frame::text("hi").encode();
        let t = run(
            Mode::Auto,
            &[(C, request.as_bytes()), (S, accepted.response().as_bytes()), (C, &ping), (S, &echo)],
        );
        assert_eq!(t.frames().count(), 2, "{}", render(&t));
        assert_eq!(t.wire_bytes(C), request.len() + ping.len());
    }

    #[test]
    fn a_response_to_head_has_no_body_even_with_content_length() {
        let t = run(
            Mode::Auto,
            &[
                (C, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"),
                (S, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
                (C, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                (S, b"HTTP/1.1 204 No Content\r\n\r\n"),
            ],
        );
        assert_eq!(t.heads().count(), 4, "{}", render(&t));
    }

    #[test]
    fn a_connection_that_is_not_http_is_shown_raw() {
        let t = run(Mode::Auto, &[(C, b"\x00\x05hello"), (S, b"\x00\x05hello")]);
        let text = render(&t);
        assert!(text.contains("did not start with HTTP"), "{text}");
        assert!(text.contains("C→S 7 bytes"), "{text}");
    }

    #[test]
    fn garbage_after_http_is_undecodable_not_a_panic() {
        let t = run(Mode::Auto, &[(C, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), (C, b"\xff\xfe\r\n\r\n")]);
        assert!(render(&t).contains("could not decode"), "{}", render(&t));
    }

    #[test]
    fn a_connection_that_ends_mid_frame_says_so() {
        let frame = Frame::text("hello").masked([9, 9, 9, 9]).encode();
        let t = run(Mode::WebSocket, &[(C, &frame[..4])]);
        assert!(render(&t).contains("stopped in the middle of a WebSocket frame"), "{}", render(&t));
    }

    #[test]
    fn a_connection_that_starts_with_a_handshake_record_is_shown_as_tls_records() {
        let hello = [0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0xaa, 0xbb];
        let t = run(Mode::Auto, &[(C, &hello), (S, &[0x17, 0x03, 0x03, 0x00, 0x01, 0x00])]);
        let text = render(&t);
        assert!(text.contains("─── the client starts a TLS handshake"), "{text}");
        assert!(text.contains("C→S TLS record: handshake, 8 bytes, in the clear: ClientHello"), "{text}");
        assert!(text.contains("S→C TLS record: application_data, 1 byte, encrypted"), "{text}");
        assert_eq!(t.wire_bytes(C), hello.len(), "each record counts its 5-byte header");
    }

    #[test]
    fn a_first_byte_of_22_that_is_not_tls_is_shown_raw_not_waited_for() {
        let t = run(Mode::Auto, &[(C, b"\x16"), (C, b"GET / HTTP/1.1\r\n\r\n")]);
        let text = render(&t);
        assert!(!text.contains("TLS"), "the second byte is not TLS's major version, 3: {text}");
        assert!(text.contains("C→S 19 bytes: \"\\u{16}GET / HTTP/1.1"), "{text}");
    }

    #[test]
    fn a_plain_http_answer_to_a_tls_hello_is_shown_and_the_cut_hello_said_so() {
        let hello_start = [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03];
        let t = run(Mode::Auto, &[(C, &hello_start), (S, b"HTTP/1.1 400 Bad Request\r\n\r\n")]);
        let text = render(&t);
        assert!(text.contains("─── the server does not speak TLS"), "{text}");
        assert!(text.contains("S→C 28 bytes: \"HTTP/1.1 400 Bad Request"), "{text}");
        assert!(text.contains("C→S ⚠ the client stopped in the middle of a TLS record"), "{text}");
    }

    #[test]
    fn garbage_after_tls_records_is_undecodable() {
        let t = run(Mode::Auto, &[(C, &[0x16, 0x03, 0x01, 0x00, 0x01, 0x01]), (C, b"GET / HTTP/1.1\r\n")]);
        let text = render(&t);
        assert!(text.contains("C→S ⚠ 16 bytes the Tap could not decode: its second byte is 0x45"), "{text}");
    }
}
