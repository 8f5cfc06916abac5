//! How a transcript event is named on an arrow: the transcript's own words, made short.
//!
//! A transcript line says `C→S frame FIN text   masked len=17  "Hello, WebSocket!"`; an arrow
//! has room for `text "Hello, WebSocket!"` above it and `masked · 23 B` below. The words are the
//! transcript's: opcode names as [`OpCode`] prints them, close codes as [`ClosePayload`] parses
//! them, `FIN` and `RST` as the transcript says them, ports hidden as [`Render::snapshot`] hides
//! them.

use crate::close::ClosePayload;
use crate::frame::OpCode;
use crate::http::StartLine;
use crate::transcript::{Closure, Event, EventKind, FrameEvent, Render, TlsContent, redact_ports};

/// What kind of thing an arrow stands for: it picks the arrow's colour and line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tone {
    /// The application's messages: HTTP heads and bodies, data frames, raw bytes.
    Message,
    /// WebSocket control frames: ping, pong, close.
    Control,
    /// TCP itself: the connection opening, a FIN. Drawn dashed.
    Transport,
    /// Something went wrong: a reset, bytes that never arrived, bytes nobody could decode.
    Problem,
}

/// An event's label, as an arrow shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Label {
    /// Above the arrow: `GET /ws/echo`, `text "hi"`, `close 1000`, `FIN`.
    pub text: String,
    /// Below the arrow, small: the body of a response, `masked`. Bytes are added by the caller.
    pub detail: Vec<String>,
    pub tone: Tone,
    /// The bytes never reached the other side (an unfinished frame).
    pub lost: bool,
    /// A note to show beside the arrow (why bytes could not be decoded).
    pub annotation: Option<String>,
}

impl Label {
    fn new(text: impl Into<String>, tone: Tone) -> Label {
        Label { text: text.into(), detail: Vec::new(), tone, lost: false, annotation: None }
    }
}

/// How many payload bytes a binary preview shows in hex.
const HEX_SHOWN: usize = 8;

/// The label of an event that is a message on the wire, or `None` for notes and openings, which
/// the caller draws otherwise.
pub(crate) fn label(event: &Event, style: &Render) -> Option<Label> {
    let label = match &event.kind {
        EventKind::Opened { .. } | EventKind::Note(_) => return None,
        EventKind::Head(head) => match &head.start {
            StartLine::Request { method, target, .. } => {
                Label::new(format!("{method} {}", ports(target, style)), Tone::Message)
            }
            StartLine::Response { status, reason, .. } => {
                Label::new(format!("{status} {reason}").trim_end().to_owned(), Tone::Message)
            }
        },
        EventKind::Body { data, len, chunk: true } if *len == 0 && data.is_empty() => {
            Label::new("last chunk (size 0)", Tone::Message)
        }
        EventKind::Body { data, len, chunk } => {
            let what = if *chunk { "chunk" } else { "body" };
            Label::new(format!("{what} {}", preview(data, *len, style)), Tone::Message)
        }
        EventKind::Frame(frame) => frame_label(frame, style),
        EventKind::TlsRecord(record) => {
            let kind = match record.content_type {
                20 => "change_cipher_spec".to_owned(),
                21 => "alert".to_owned(),
                22 => "handshake".to_owned(),
                23 => "application_data".to_owned(),
                other => format!("type {other}"),
            };
            let mut label = match &record.content {
                TlsContent::Handshake(names) if !names.is_empty() => {
                    Label::new(format!("TLS {kind}: {}", names.join(", ")), Tone::Message)
                }
                TlsContent::Alert { level, description } => Label::new(
                    format!(
                        "TLS alert: {} {}",
                        if *level == 2 { "fatal" } else { "warning" },
                        crate::tls::alert_name(*description)
                    ),
                    Tone::Problem,
                ),
                _ => Label::new(format!("TLS {kind}"), Tone::Message),
            };
            if record.content == TlsContent::Encrypted {
                label.detail.push("encrypted".to_owned());
            }
            label
        }
        EventKind::Data(data) => Label::new(preview(data, data.len() as u64, style), Tone::Message),
        EventKind::Undecodable { data, reason } => {
            let mut label = Label::new(format!("undecodable: {}", bytes(data.len() as u64)), Tone::Problem);
            label.annotation = Some(reason.clone());
            label
        }
        EventKind::Truncated { what, .. } => {
            let mut label = Label::new(format!("unfinished: {what}"), Tone::Problem);
            label.lost = true;
            label
        }
        EventKind::Http2(http2) => http2_label(http2, style),
        EventKind::Closed(Closure::Fin) => Label::new("FIN", Tone::Transport),
        EventKind::Closed(Closure::Reset) => Label::new("RST", Tone::Problem),
        EventKind::Closed(Closure::Error(e)) => {
            let mut label = Label::new(format!("error: {e}"), Tone::Problem);
            label.lost = true;
            label
        }
    };
    Some(label)
}

