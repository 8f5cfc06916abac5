//! Transcripts: what crossed the wire, in order, decoded and rendered for people.
//!
//! A [`Transcript`] is a list of [`Event`]s: a TCP connection opening, an HTTP head, a body or a
//! chunk of one, a WebSocket frame, bytes nobody could decode, a side closing. The same transcript
//! is printed live by the demos, frozen as a snapshot by the tests, and included in the book,
//! so the three cannot drift apart.
//!
//! Rendering is a pure function of the events and a [`Render`] style. [`Render::snapshot`] hides
//! what changes from run to run (ports, dates, random masks) so snapshots are deterministic;
//! [`Render::live`] shows everything.

use std::fmt::Write as _;

use crate::close::{CloseCode, ClosePayload};
use crate::frame::{FrameHeader, OpCode};
use crate::http::Head;

/// Which way bytes travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client (the side that opened the connection) to the server.
    ClientToServer,
    /// From the server to the client.
    ServerToClient,
}

impl Direction {
    /// The arrow shown at the start of a transcript line.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ClientToServer => "C→S",
            Direction::ServerToClient => "S→C",
        }
    }

    /// Who sends in this direction: "client" or "server".
    pub fn sender(self) -> &'static str {
        match self {
            Direction::ClientToServer => "client",
            Direction::ServerToClient => "server",
        }
    }

    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
}

/// How one direction of a TCP connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Closure {
    /// An orderly close: the sender's TCP sent FIN ("I will send nothing more").
    Fin,
    /// The connection was reset (RST): the peer vanished or aborted.
    Reset,
    /// Some other I/O error, as text.
    Error(String),
}

/// A decoded WebSocket frame, as the transcript keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameEvent {
    /// The header as it was on the wire.
    pub header: FrameHeader,
    /// The payload, unmasked. At most [`PAYLOAD_KEPT`] bytes are kept; `header.payload_len` has
    /// the full length.
    pub payload: Vec<u8>,
    /// For a continuation frame, the opcode of the message it continues (text or binary).
    pub continues: Option<OpCode>,
    /// The payload is part of a message compressed with permessage-deflate (RSV1 on its first
    /// frame, RFC 7692 §6), as the handshake the Tap saw agreed.
    pub compressed: bool,
    /// On the last frame of a compressed message: the whole message, inflated as its receiver
    /// inflates it (the `00 00 ff ff` tail put back, RFC 7692 §7.2.2). At most
    /// [`PAYLOAD_KEPT`] bytes are kept.
    pub inflated: Option<Vec<u8>>,
}

impl FrameEvent {
    /// The event for a frame as it is, not part of a compressed message.
    pub fn new(header: FrameHeader, payload: Vec<u8>, continues: Option<OpCode>) -> FrameEvent {
        FrameEvent { header, payload, continues, compressed: false, inflated: None }
    }
}

/// How many payload or body bytes an event keeps for display.
pub const PAYLOAD_KEPT: usize = 64 * 1024;

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A TCP connection opened between these two addresses.
    Opened {
        /// The client's address.
        client: String,
        /// The server's address.
        server: String,
    },
    /// An HTTP request or response head.
    Head(Head),
    /// Body bytes of an HTTP message.
    Body {
        /// The bytes (at most [`PAYLOAD_KEPT`]).
        data: Vec<u8>,
        /// The body's full length, or for a chunk the chunk's size.
        len: u64,
        /// `true` for a chunk of a `Transfer-Encoding: chunked` body.
        chunk: bool,
    },
    /// A WebSocket frame.
    Frame(FrameEvent),
    /// A TLS record: its header, and what could be read of its content (see [`crate::tls`]).
    TlsRecord(TlsRecord),
    /// Bytes of a stream that is not HTTP or WebSocket, shown as they were read.
    Data(Vec<u8>),
    /// Bytes that could not be decoded as what the connection was speaking.
    Undecodable {
        /// The bytes (at most [`PAYLOAD_KEPT`]).
        data: Vec<u8>,
        /// What the decoder expected and why it gave up.
        reason: String,
    },
    /// The connection ended in the middle of a message or frame.
    Truncated {
        /// The bytes of the unfinished message.
        data: Vec<u8>,
        /// What was unfinished.
        what: String,
    },
    /// One direction of the TCP connection ended.
    Closed(Closure),
    /// An annotation: what an event means, or something the Tap did.
    Note(String),
    /// HTTP/2: the connection preface or a frame (see [`crate::http2`]).
    Http2(crate::http2::Http2Event),
}

