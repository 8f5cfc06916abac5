//! How a transcript shows HTTP/2: one line per frame (type, stream, flags, what it says), its
//! header fields one per line, the WebSocket frames inside a DATA frame under it, and with hex
//! on, the 9-byte frame header split into its fields.

use std::fmt::Write as _;

use super::{
    Body, Frame, HeaderBlock, Http2Event, Indexing, PREFACE, Representation, error_name, flag, kind,
    kind_name, setting_name,
};
use crate::transcript::{INDENT, Render, hex, hex_preview, plural, port, preview, render_frame_indented};

/// How many payload bytes a frame's hex line shows.
const HEX_SHOWN: usize = 16;

/// The column where a header field's representation starts, when hex is on.
const FIELD_WIDTH: usize = 40;

pub(crate) fn render(p: &str, event: &Http2Event, wire_len: usize, style: &Render, out: &mut String) {
    match event {
        Http2Event::Preface => {
            let text = String::from_utf8_lossy(PREFACE);
            let _ = writeln!(out, "{p} HTTP/2 connection preface {text:?} (RFC 9113 §3.4)");
            if style.hex {
                let _ = writeln!(out, "{INDENT}{}   ({wire_len} bytes)", hex_preview(PREFACE, HEX_SHOWN));
            }
        }
        Http2Event::Frame(frame) => render_frame(p, frame, wire_len, style, out),
    }
}

fn render_frame(p: &str, frame: &Frame, wire_len: usize, style: &Render, out: &mut String) {
    let h = &frame.header;
    let name = match kind_name(h.kind) {
        Some(name) => name.to_owned(),
        None => format!("frame of unknown type 0x{:02x}", h.kind),
    };
    let mut title = format!("{p} {name} stream {}", h.stream);
    for (bit, flag_name) in flag_names(h.kind) {
        if h.has(*bit) {
            let _ = write!(title, " {flag_name}");
        }
    }
    let summary = match &frame.body {
        Body::Data { data, len, websocket: None } if *len > 0 => {
            format!(", {}: {}", plural(*len as u64, "byte"), preview(data, *len as u64, style))
        }
        Body::Data { len, .. } => format!(", {}", plural(*len as u64, "byte")),
        Body::Headers { block, priority } => {
            let mut s = block_summary(block);
            if let Some(p) = priority {
                let _ = write!(s, "; depends on stream {}, weight {}", p.depends_on, p.weight);
            }
            s
        }
        Body::Continuation { block } => block_summary(block),
        Body::PushPromise { promised, block } => {
            format!(": promises stream {promised}{}", block_summary(block))
        }
        Body::Priority(p) => format!(": depends on stream {}, weight {}", p.depends_on, p.weight),
        Body::RstStream { code } => format!(": {}", error(*code)),
        Body::Settings { .. } if h.has(flag::ACK) => ": received the peer's settings".to_owned(),
        Body::Settings { params } if params.is_empty() => ": no parameters (the defaults)".to_owned(),
        Body::Settings { params } => {
            let list: Vec<String> = params
                .iter()
                .map(|&(id, value)| match setting_name(id) {
                    Some(name) => format!("{name}={value}"),
                    None => format!("0x{id:x}={value}"),
                })
                .collect();
            format!(": {}", list.join(", "))
        }
        Body::Ping { data } => format!(": {}", hex(data)),
        Body::GoAway { last_stream, code, debug } => {
            let mut s = format!(": last stream {last_stream}, {}", error(*code));
            if !debug.is_empty() {
                let _ = write!(s, " {}", preview(debug, debug.len() as u64, style));
            }
            s
        }
        Body::WindowUpdate { increment } => {
            let scope = if h.stream == 0 { "the connection" } else { "the stream" };
            format!(": {scope} may send {} more", plural(u64::from(*increment), "byte"))
        }
        Body::Unknown => format!(", {}: ignored (RFC 9113 §5.5)", plural(u64::from(h.len), "byte")),
        Body::Malformed(reason) => format!(": ⚠ malformed: {reason}"),
    };
    let _ = writeln!(out, "{title}{summary}");
    match &frame.body {
        Body::Headers { block, .. } | Body::Continuation { block } | Body::PushPromise { block, .. } => {
            render_fields(block, style, out);
        }
        _ => {}
    }
    if style.hex {
        let header = h.encode();
        let mut parts = vec![hex(&header[..3]), hex(&header[3..4]), hex(&header[4..5]), hex(&header[5..9])];
        match &frame.body {
            Body::Data { websocket: Some(_), len, .. } if *len > 0 => {
                parts.push(format!("{}, below", plural(*len as u64, "byte")));
            }
            Body::Data { websocket: Some(_), .. } => {}
            Body::Data { data, len, .. } if *len > 0 => parts.push(hex_preview_of(data, *len, HEX_SHOWN)),
            Body::Headers { .. } | Body::Continuation { .. } | Body::PushPromise { .. } => {
                parts.push(format!("{} of HPACK", plural(u64::from(h.len), "byte")));
            }
            _ if h.len > 0 => parts.push(String::from("…")),
            _ => {}
        }
        let _ = writeln!(out, "{INDENT}{}   ({wire_len} bytes)", parts.join(" | "));
    }
    if let Body::Data { websocket: Some(ws), .. } = &frame.body {
        let inner = format!("{INDENT}↳");
        let deeper = format!("{INDENT}{INDENT}");
        for f in &ws.frames {
            let len = f.header.encoded_len() + f.header.payload_len as usize;
            render_frame_indented(&inner, &deeper, f, len, style, out);
        }
        if ws.pending > 0 {
            let _ = writeln!(
                out,
                "{inner} {} of a WebSocket frame that continues in the next DATA frame",
                plural(ws.pending as u64, "byte")
            );
        }
        if let Some(e) = &ws.error {
            let _ = writeln!(out, "{inner} ⚠ not WebSocket frames: {e}");
        }
    }
}

