//! Figures drawn from the wire: sequence (ladder) diagrams from transcripts, a frame's bits, and
//! the browser's `readyState` machine, as SVG (sans-I/O: every function returns a `String`).
//!
//! A figure in the book is drawn from the same [`Transcript`] its chapter prints and snapshots,
//! so a picture can no more drift from the code than a transcript can. Drawing is a pure
//! function: the same input gives the same bytes, so a committed figure can be compared with a
//! fresh one like a snapshot.
//!
//! # From a recording to a figure
//!
//! A chapter's test records its exchange (through the Tap, or by feeding bytes to a
//! [`ConnectionDecoder`](crate::ConnectionDecoder)) and draws it:
//!
//! ```
//! use wire::figure::{self, SequenceOptions};
//! use wire::{ConnectionDecoder, Direction, Mode, Transcript};
//!
//! let mut decoder = ConnectionDecoder::new(Mode::WebSocket);
//! let mut transcript = Transcript::new();
//! // The masked "Hello" of RFC 6455 §5.7, then the server's unmasked echo.
//! for e in decoder.feed(Direction::ClientToServer, &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]) {
//!     transcript.push(e);
//! }
//! for e in decoder.feed(Direction::ServerToClient, b"\x81\x05Hello") {
//!     transcript.push(e);
//! }
//! let svg = figure::sequence(&transcript, &SequenceOptions::new());
//! assert!(svg.contains("text \"Hello\""));
//! ```
//!
//! Several connections side by side (the four transports of the request–response chapter, or a
//! client–proxy and a proxy–server connection in one column of three lanes) are [`Column`]s:
//!
//! ```
//! use wire::figure::{self, Align, Column, SequenceOptions, Step};
//! # let (short, ws) = (wire::Transcript::new(), wire::Transcript::new());
//! let options = SequenceOptions::new().aligned(Align::Rows);
//! let mut polling = Column::from_transcript("Short polling", &short, &options);
//! polling.push(Step::arrow(1, 0, "200 (3 messages)"));
//! let mut websocket = Column::from_transcript("WebSocket", &ws, &options);
//! websocket.annotate("GET", "no middleware ran");
//! let mut proxied = Column::new("Through nginx", &["client", "nginx", "server"]);
//! // proxied.add_transcript(&client_side, 0, 1, &options);
//! // proxied.add_transcript(&server_side, 1, 2, &options);
//! let svg = figure::ladders(&[polling, websocket, proxied], &options);
//! assert!(svg.starts_with("<svg"));
//! ```
//!
//! Every field of a [`Step`] is public: a chapter may relabel an arrow (`200 (3 messages)`
//! instead of `200 OK`), drop the transcript's notes, or add annotations. [`Align::Clock`] lines
//! up columns recorded with the Tap's clock on one time axis; for recordings made over real
//! sockets, without a clock, [`SequenceOptions::moments`] lines them up by the moments of their
//! script instead. [`SequenceOptions::per_row`] puts many ladders in rows, to fit a page.
//!
//! # Checked like snapshots
//!
//! A figure is committed as `book/src/<chapter>/figures/<name>.svg` and shown on its page in a
//! `<figure class="wire">` with an `<img>` and its alt text. `tests/figures.rs` draws each one
//! again from the same recording as the chapter's transcript snapshot, checks its layout, and
//! compares it with the committed file through `tests/support/figures.rs`:
//!
//! ```ignore
//! use duplex_tests::{book_dir, figures};
//! let fig = wire::figure::sequence_figure(&transcript, &SequenceOptions::new());
//! fig.check_layout().unwrap_or_else(|e| panic!("{e}"));
//! figures::check_or_update(&book_dir().join("echo/figures/echo.svg"), &fig.svg())
//!     .unwrap_or_else(|e| panic!("{e}"));
//! ```
//!
//! `check_or_update` fails with the file's name, the first line that differs and the command
//! that updates it. After a change made on purpose:
//!
//! ```text
//! DUPLEX_UPDATE_FIGURES=1 cargo test -p duplex-tests --test figures
//! ```
//!
//! (`INSTA_UPDATE=always`, which updates the transcripts' snapshots, updates figures too.) Then
//! look at the new figure and commit it with the code that changed it.
//!
//! # Readable everywhere
//!
//! Each figure is drawn on its own light card: warm white, dark ink, a thin border. An SVG shown
//! through `<img>` does not inherit the page's colour (`currentColor` is black there) and cannot
//! see mdBook's theme, which is a class on the page's `<html>`, not the operating system's
//! `prefers-color-scheme`. A card that carries its own background reads the same on all five
//! themes (light, rust, coal, navy, ayu) and on paper, whether the page uses `<img>` (the robust
//! choice) or includes the SVG inline. The colours are CSS custom properties with those defaults
//! (`--dxf-bg`, `--dxf-ink`, `--dxf-message`, …): an inlined figure picks up values a theme's
//! stylesheet sets, and every other way of showing it gets the card.
//!
//! Other rules the figures keep:
//! - `<title>` and `<desc>` come from the content: the desc lists every arrow with its whole
//!   label, the frame's every field; the chapter's alt text should say the lesson.
//! - No JavaScript, no ids (two inline figures with the same id would share markers: arrowheads
//!   are polygons), no empty lines (Markdown ends an inline HTML block at one), CSS classes
//!   prefixed `dxf-` (a `<style>` in an inline SVG applies to the whole page).
//! - Monospace text, each character taken as 0.6 em wide: layout is arithmetic, not font
//!   metrics, and [`Figure::check_layout`] can prove that no two labels overlap.
//! - Numbers are written to a tenth of a pixel: output is byte-for-byte deterministic.
//!
//! # Layout
//! - `svg`: the drawing surface: [`Figure`], bounding boxes, text widths, the SVG writer.
//! - `labels`: how a transcript event is named on an arrow, in the transcript's words.
//! - `sequence`: what a ladder diagram holds: [`Column`], [`Step`], [`Hold`], [`SequenceOptions`],
//!   and how a transcript becomes steps.
//! - `ladder`: laying ladders out (lanes, rows, clock alignment) and drawing them.
//! - `frame_bits`: one frame's bytes as the RFC 6455 §5.2 bit layout.
//! - `states`: the `WebSocket.readyState` machine (WHATWG WebSockets Standard).