/// A TLS record as the Tap saw it (RFC 8446 §5.1): the header is always in the clear, the
/// content only until keys are agreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsRecord {
    /// The record's content type: 20 change_cipher_spec, 21 alert, 22 handshake, 23
    /// application_data.
    pub content_type: u8,
    /// The record's payload length (the 5-byte header not counted).
    pub len: u16,
    /// What the Tap could read of the payload.
    pub content: TlsContent,
}

/// What the Tap could read of a TLS record's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsContent {
    /// Handshake messages in the clear, named as the RFCs spell them (`ClientHello`,
    /// `ServerHello`, …), in order; "the rest of …" for one that began in an earlier record.
    Handshake(Vec<String>),
    /// An alert in the clear (RFC 8446 §6): its level (1 warning, 2 fatal) and description.
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// What went wrong, such as 40 handshake_failure.
        description: u8,
    },
    /// A change_cipher_spec: one byte, never encrypted. `tls13` tells what it means once the
    /// server has chosen a version: in TLS 1.3 a no-op for old middleboxes (RFC 8446 §D.4), in
    /// TLS 1.2 the moment its sender starts encrypting (RFC 5246 §7.1).
    ChangeCipherSpec {
        /// Whether the server chose TLS 1.3; `None` before its ServerHello.
        tls13: Option<bool>,
    },
    /// Encrypted: only the record's type and length can be read.
    Encrypted,
    /// A type TLS does not define, or an alert too short to read.
    Unknown,
}

/// One thing that happened on a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Which way the bytes went; `None` for the connection as a whole.
    pub dir: Option<Direction>,
    /// What happened.
    pub kind: EventKind,
    /// How many bytes on the wire this event accounts for (heads, framing and bodies included).
    pub wire_len: usize,
}

impl Event {
    /// An event that carries no bytes.
    pub fn new(dir: Option<Direction>, kind: EventKind) -> Event {
        Event { dir, kind, wire_len: 0 }
    }

    /// A note about the connection as a whole.
    pub fn note(text: impl Into<String>) -> Event {
        Event::new(None, EventKind::Note(text.into()))
    }

    /// The same event, counting `n` bytes on the wire.
    pub fn with_wire_len(mut self, n: usize) -> Event {
        self.wire_len = n;
        self
    }

    /// The event as text, one or more lines, each ending in `\n`.
    pub fn render(&self, style: &Render) -> String {
        let mut out = String::new();
        render_event(self, style, &mut out);
        out
    }
}

/// A recorded exchange.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    /// The events, in the order the Tap saw them.
    pub events: Vec<Event>,
}

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Transcript {
        Transcript::default()
    }

    /// Adds an event.
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// The whole transcript as text.
    pub fn render(&self, style: &Render) -> String {
        let mut out = String::new();
        for event in &self.events {
            render_event(event, style, &mut out);
        }
        out
    }

    /// Bytes on the wire in one direction, everything included.
    pub fn wire_bytes(&self, dir: Direction) -> usize {
        self.events.iter().filter(|e| e.dir == Some(dir)).map(|e| e.wire_len).sum()
    }

    /// The WebSocket frames, in order, with their direction: also those inside HTTP/2 DATA
    /// frames (RFC 8441).
    pub fn frames(&self) -> impl Iterator<Item = (Direction, &FrameEvent)> {
        self.events.iter().flat_map(|e| {
            let frames: Vec<&FrameEvent> = match &e.kind {
                EventKind::Frame(frame) => vec![frame],
                EventKind::Http2(crate::http2::Http2Event::Frame(crate::http2::Frame {
                    body: crate::http2::Body::Data { websocket: Some(ws), .. },
                    ..
                })) => ws.frames.iter().collect(),
                _ => Vec::new(),
            };
            frames.into_iter().filter_map(move |f| Some((e.dir?, f)))
        })
    }

    /// The HTTP heads, in order, with their direction.
    pub fn heads(&self) -> impl Iterator<Item = (Direction, &Head)> {
        self.events.iter().filter_map(|e| match (&e.kind, e.dir) {
            (EventKind::Head(head), Some(dir)) => Some((dir, head)),
            _ => None,
        })
    }
}