/// The payload of a frame whose first bytes the Tap kept.
fn hex_preview_of(data: &[u8], len: usize, max: usize) -> String {
    let shown = &data[..data.len().min(max)];
    let rest = len.saturating_sub(shown.len());
    if rest > 0 { format!("{} … (+{})", hex(shown), plural(rest as u64, "byte")) } else { hex(shown) }
}

fn block_summary(block: &HeaderBlock) -> String {
    match block {
        HeaderBlock::Fields { fields, block_len } => {
            let text: usize = fields.iter().map(|f| f.name.len() + f.value.len() + 4).sum();
            format!(
                ": {}, {} of HPACK ({} as `name: value` lines)",
                plural(fields.len() as u64, "field"),
                plural(*block_len as u64, "byte"),
                plural(text as u64, "byte")
            )
        }
        HeaderBlock::Continues => ": a header block that continues in a CONTINUATION frame".to_owned(),
        HeaderBlock::Failed(reason) => format!(": ⚠ {reason}"),
    }
}

fn render_fields(block: &HeaderBlock, style: &Render, out: &mut String) {
    for field in block.fields() {
        let redacted =
            style.redact && style.redact_headers.iter().any(|h| h.eq_ignore_ascii_case(&field.name));
        let value = if redacted { format!("‹{}›", field.name) } else { port(&field.value, style) };
        let line = format!("{}: {value}", field.name);
        if style.hex {
            let _ = writeln!(out, "{INDENT}{line:<FIELD_WIDTH$} [{}]", representation(&field.how));
        } else {
            let _ = writeln!(out, "{INDENT}{line}");
        }
    }
}

/// `static 2`, `dynamic 62`, `literal, name static 1, Huffman, added to the table`.
fn representation(how: &Representation) -> String {
    let table = |i: usize| {
        if i <= super::hpack::STATIC_TABLE.len() { format!("static {i}") } else { format!("dynamic {i}") }
    };
    match how {
        Representation::Indexed(i) => table(*i),
        Representation::Literal { name_index, indexing, huffman } => {
            let mut s = String::from("literal");
            if let Some(i) = name_index {
                let _ = write!(s, ", name {}", table(*i));
            }
            if *huffman {
                s.push_str(", Huffman");
            }
            s.push_str(match indexing {
                Indexing::Incremental => ", added to the table",
                Indexing::Without => "",
                Indexing::Never => ", never indexed",
            });
            s
        }
    }
}

fn error(code: u32) -> String {
    match error_name(code) {
        Some(name) => format!("{name} (0x{code:x})"),
        None => format!("error 0x{code:x}"),
    }
}

/// The flags each frame type defines, in the order they are shown.
fn flag_names(kind: u8) -> &'static [(u8, &'static str)] {
    match kind {
        kind::DATA => &[(flag::END_STREAM, "END_STREAM"), (flag::PADDED, "PADDED")],
        kind::HEADERS => &[
            (flag::END_STREAM, "END_STREAM"),
            (flag::END_HEADERS, "END_HEADERS"),
            (flag::PADDED, "PADDED"),
            (flag::PRIORITY, "PRIORITY"),
        ],
        kind::SETTINGS | kind::PING => &[(flag::ACK, "ACK")],
        kind::PUSH_PROMISE => &[(flag::END_HEADERS, "END_HEADERS"), (flag::PADDED, "PADDED")],
        kind::CONTINUATION => &[(flag::END_HEADERS, "END_HEADERS")],
        _ => &[],
    }
}
