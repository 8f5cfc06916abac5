//! One frame's bytes drawn as the bit layout of RFC 6455 §5.2, annotated with this frame's
//! values.
//!
//! The RFC draws a frame as rows of 32 bits: FIN, RSV1–3, opcode, MASK, payload length, then the
//! extended length, masking key and payload as far as they go. This figure draws the same rows
//! for real bytes: each header bit as a digit in its cell, each byte's hex under its eight bits,
//! each payload byte as it travelled (masked) with what it is once unmasked, and beside each row
//! what its fields mean in this frame (`opcode 0x1 = text`, `len 17`).

use super::labels;
use super::svg::{Anchor, BBox, Color, Figure, Font, Stroke, shorten, wrap};
use crate::frame::{FrameError, FrameHeader, OpCode, apply_mask};
use crate::transcript::Render;

/// How many payload bytes are drawn before the rest is elided: six rows, enough for a chat
/// message or a close frame, few enough for a page.
pub const DEFAULT_PAYLOAD_SHOWN: usize = 24;

/// How the frame figure is drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameOptions {
    /// The figure's `<title>`; made from the frame when `None`.
    pub title: Option<String>,
    /// A heading drawn above the bits, if any.
    pub heading: Option<String>,
    /// How many payload bytes to draw.
    pub payload_shown: usize,
}

impl Default for FrameOptions {
    fn default() -> Self {
        FrameOptions { title: None, heading: None, payload_shown: DEFAULT_PAYLOAD_SHOWN }
    }
}

impl FrameOptions {
    /// The defaults.
    pub fn new() -> FrameOptions {
        FrameOptions::default()
    }

    /// The same options with a visible heading.
    pub fn with_heading(mut self, heading: impl Into<String>) -> FrameOptions {
        self.heading = Some(heading.into());
        self
    }
}

/// Why bytes cannot be drawn as one frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameFigureError {
    /// The codec rejected the header.
    #[error("not a frame: {0}")]
    Codec(#[from] FrameError),
    /// The bytes stop before the frame ends.
    #[error("the bytes stop before the frame ends: {have} of {need} bytes")]
    Incomplete {
        /// Bytes given.
        have: usize,
        /// Bytes the header announces (header and payload), or 2 if not even the header is there.
        need: usize,
    },
    /// Bytes follow the frame: the figure draws exactly one.
    #[error("{0} bytes follow the frame: give exactly one frame's bytes")]
    Trailing(usize),
}

const PAD: f64 = 16.0;
/// Width of one bit's cell.
const CELL: f64 = 14.0;
const BITS: usize = 32;
/// Left margin for the byte offsets.
const OFFSETS: f64 = 52.0;
const VALUE_H: f64 = 22.0;
const BYTE_H: f64 = 18.0;
/// Line height of a name written one letter a line.
const LETTER: f64 = 12.5;
const CALLOUT_LINE: f64 = 14.0;
/// Callouts wrap at this many characters (later lines are indented by two more), so that the
/// figure with its callouts fits a 750-pixel column.
const CALLOUT_CHARS: usize = 28;

/// What a cell band shows for a field.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Show {
    /// Each bit as a digit.
    Bits,
    /// One payload byte: its hex on the wire, and below it the key byte it was XORed with
    /// (RFC 6455 §5.3: byte *i* with key byte *i* mod 4) and what it is unmasked.
    Byte { wire: u8, plain: u8, key: Option<u8> },
}

/// A field, or the part of one that falls in one row.
#[derive(Clone, Debug)]
struct Field {
    name: &'static str,
    /// First bit, counted from the frame's first byte.
    start: usize,
    len: usize,
    show: Show,
    /// What it means in this frame, beside the row where the field starts.
    callout: Vec<String>,
}