/// How many characters of a body or text payload a transcript shows: enough for a one-line error
/// message or a chat line whole, short enough that a big body does not flood the terminal.
pub const PREVIEW: usize = 200;

/// How to render a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Render {
    /// Show the bytes of each frame in hex under it.
    pub hex: bool,
    /// Hide what differs between runs: port numbers, random mask keys and masked bytes, and the
    /// values of the headers in `redact_headers`.
    pub redact: bool,
    /// Header names (case-insensitive) whose values are replaced when `redact` is on.
    pub redact_headers: Vec<String>,
    /// How many bytes of a body or payload to show before eliding the rest.
    pub preview: usize,
    /// Show each TLS record's size. A view that merges records leaves sizes out: how a TLS
    /// library cuts its writes into records, and some of their sizes, change from run to run.
    pub tls_sizes: bool,
}

impl Render {
    /// Everything, as it happened: for people watching a demo.
    pub fn live() -> Render {
        Render { hex: true, redact: false, redact_headers: Vec::new(), preview: PREVIEW, tls_sizes: true }
    }

    /// Deterministic: ports, dates and masks hidden, for snapshots and the book.
    pub fn snapshot() -> Render {
        Render {
            hex: true,
            redact: true,
            redact_headers: vec!["Date".to_owned()],
            preview: PREVIEW,
            tls_sizes: true,
        }
    }

    /// The same style, also hiding the values of header `name` (when redacting).
    pub fn redacting(mut self, name: &str) -> Render {
        self.redact_headers.push(name.to_owned());
        self
    }

    /// The same style without hex lines.
    pub fn without_hex(mut self) -> Render {
        self.hex = false;
        self
    }

    /// The same style without the sizes of TLS records.
    pub fn without_tls_sizes(mut self) -> Render {
        self.tls_sizes = false;
        self
    }
}

/// The marker that replaces a redacted value.
pub const REDACTED_PORT: &str = "‹port›";

pub(crate) const INDENT: &str = "    ";

/// How many payload bytes a frame's hex line shows before eliding the rest.
const HEX_SHOWN: usize = 24;

fn prefix(dir: Option<Direction>) -> &'static str {
    match dir {
        Some(dir) => dir.arrow(),
        None => "───",
    }
}