/// `HEADERS 1`, `DATA 1: text "hi"`, `SETTINGS`: the frame type and stream, and for DATA on a
/// WebSocket stream the first WebSocket frame inside it.
fn http2_label(event: &crate::http2::Http2Event, style: &Render) -> Label {
    use crate::http2::{Body, Http2Event};
    let Http2Event::Frame(frame) = event else {
        return Label::new("HTTP/2 preface", Tone::Transport);
    };
    let h = &frame.header;
    let name = crate::http2::kind_name(h.kind).unwrap_or("unknown frame");
    let mut label = match &frame.body {
        Body::Data { websocket: Some(ws), .. } if !ws.frames.is_empty() => {
            let inner = frame_label(&ws.frames[0], style);
            let mut label = Label::new(format!("{name} {}: {}", h.stream, inner.text), inner.tone);
            label.detail = inner.detail;
            label
        }
        Body::Malformed(reason) => {
            let mut label = Label::new(format!("{name} {}", h.stream), Tone::Problem);
            label.annotation = Some(reason.clone());
            label
        }
        _ if h.stream == 0 => Label::new(name, Tone::Transport),
        _ => Label::new(format!("{name} {}", h.stream), Tone::Message),
    };
    if h.kind == crate::http2::kind::RST_STREAM {
        label.tone = Tone::Problem;
    }
    label
}

fn frame_label(frame: &FrameEvent, style: &Render) -> Label {
    let h = &frame.header;
    let len = h.payload_len;
    // A continuation is named by what it continues, so `text "Hel"` then `continuation "lo"`
    // both show their text.
    let kind = match h.opcode {
        OpCode::Continuation => frame.continues.unwrap_or(OpCode::Binary),
        other => other,
    };
    let tone = match h.opcode {
        OpCode::Reserved(_) => Tone::Problem,
        op if op.is_control() => Tone::Control,
        _ => Tone::Message,
    };
    let what = match kind {
        OpCode::Close => match ClosePayload::parse(&frame.payload) {
            Ok(None) => String::new(),
            Ok(Some(close)) if close.reason.is_empty() => close.code.0.to_string(),
            Ok(Some(close)) => format!("{} {}", close.code.0, quote(&close.reason, style)),
            Err(e) => format!("(invalid: {e})"),
        },
        _ if len == 0 => String::new(),
        // A compressed message is labelled by its size on the wire.
        OpCode::Text | OpCode::Binary if frame.compressed => format!("{} compressed", bytes(len)),
        OpCode::Text | OpCode::Ping | OpCode::Pong => preview(&frame.payload, len, style),
        _ => bytes(len),
    };
    let mut text = h.opcode.to_string();
    if !what.is_empty() {
        text.push(' ');
        text.push_str(&what);
    }
    if !h.fin {
        text.push_str(" FIN=0");
    }
    for (set, name) in [(h.rsv1, "RSV1"), (h.rsv2, "RSV2"), (h.rsv3, "RSV3")] {
        if set {
            text.push(' ');
            text.push_str(name);
        }
    }
    let mut label = Label::new(text, tone);
    if h.mask.is_some() {
        label.detail.push("masked".to_owned());
    }
    label
}