mod frame_bits;
mod labels;
mod ladder;
mod sequence;
mod states;
mod svg;

pub use frame_bits::{DEFAULT_PAYLOAD_SHOWN, FrameFigureError, FrameOptions};
pub use labels::Tone;
pub use sequence::{
    Align, Column, DEFAULT_ANNOTATION_WIDTH, DEFAULT_MAX_LABEL, DEFAULT_MIN_LANE_GAP, GapKind, Hold,
    SequenceOptions, Step, StepKind,
};
pub use svg::{BBox, CHAR_WIDTH, FONT_FAMILY, Figure, LayoutError, Placed, PlacedKind};

use crate::transcript::Transcript;

/// The sequence diagram of one connection, client on the left, server on the right, as SVG.
pub fn sequence(transcript: &Transcript, options: &SequenceOptions) -> String {
    sequence_figure(transcript, options).svg()
}

/// [`sequence`], as a [`Figure`] a test can check.
pub fn sequence_figure(transcript: &Transcript, options: &SequenceOptions) -> Figure {
    ladder::sequence(transcript, options)
}

/// Several ladders side by side, as SVG.
pub fn ladders(columns: &[Column], options: &SequenceOptions) -> String {
    ladders_figure(columns, options).svg()
}

/// [`ladders`], as a [`Figure`].
pub fn ladders_figure(columns: &[Column], options: &SequenceOptions) -> Figure {
    ladder::ladders(columns, options)
}

/// One frame's bytes (exactly one frame) as the RFC 6455 §5.2 bit layout, as SVG.
pub fn frame(bytes: &[u8], options: &FrameOptions) -> Result<String, FrameFigureError> {
    frame_figure(bytes, options).map(|f| f.svg())
}

/// [`frame`], as a [`Figure`].
pub fn frame_figure(bytes: &[u8], options: &FrameOptions) -> Result<Figure, FrameFigureError> {
    frame_bits::frame(bytes, options)
}

/// The browser's `WebSocket.readyState` machine, as SVG.
pub fn ready_state() -> String {
    ready_state_figure().svg()
}

/// [`ready_state`], as a [`Figure`].
pub fn ready_state_figure() -> Figure {
    states::ready_state()
}

#[cfg(test)]
mod tests;