fn render_event(event: &Event, style: &Render, out: &mut String) {
    let p = prefix(event.dir);
    let sender = event.dir.map_or("", Direction::sender);
    match &event.kind {
        EventKind::Opened { client, server } => {
            let _ = writeln!(
                out,
                "{p} TCP connection opened: client {} → server {}",
                port(client, style),
                port(server, style)
            );
        }
        EventKind::Head(head) => {
            let _ = writeln!(out, "{p} {}", head.start);
            for (name, value) in &head.headers {
                let redacted =
                    style.redact && style.redact_headers.iter().any(|h| h.eq_ignore_ascii_case(name));
                let value = if redacted {
                    format!("‹{}›", name.to_ascii_lowercase())
                } else {
                    port(value, style)
                };
                let _ = writeln!(out, "{INDENT}{name}: {value}");
            }
            let _ = writeln!(out, "{INDENT}· {} bytes of head", head.len);
        }
        EventKind::Body { data, len, chunk } => {
            let what = if *chunk {
                if *len == 0 {
                    let _ = writeln!(out, "{p} last chunk: size 0, the body is complete");
                    return;
                }
                format!("chunk of {len} bytes")
            } else {
                format!("body, {len} bytes")
            };
            let _ = writeln!(out, "{p} {what}: {}", preview(data, *len, style));
        }
        EventKind::Frame(frame) => render_frame(p, frame, event.wire_len, style, out),
        EventKind::TlsRecord(record) => render_tls(p, record, style, out),
        EventKind::Data(data) => {
            let _ = writeln!(out, "{p} {} bytes: {}", data.len(), preview(data, data.len() as u64, style));
            if style.hex {
                let _ = writeln!(out, "{INDENT}{}", hex_preview(data, HEX_SHOWN));
            }
        }
        EventKind::Undecodable { data, reason } => {
            let _ = writeln!(out, "{p} ⚠ {} bytes the Tap could not decode: {reason}", data.len());
            let _ = writeln!(out, "{INDENT}{}", hex_preview(data, HEX_SHOWN));
        }
        EventKind::Truncated { data, what } => {
            let _ = writeln!(out, "{p} ⚠ the {sender} stopped in the middle of {what}");
            let _ = writeln!(out, "{INDENT}{} bytes never completed: {}", data.len(), hex_preview(data, 16));
        }
        EventKind::Closed(closure) => {
            let text = match closure {
                Closure::Fin => format!("the {sender} closed its side of the TCP connection (FIN)"),
                Closure::Reset => format!("the {sender}'s side of the TCP connection was reset (RST)"),
                Closure::Error(e) => format!("reading from the {sender} failed: {e}"),
            };
            let _ = writeln!(out, "{p} {text}");
        }
        EventKind::Note(text) => {
            let _ = writeln!(out, "{p} {text}");
        }
        EventKind::Http2(http2) => crate::http2::render::render(p, http2, event.wire_len, style, out),
    }
}

/// `C→S TLS record: handshake, 231 bytes, in the clear: ClientHello`.
fn render_tls(p: &str, record: &TlsRecord, style: &Render, out: &mut String) {
    let kind = match record.content_type {
        20 => "change_cipher_spec".to_owned(),
        21 => "alert".to_owned(),
        22 => "handshake".to_owned(),
        23 => "application_data".to_owned(),
        other => format!("type {other}"),
    };
    let size =
        if style.tls_sizes { format!(", {}", plural(u64::from(record.len), "byte")) } else { String::new() };
    let what = match &record.content {
        TlsContent::Handshake(names) if names.is_empty() => "in the clear".to_owned(),
        TlsContent::Handshake(names) => format!("in the clear: {}", names.join(", ")),
        TlsContent::Alert { level, description } => {
            let level = match level {
                1 => "warning".to_owned(),
                2 => "fatal".to_owned(),
                other => format!("level {other}"),
            };
            format!("in the clear: {level} {} ({description})", crate::tls::alert_name(*description))
        }
        TlsContent::ChangeCipherSpec { tls13: Some(true) } => {
            "in the clear: a no-op in TLS 1.3, kept for old middleboxes (RFC 8446 §D.4)".to_owned()
        }
        TlsContent::ChangeCipherSpec { tls13: Some(false) } => {
            "in the clear: from here on its sender encrypts (RFC 5246 §7.1)".to_owned()
        }
        TlsContent::ChangeCipherSpec { tls13: None } => "in the clear".to_owned(),
        TlsContent::Encrypted => "encrypted: opaque to the Tap".to_owned(),
        TlsContent::Unknown => "the Tap cannot make sense of it".to_owned(),
    };
    let _ = writeln!(out, "{p} TLS record: {kind}{size}, {what}");
}

fn render_frame(p: &str, frame: &FrameEvent, wire_len: usize, style: &Render, out: &mut String) {
    render_frame_indented(p, INDENT, frame, wire_len, style, out);
}