/// `1 B`, `23 B`: a size on an arrow, where a word would not fit.
pub(crate) fn bytes(n: u64) -> String {
    format!("{n} B")
}

fn ports(text: &str, style: &Render) -> String {
    if style.redact { redact_ports(text) } else { text.to_owned() }
}

/// A payload or body as a label shows it: text in quotes with control characters escaped, or
/// the first bytes in hex. Unlike a transcript line it does not escape quotes: `"{"id":1}"` reads
/// better in a picture than `"{\"id\":1}"`.
pub(crate) fn preview(data: &[u8], len: u64, style: &Render) -> String {
    let shown = &data[..data.len().min(style.preview)];
    let text = match std::str::from_utf8(shown) {
        Ok(text) => Some(text),
        // The preview may have cut a character in half.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            std::str::from_utf8(&shown[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    match text {
        Some(text) => {
            let mut out = quote(text, style);
            if (text.len() as u64) < len {
                out.push('…');
            }
            out
        }
        None => {
            let hex: Vec<String> = data.iter().take(HEX_SHOWN).map(|b| format!("{b:02x}")).collect();
            let more = if len > HEX_SHOWN as u64 { " …" } else { "" };
            format!("{}{more}", hex.join(" "))
        }
    }
}

fn quote(text: &str, style: &Render) -> String {
    let mut out = String::from("\"");
    for c in ports(text, style).chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::close::CloseCode;
    use crate::frame::Frame;
    use crate::transcript::Direction;

    fn frame(frame: &Frame) -> Event {
        Event::new(
            Some(Direction::ClientToServer),
            EventKind::Frame(FrameEvent::new(frame.header(), frame.payload.clone(), None)),
        )
    }

    fn text_of(event: &Event) -> String {
        label(event, &Render::snapshot()).map(|l| l.text).unwrap_or_default()
    }

    #[test]
    fn frames_are_named_by_opcode_and_what_they_carry() {
        assert_eq!(text_of(&frame(&Frame::text("hi"))), "text \"hi\"");
        assert_eq!(text_of(&frame(&Frame::binary(vec![0xde, 0xad, 0xbe, 0xef]))), "binary 4 B");
        assert_eq!(text_of(&frame(&Frame::ping(Vec::new()))), "ping");
        assert_eq!(text_of(&frame(&Frame::pong(b"1".to_vec()))), "pong \"1\"");
        let bye = ClosePayload { code: CloseCode::NORMAL, reason: String::new() };
        assert_eq!(text_of(&frame(&Frame::close(Some(&bye)))), "close 1000");
        let done = ClosePayload { code: CloseCode::NORMAL, reason: "done".into() };
        assert_eq!(text_of(&frame(&Frame::close(Some(&done)))), "close 1000 \"done\"");
        assert_eq!(text_of(&frame(&Frame::text("Hel").not_final())), "text \"Hel\" FIN=0");
    }

    #[test]
    fn a_masked_frame_says_so_under_its_arrow() {
        let event = frame(&Frame::text("Hello").masked([0x37, 0xfa, 0x21, 0x3d]));
        let label = label(&event, &Render::snapshot()).unwrap();
        assert_eq!(label.detail, ["masked"]);
    }

    #[test]
    fn previews_escape_newlines_but_not_quotes() {
        let style = Render::snapshot();
        assert_eq!(preview(b"id: 1\ndata: one\n\n", 17, &style), "\"id: 1\\ndata: one\\n\\n\"");
        assert_eq!(preview(b"{\"id\":1}", 8, &style), "\"{\"id\":1}\"");
        assert_eq!(preview(&[0xff, 0x00], 2, &style), "ff 00");
    }
}