/// Draws the frame in `bytes`, which must hold exactly one frame.
pub fn frame(bytes: &[u8], options: &FrameOptions) -> Result<Figure, FrameFigureError> {
    let Some((header, header_len)) = FrameHeader::parse(bytes)? else {
        return Err(FrameFigureError::Incomplete { have: bytes.len(), need: 2.max(bytes.len() + 1) });
    };
    let total = header_len as u64 + header.payload_len;
    if (bytes.len() as u64) < total {
        return Err(FrameFigureError::Incomplete {
            have: bytes.len(),
            need: usize::try_from(total).unwrap_or(usize::MAX),
        });
    }
    let total = total as usize;
    if bytes.len() > total {
        return Err(FrameFigureError::Trailing(bytes.len() - total));
    }
    let payload = &bytes[header_len..];
    let mut plain = payload.to_vec();
    if let Some(key) = header.mask {
        apply_mask(&mut plain, key);
    }
    let fields = fields(&header, bytes, &plain, options);
    let shown_bytes = header_len + payload.len().min(options.payload_shown);
    let elided = payload.len() - payload.len().min(options.payload_shown);
    Ok(draw(&header, bytes, &fields, shown_bytes, elided, options))
}

fn bit(bytes: &[u8], i: usize) -> bool {
    bytes.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn fields(header: &FrameHeader, bytes: &[u8], plain: &[u8], options: &FrameOptions) -> Vec<Field> {
    let field =
        |name, start, len, callout: Vec<String>| Field { name, start, len, show: Show::Bits, callout };
    let b = |set: bool| u8::from(set);
    let mut out = vec![
        field(
            "FIN",
            0,
            1,
            vec![if header.fin {
                "FIN 1: the final frame of its message".to_owned()
            } else {
                "FIN 0: more frames of this message follow".to_owned()
            }],
        ),
        field(
            "RSV1",
            1,
            1,
            vec![if header.has_rsv() {
                format!(
                    "RSV1–3 {} {} {}: set by an extension",
                    b(header.rsv1),
                    b(header.rsv2),
                    b(header.rsv3)
                )
            } else {
                "RSV1–3 0 0 0: no extension in use".to_owned()
            }],
        ),
        field("RSV2", 2, 1, Vec::new()),
        field("RSV3", 3, 1, Vec::new()),
        field("opcode", 4, 4, vec![opcode_callout(header.opcode)]),
        field(
            "MASK",
            8,
            1,
            vec![if header.mask.is_some() {
                "MASK 1: masked, as every client frame is".to_owned()
            } else {
                "MASK 0: not masked, as server frames are".to_owned()
            }],
        ),
    ];
    let len7 = bytes[1] & 0x7f;
    let len_callout = match len7 {
        126 => "len 126: the length is in the next 16 bits".to_owned(),
        127 => "len 127: the length is in the next 64 bits".to_owned(),
        n => format!("len {n}: the payload's length in bytes"),
    };
    let mut len_callouts = vec![len_callout];
    if header.payload_len == 0 && header.opcode == OpCode::Close {
        // RFC 6455 §7.1.5: a close frame without a code is reported as 1005.
        len_callouts.push("no close code: reported as 1005".to_owned());
    }
    out.push(field("Payload len", 9, 7, len_callouts));
    let mut next = 16;
    let ext = match len7 {
        126 => 16,
        127 => 64,
        _ => 0,
    };
    if ext > 0 {
        out.push(field(
            "Extended payload length",
            next,
            ext,
            vec![format!("extended length {}", header.payload_len)],
        ));
        next += ext;
    }
    if let Some(key) = header.mask {
        out.push(field("Masking-key", next, 32, vec![format!("masking key {}", hex(&key))]));
        next += 32;
    }
    let shown = plain.len().min(options.payload_shown);
    for i in 0..shown {
        let wire = bytes[next / 8 + i];
        let callout = if i == 0 { payload_callout(header, plain) } else { Vec::new() };
        out.push(Field {
            name: "Payload Data",
            start: next + 8 * i,
            len: 8,
            show: Show::Byte { wire, plain: plain[i], key: header.mask.map(|k| k[i % 4]) },
            callout,
        });
    }
    out
}

fn opcode_callout(opcode: OpCode) -> String {
    let kind = match opcode {
        OpCode::Continuation => "continuation (the next part of a message)".to_owned(),
        OpCode::Text => "text".to_owned(),
        OpCode::Binary => "binary".to_owned(),
        OpCode::Close => "close (control)".to_owned(),
        OpCode::Ping => "ping (control)".to_owned(),
        OpCode::Pong => "pong (control)".to_owned(),
        OpCode::Reserved(_) => "reserved: the peer must fail the connection".to_owned(),
    };
    format!("opcode 0x{:x} = {kind}", opcode.bits())
}

fn payload_callout(header: &FrameHeader, plain: &[u8]) -> Vec<String> {
    let len = header.payload_len;
    let mut out = vec![if header.mask.is_some() {
        format!("payload: {len} bytes, XORed with the key")
    } else {
        format!("payload: {len} bytes")
    }];
    let style = Render::snapshot();
    let what = match header.opcode {
        OpCode::Close => match crate::close::ClosePayload::parse(plain) {
            Ok(Some(close)) if close.reason.is_empty() => format!("close code {}", close.code),
            Ok(Some(close)) => format!("close code {} {:?}", close.code, close.reason),
            Ok(None) => "no close code".to_owned(),
            Err(e) => format!("not a valid close payload: {e}"),
        },
        OpCode::Binary => hex(&plain[..plain.len().min(8)]),
        _ => labels::preview(plain, len, &style),
    };
    out.push(if header.mask.is_some() { format!("unmasked: {what}") } else { format!("= {what}") });
    out
}

/// What the byte band shows under a payload byte: the byte unmasked, as a character if it is one.
fn plain_text(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("'{}'", byte as char)
    } else if byte == b' ' {
        "' '".to_owned()
    } else {
        format!("{byte:02x}")
    }
}