/// A frame's line after `p`, and its hex line after `indent`.
pub(crate) fn render_frame_indented(
    p: &str,
    indent: &str,
    frame: &FrameEvent,
    wire_len: usize,
    style: &Render,
    out: &mut String,
) {
    let h = &frame.header;
    let mut line = format!("{p} frame");
    line.push_str(if h.fin { " FIN" } else { " ---" });
    for (set, name) in [(h.rsv1, "RSV1"), (h.rsv2, "RSV2"), (h.rsv3, "RSV3")] {
        if set {
            line.push(' ');
            line.push_str(name);
        }
    }
    // Columns line up for the common opcodes, so a student can scan down the transcript.
    let _ = write!(line, " {:<6}", h.opcode.to_string());
    line.push_str(if h.mask.is_some() { " masked" } else { "       " });
    let _ = write!(line, " len={}", h.payload_len);
    let summary = frame_summary(frame, style);
    if !summary.is_empty() {
        line.push_str("  ");
        line.push_str(&summary);
    }
    let _ = writeln!(out, "{line}");
    if style.hex {
        let _ = writeln!(out, "{indent}{}", frame_hex(frame, wire_len, style));
    }
    if let Some(inflated) = &frame.inflated {
        let text = matches!(frame.continues.unwrap_or(frame.header.opcode), OpCode::Text);
        let shown = if text {
            preview(inflated, inflated.len() as u64, style)
        } else {
            hex_preview(inflated, HEX_SHOWN)
        };
        let _ = writeln!(
            out,
            "{INDENT}inflated, with the tail 00 00 ff ff put back: {shown} ({})",
            plural(inflated.len() as u64, "byte")
        );
    }
}

fn frame_summary(frame: &FrameEvent, style: &Render) -> String {
    let len = frame.header.payload_len;
    let kind = match frame.header.opcode {
        OpCode::Continuation => frame.continues.unwrap_or(OpCode::Binary),
        other => other,
    };
    match kind {
        OpCode::Close => match ClosePayload::parse(&frame.payload) {
            Ok(None) => format!("(no code: reported as {})", CloseCode::NO_STATUS),
            Ok(Some(close)) if close.reason.is_empty() => close.code.to_string(),
            Ok(Some(close)) => format!("{} {:?}", close.code, close.reason),
            Err(e) => format!("⚠ {e}"),
        },
        // Compressed bytes are not text: shown in hex, inflated on the line below the last frame.
        OpCode::Text | OpCode::Binary if frame.compressed => {
            format!("compressed: {}", hex_preview_len(&frame.payload, len, 8))
        }
        OpCode::Text | OpCode::Ping | OpCode::Pong if len == 0 => String::new(),
        OpCode::Text | OpCode::Ping | OpCode::Pong => preview(&frame.payload, len, style),
        _ if len == 0 => String::new(),
        _ => hex_preview(&frame.payload, HEX_SHOWN),
    }
}

/// The frame's bytes, split where a student reads them: header | mask | payload.
fn frame_hex(frame: &FrameEvent, wire_len: usize, style: &Render) -> String {
    let mut header = Vec::new();
    let mut without_mask = frame.header;
    without_mask.mask = None;
    without_mask.encode_into(&mut header);
    // The mask bit lives in the second byte, so take it from the real header.
    if frame.header.mask.is_some() {
        header[1] |= 0x80;
    }
    let mut parts = vec![hex(&header)];
    let payload_len = frame.header.payload_len;
    match frame.header.mask {
        Some(_) if style.redact => {
            parts.push("mask (4 random bytes)".to_owned());
            if payload_len > 0 {
                parts.push(if payload_len == 1 {
                    "1 masked byte".to_owned()
                } else {
                    format!("{payload_len} masked bytes")
                });
            }
        }
        Some(key) => {
            parts.push(format!("mask {}", hex(&key)));
            let mut masked = frame.payload.clone();
            crate::frame::apply_mask(&mut masked, key);
            if payload_len > 0 {
                parts.push(hex_preview_len(&masked, payload_len, HEX_SHOWN));
            }
        }
        None if payload_len > 0 => parts.push(hex_preview_len(&frame.payload, payload_len, HEX_SHOWN)),
        None => {}
    }
    format!("{}   ({wire_len} bytes)", parts.join(" | "))
}

/// `1 byte`, `2 bytes`.
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

pub(crate) fn hex_preview(bytes: &[u8], max: usize) -> String {
    hex_preview_len(bytes, bytes.len() as u64, max)
}