fn draw(
    header: &FrameHeader,
    bytes: &[u8],
    fields: &[Field],
    shown_bytes: usize,
    elided: usize,
    options: &FrameOptions,
) -> Figure {
    let shown_bits = shown_bytes * 8;
    let rows = shown_bits.div_ceil(BITS);
    // Room on the left for the largest byte offset.
    let offsets = (Font::Small.width(&format!("byte {}", rows.saturating_sub(1) * 4)) + 10.0).max(OFFSETS);
    let grid_x = PAD + offsets;
    let grid_w = BITS as f64 * CELL;
    let callout_x = grid_x + grid_w + 20.0;
    // Callouts wrapped, per row.
    let mut callouts: Vec<Vec<String>> = vec![Vec::new(); rows];
    for f in fields {
        if f.start < shown_bits {
            for c in &f.callout {
                // A callout's later lines are indented, so each callout reads as one item.
                let lines = wrap(c, CALLOUT_CHARS, 3).into_iter().enumerate();
                callouts[f.start / BITS]
                    .extend(lines.map(|(k, line)| if k == 0 { line } else { format!("  {line}") }));
            }
        }
    }
    let callout_w = callouts.iter().flatten().map(|c| Font::Small.width(c)).fold(0.0, f64::max);
    let width = (callout_x + callout_w + PAD).max(grid_x + grid_w + PAD);
    let mut fig = Figure::new(title(header, bytes, options), "");
    let mut y = PAD;
    if let Some(heading) = &options.heading {
        fig.text(PAD, y + 14.0, Anchor::Start, Font::Heading, Color::Ink, shorten(heading, 90));
        y += 26.0;
    }
    // The bit ruler, as the RFC draws it: tens, then units.
    for i in 0..BITS {
        let x = grid_x + (i as f64 + 0.5) * CELL;
        if i % 10 == 0 {
            fig.text(x, y + 10.0, Anchor::Middle, Font::Small, Color::Muted, (i / 10).to_string());
        }
        fig.text(x, y + 23.0, Anchor::Middle, Font::Small, Color::Muted, (i % 10).to_string());
    }
    fig.text(PAD, y + 23.0, Anchor::Start, Font::Small, Color::Muted, "bit");
    y += 30.0;
    for (row, row_callouts) in callouts.iter().enumerate() {
        let row_start = row * BITS;
        let row_end = (row_start + BITS).min(shown_bits);
        // The parts of fields in this row.
        let parts: Vec<(&Field, usize, usize)> = fields
            .iter()
            .filter_map(|f| {
                let (s, e) = (f.start.max(row_start), (f.start + f.len).min(row_end));
                (s < e).then_some((f, s, e))
            })
            .collect();
        let stacked = parts.iter().any(|(f, s, e)| needs_stacking(f, *s, *e));
        let names_h = if stacked { 4.0 * LETTER + 6.0 } else { 18.0 };
        let bands_h = names_h + VALUE_H + BYTE_H;
        let row_h = bands_h.max(row_callouts.len() as f64 * CALLOUT_LINE + 6.0) + 10.0;
        let value_y = y + names_h;
        fig.text(
            PAD,
            value_y + 15.0,
            Anchor::Start,
            Font::Small,
            Color::Muted,
            format!("byte {}", row_start / 8),
        );
        let mut named_payload = false;
        for (f, s, e) in &parts {
            let x0 = grid_x + (s - row_start) as f64 * CELL;
            let w = (e - s) as f64 * CELL;
            let fill = if matches!(f.show, Show::Byte { .. }) { Color::Bg } else { Color::Note };
            fig.rect(
                BBox::new(x0, value_y, w, VALUE_H),
                0.0,
                Some(fill),
                Some(Stroke::solid(Color::Transport, 1.0)),
            );
            // The field's name above it, once per row (payload bytes share one name).
            let is_payload = matches!(f.show, Show::Byte { .. });
            if !(is_payload && named_payload) {
                let name = if *s > f.start && !is_payload {
                    format!("{} (cont.)", f.name)
                } else {
                    f.name.to_owned()
                };
                let name = if is_payload && *s > fields_payload_start(fields) {
                    "Payload Data (cont.)".to_owned()
                } else {
                    name
                };
                if needs_stacking(f, *s, *e) {
                    for (k, c) in f.name.chars().enumerate() {
                        let ly = value_y - 4.0 - (f.name.len() - 1 - k) as f64 * LETTER;
                        fig.text(
                            x0 + w / 2.0,
                            ly - 2.0,
                            Anchor::Middle,
                            Font::Label,
                            Color::Ink,
                            c.to_string(),
                        );
                    }
                } else {
                    let span_w = if is_payload { (row_end - s) as f64 * CELL } else { w };
                    let name = shorten(&name, Font::Label.chars_in(span_w - 4.0));
                    let nx = if is_payload { x0 + 4.0 } else { x0 + w / 2.0 };
                    let anchor = if is_payload { Anchor::Start } else { Anchor::Middle };
                    fig.text(nx, value_y - 6.0, anchor, Font::Label, Color::Ink, name);
                }
                named_payload |= is_payload;
            }
            match &f.show {
                Show::Bits => {
                    for i in *s..*e {
                        let x = grid_x + ((i - row_start) as f64 + 0.5) * CELL;
                        let digit = if bit(bytes, i) { "1" } else { "0" };
                        fig.text(x, value_y + 15.5, Anchor::Middle, Font::Label, Color::Message, digit);
                        // Ticks between the cells of a wide field, as the RFC's `+-+-+`.
                        if i > *s {
                            let tx = grid_x + (i - row_start) as f64 * CELL;
                            let tick = Stroke::solid(Color::Transport, 1.0);
                            fig.line((tx, value_y), (tx, value_y + 3.0), tick);
                            fig.line((tx, value_y + VALUE_H - 3.0), (tx, value_y + VALUE_H), tick);
                        }
                    }
                }
                Show::Byte { wire, plain, key } => {
                    fig.text(
                        x0 + w / 2.0,
                        value_y + 15.5,
                        Anchor::Middle,
                        Font::Label,
                        Color::Message,
                        format!("{wire:02x}"),
                    );
                    let under = match key {
                        Some(k) => format!("xor {k:02x} → {}", plain_text(*plain)),
                        None => plain_text(*plain),
                    };
                    fig.text(
                        x0 + w / 2.0,
                        value_y + VALUE_H + 13.0,
                        Anchor::Middle,
                        Font::Small,
                        Color::Control,
                        under,
                    );
                }
            }
        }
        // Each header byte's hex under its eight bits.
        let first_byte = row_start / 8;
        for (byte, value) in bytes.iter().enumerate().take(row_end.div_ceil(8)).skip(first_byte) {
            let in_payload =
                parts.iter().any(|(f, s, _)| matches!(f.show, Show::Byte { .. }) && *s == byte * 8);
            if in_payload {
                continue;
            }
            let x = grid_x + ((byte * 8 - row_start) as f64 + 4.0) * CELL;
            fig.text(
                x,
                value_y + VALUE_H + 13.0,
                Anchor::Middle,
                Font::Small,
                Color::Muted,
                format!("{value:02x}"),
            );
            if byte * 8 > row_start {
                // A faint mark where one byte ends and the next begins.
                let bx = grid_x + (byte * 8 - row_start) as f64 * CELL;
                fig.line(
                    (bx, value_y + VALUE_H + 2.0),
                    (bx, value_y + VALUE_H + 8.0),
                    Stroke::solid(Color::Faint, 1.0),
                );
            }
        }
        for (k, line) in row_callouts.iter().enumerate() {
            fig.text(
                callout_x,
                y + 12.0 + k as f64 * CALLOUT_LINE,
                Anchor::Start,
                Font::Small,
                Color::Ink,
                line.clone(),
            );
        }
        y += row_h;
    }
    if elided > 0 {
        fig.text(
            grid_x,
            y + 8.0,
            Anchor::Start,
            Font::Small,
            Color::Muted,
            format!("… and {elided} more payload bytes, not drawn"),
        );
        y += 18.0;
    }
    fig.set_size(width, y + PAD - 4.0);
    fig.set_desc(describe(header, bytes, fields));
    fig
}

fn fields_payload_start(fields: &[Field]) -> usize {
    fields.iter().find(|f| matches!(f.show, Show::Byte { .. })).map_or(usize::MAX, |f| f.start)
}

/// A short name in a field too narrow for it is written one letter a line, as the RFC does.
fn needs_stacking(f: &Field, s: usize, e: usize) -> bool {
    matches!(f.show, Show::Bits)
        && Font::Label.width(f.name) > (e - s) as f64 * CELL - 2.0
        && f.name.len() <= 4
}

fn title(header: &FrameHeader, bytes: &[u8], options: &FrameOptions) -> String {
    if let Some(title) = &options.title {
        return title.clone();
    }
    let start = hex(&bytes[..bytes.len().min(2)]);
    format!(
        "The bits of one WebSocket frame ({start} …, RFC 6455 §5.2): {}, {}, {}-byte payload",
        header.opcode,
        if header.mask.is_some() { "masked" } else { "not masked" },
        header.payload_len
    )
}

fn describe(header: &FrameHeader, bytes: &[u8], fields: &[Field]) -> String {
    let mut out = format!(
        "The frame's {} bytes laid out 32 bits to a row as in RFC 6455 §5.2: {}{}.\n",
        bytes.len(),
        hex(&bytes[..bytes.len().min(32)]),
        if bytes.len() > 32 { " …" } else { "" }
    );
    for f in fields {
        for c in &f.callout {
            out.push_str(c);
            out.push('\n');
        }
    }
    if header.payload_len == 0 {
        out.push_str("No payload.\n");
    }
    out
}