fn hex_preview_len(bytes: &[u8], len: u64, max: usize) -> String {
    let shown = &bytes[..bytes.len().min(max)];
    let rest = len.saturating_sub(shown.len() as u64);
    if rest > 0 { format!("{} … (+{})", hex(shown), plural(rest, "byte")) } else { hex(shown) }
}

/// Text as a quoted string with escapes, or hex if it is not UTF-8.
pub(crate) fn preview(data: &[u8], len: u64, style: &Render) -> String {
    let Ok(text) = std::str::from_utf8(data) else {
        // The preview may have cut a character in half; show the valid prefix if there is one.
        return match std::str::from_utf8(&data[..data.len().min(style.preview)]) {
            Ok(text) => quoted(text, len, style),
            Err(_) => format!("{} (not UTF-8)", hex_preview_len(data, len, 16)),
        };
    };
    quoted(text, len, style)
}

fn quoted(text: &str, len: u64, style: &Render) -> String {
    let mut shown: String = text.chars().take(style.preview).collect();
    let shown_len = shown.len() as u64;
    shown = port(&shown, style);
    let escaped = format!("{shown:?}");
    if shown_len < len { format!("{escaped} … (+{})", plural(len - shown_len, "byte")) } else { escaped }
}

/// Replaces the port in `host:port` addresses on loopback when redacting.
pub(crate) fn port(text: &str, style: &Render) -> String {
    if style.redact { redact_ports(text) } else { text.to_owned() }
}

/// `127.0.0.1:54321` → `127.0.0.1:‹port›`, also for `localhost` and `[::1]`.
pub fn redact_ports(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for host in ["127.0.0.1:", "localhost:", "[::1]:"] {
            if let Some(after) = rest.strip_prefix(host) {
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 {
                    out.push_str(host);
                    out.push_str(REDACTED_PORT);
                    rest = &after[digits..];
                    continue 'outer;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;

    fn frame_event(frame: &Frame) -> Event {
        let bytes = frame.encode();
        Event {
            dir: Some(Direction::ClientToServer),
            kind: EventKind::Frame(FrameEvent::new(frame.header(), frame.payload.clone(), None)),
            wire_len: bytes.len(),
        }
    }

    #[test]
    fn ports_on_loopback_are_redacted_everywhere() {
        assert_eq!(
            redact_ports("http://127.0.0.1:3000/ and localhost:8080, [::1]:9 but not 10.0.0.1:80"),
            "http://127.0.0.1:‹port›/ and localhost:‹port›, [::1]:‹port› but not 10.0.0.1:80"
        );
    }

    #[test]
    fn a_masked_frame_shows_its_mask_live_and_hides_it_in_snapshots() {
        let event = frame_event(&Frame::text("Hello").masked([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(
            event.render(&Render::live()),
            "C→S frame FIN text   masked len=5  \"Hello\"\n    81 85 | mask 37 fa 21 3d | 7f 9f 4d 51 58   (11 bytes)\n"
        );
        assert_eq!(
            event.render(&Render::snapshot()),
            "C→S frame FIN text   masked len=5  \"Hello\"\n    81 85 | mask (4 random bytes) | 5 masked bytes   (11 bytes)\n"
        );
    }

    #[test]
    fn close_frames_show_the_code_and_its_name() {
        let bye = ClosePayload { code: CloseCode::GOING_AWAY, reason: "bye".into() };
        let event = frame_event(&Frame::close(Some(&bye)));
        assert!(
            event
                .render(&Render::snapshot())
                .starts_with("C→S frame FIN close         len=5  1001 going away \"bye\"\n")
        );
    }

    #[test]
    fn the_date_header_is_redacted_in_snapshots_only() {
        let head = Head::parse_response(b"HTTP/1.1 200 OK\r\nDate: Wed, 25 Nov 2026 00:00:00 GMT\r\n\r\n")
            .unwrap()
            .unwrap();
        let event = Event::new(Some(Direction::ServerToClient), EventKind::Head(head));
        assert!(event.render(&Render::snapshot()).contains("Date: ‹date›"));
        assert!(event.render(&Render::live()).contains("Date: Wed, 25 Nov 2026"));
    }
}
