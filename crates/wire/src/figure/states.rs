//! The browser's `WebSocket.readyState` as a state machine, with the events fired on each edge.
//!
//! There is no exchange to draw this from, so the figure is static; it is drawn by the same code
//! as the others so it looks like them. Its content follows the WHATWG WebSockets Standard:
//! the four states (§ "The WebSocket interface", `ready state`), `close()`'s steps, and
//! "Feedback from the protocol", which says which task changes the state and which events it
//! fires, in which order.

use super::svg::{Anchor, BBox, Color, Figure, Font, Stroke, num, wrap};

// The layout: every state is joined to every later one, six edges, drawn without crossings.
//
//   CONNECTING ──────────────────────────────▶ OPEN
//    │    │                                    │    │
//    │    └──────────▶ CLOSING ◀───────────────┘    │
//    │                    │                         │
//    └───────────────▶ CLOSED ◀─────────────────────┘
//
// Each label sits in a region no line crosses: above the top arrow, above each arm that joins
// CLOSING, right of the arrow down to CLOSED, and under the two arms that join CLOSED.

const PAD: f64 = 16.0;
const BOX_W: f64 = 118.0;
const BOX_H: f64 = 58.0;
/// OPEN is taller: it lists the event it fires without changing state.
const OPEN_H: f64 = 96.0;
const LINE: f64 = 15.0;
const SMALL_LINE: f64 = 13.5;
/// The least distance from a top state's centre to CLOSING's and CLOSED's (which are one above
/// the other); more if the labels between them need it.
const MIN_SPAN: f64 = 200.0;
/// How far from a top state's centre its two edges down leave: inside towards CLOSING, outside
/// towards CLOSED.
const ARM: f64 = 25.0;
/// Corner radius of the edges that turn.
const TURN: f64 = 10.0;
/// Labels of the edges into CLOSING and CLOSED wrap at this many characters.
const EDGE_CHARS: usize = 22;
/// Footnotes wrap at this many characters.
const FOOT_CHARS: usize = 100;

/// An edge's words: what makes it happen, and what the browser fires on the way.
struct EdgeText {
    when: &'static str,
    fires: &'static str,
}

const STATES: [(&str, u8); 4] = [("CONNECTING", 0), ("OPEN", 1), ("CLOSING", 2), ("CLOSED", 3)];

/// CONNECTING → OPEN, OPEN → CLOSING, CLOSING → CLOSED: the way a connection usually goes.
const STRAIGHT: [EdgeText; 3] = [
    EdgeText { when: "the handshake succeeds (101)", fires: "fires open" },
    EdgeText { when: "close() called, or the server's close frame arrives", fires: "fires nothing yet" },
    EdgeText {
        when: "the TCP connection is closed",
        fires: "fires error*, then close {code, reason, wasClean}",
    },
];

/// CONNECTING → CLOSING.
const CLOSE_BEFORE_OPEN: EdgeText =
    EdgeText { when: "close() before the handshake ends: the browser fails the connection", fires: "" };
/// OPEN → CLOSED.
const LOST: EdgeText = EdgeText {
    when: "TCP ends with no closing handshake",
    fires: "fires error*, then close 1006, wasClean false",
};
/// CONNECTING → CLOSED.
const FAILS: EdgeText = EdgeText {
    when: "the handshake fails: refused, not 101, TLS error",
    fires: "fires error, then close 1006, wasClean false",
};

const FOOTNOTES: [&str; 3] = [
    "* error fires only when the browser had to fail the connection (RFC 6455 §7.1.7), as after close() before open.",
    "message fires only while OPEN; send() while CONNECTING throws InvalidStateError.",
    "From the WHATWG WebSockets Standard: close() and \"Feedback from the protocol\".",
];

/// An edge's label: its `when` lines, then its `fires` lines.
struct Label {
    when: Vec<String>,
    fires: Vec<String>,
    /// The colour of the `fires` lines.
    tone: Color,
}

impl Label {
    fn new(edge: &EdgeText, chars: usize, tone: Color) -> Label {
        let when = wrap(edge.when, chars, 4);
        let fires = if edge.fires.is_empty() { Vec::new() } else { wrap(edge.fires, chars, 4) };
        Label { when, fires, tone }
    }

    fn lines(&self) -> usize {
        self.when.len() + self.fires.len()
    }

    fn width(&self) -> f64 {
        let w = |lines: &[String], font: Font| lines.iter().map(|l| font.width(l)).fold(0.0, f64::max);
        w(&self.when, Font::Label).max(w(&self.fires, Font::Small))
    }

    /// Draws the label with its first baseline at `y`.
    fn draw(&self, fig: &mut Figure, x: f64, y: f64, anchor: Anchor) {
        let mut y = y;
        for line in &self.when {
            fig.label(x, y, anchor, Font::Label, Color::Ink, line.clone());
            y += LINE;
        }
        for line in &self.fires {
            fig.label(x, y, anchor, Font::Small, self.tone, line.clone());
            y += LINE;
        }
    }

    /// Draws the label so that its last line's baseline is at `y`.
    fn draw_above(&self, fig: &mut Figure, x: f64, y: f64, anchor: Anchor) {
        self.draw(fig, x, y - (self.lines() as f64 - 1.0) * LINE, anchor);
    }
}

/// The readyState figure.
pub fn ready_state() -> Figure {
    let opened = Label::new(&STRAIGHT[0], 40, Color::Control);
    let closing = Label::new(&STRAIGHT[1], EDGE_CHARS, Color::Control);
    let closed = Label::new(&STRAIGHT[2], EDGE_CHARS + 6, Color::Control);
    let early = Label::new(&CLOSE_BEFORE_OPEN, EDGE_CHARS, Color::Control);
    let lost = Label::new(&LOST, EDGE_CHARS + 6, Color::Problem);
    let fails = Label::new(&FAILS, EDGE_CHARS + 6, Color::Problem);
    let footnotes: Vec<String> = FOOTNOTES.iter().flat_map(|f| wrap(f, FOOT_CHARS, 3)).collect();

    // Across: CONNECTING on the left, OPEN on the right, CLOSING and CLOSED between them.
    // Each label between a top state and the middle column must fit between the lines around it.
    let span = [
        ARM + 10.0 + early.width().max(closing.width()) + 8.0 + BOX_W / 2.0,
        fails.width().max(lost.width()) - ARM + 8.0 + BOX_W / 2.0,
        10.0 + closed.width() + 8.0 + ARM,
    ]
    .into_iter()
    .fold(MIN_SPAN, f64::max);
    let left = PAD + BOX_W / 2.0;
    let middle = left + span;
    let right = middle + span;
    let footnote_w = footnotes.iter().map(|f| Font::Small.width(f)).fold(0.0, f64::max);
    let width = (right + BOX_W / 2.0 + PAD).max(footnote_w + 2.0 * PAD);
    // Down: the top states, the labels above the arms into CLOSING, CLOSING, the label of the
    // edge down to CLOSED, CLOSED, the labels under its arms, the footnotes.
    let top = PAD;
    let top_mid = top + BOX_H / 2.0;
    let arms_text = early.lines().max(closing.lines()) as f64 * LINE;
    let closing_mid = top + OPEN_H + 10.0 + arms_text + 8.0;
    let down_text = closed.lines() as f64 * LINE;
    let closed_mid = closing_mid + BOX_H / 2.0 + 12.0 + down_text + 8.0 + BOX_H / 2.0;
    let under = closed_mid + BOX_H / 2.0 + 18.0;
    let under_text = lost.lines().max(fails.lines()) as f64 * LINE;
    let foot_y = under + under_text + 10.0;
    let height = foot_y + footnotes.len() as f64 * SMALL_LINE + PAD - 4.0;

    let mut fig =
        Figure::new("The browser's WebSocket readyState: states and the events fired on each change", "");
    fig.set_size(width, height);
    let usual = Stroke::solid(Color::Message, 1.5);
    let problem = Stroke::solid(Color::Problem, 1.5);

    // CONNECTING → OPEN, along the top.
    let (from, to) = (left + BOX_W / 2.0, right - BOX_W / 2.0);
    let base = head(&mut fig, (to - 1.0, top_mid), 1.0, 0.0, Color::Message);
    fig.line((from + 1.0, top_mid), base, usual);
    // Its words above the arrow, what it fires below.
    let mid_x = (from + to) / 2.0;
    for (k, line) in opened.when.iter().rev().enumerate() {
        fig.label(
            mid_x,
            top_mid - 8.0 - k as f64 * LINE,
            Anchor::Middle,
            Font::Label,
            Color::Ink,
            line.clone(),
        );
    }
    for (k, line) in opened.fires.iter().enumerate() {
        fig.label(
            mid_x,
            top_mid + 17.0 + k as f64 * LINE,
            Anchor::Middle,
            Font::Small,
            opened.tone,
            line.clone(),
        );
    }

    // The arms into CLOSING: down from each top state, then across.
    let closing_left = middle - BOX_W / 2.0;
    let closing_right = middle + BOX_W / 2.0;
    elbow(&mut fig, (left + ARM, top + BOX_H), (closing_left, closing_mid), usual, Color::Message);
    elbow(&mut fig, (right - ARM, top + OPEN_H), (closing_right, closing_mid), usual, Color::Message);
    early.draw_above(&mut fig, left + ARM + 10.0, closing_mid - 8.0, Anchor::Start);
    closing.draw_above(&mut fig, right - ARM - 10.0, closing_mid - 8.0, Anchor::End);

    // CLOSING → CLOSED, straight down.
    let (y1, y2) = (closing_mid + BOX_H / 2.0, closed_mid - BOX_H / 2.0);
    let base = head(&mut fig, (middle, y2 - 1.0), 0.0, 1.0, Color::Message);
    fig.line((middle, y1 + 1.0), base, usual);
    closed.draw(&mut fig, middle + 10.0, y1 + 12.0 + 9.6, Anchor::Start);

    // The arms into CLOSED, on the outside.
    elbow(&mut fig, (left - ARM, top + BOX_H), (middle - BOX_W / 2.0, closed_mid), problem, Color::Problem);
    elbow(&mut fig, (right + ARM, top + OPEN_H), (middle + BOX_W / 2.0, closed_mid), problem, Color::Problem);
    fails.draw(&mut fig, left - ARM, under, Anchor::Start);
    lost.draw(&mut fig, right + ARM, under, Anchor::End);

    // The states, over the ends of their edges.
    let centres = [(left, top_mid), (right, top + OPEN_H / 2.0), (middle, closing_mid), (middle, closed_mid)];
    for (i, ((name, value), (x, y))) in STATES.iter().zip(centres).enumerate() {
        let h = if i == 1 { OPEN_H } else { BOX_H };
        let t = y - h / 2.0;
        fig.rect(
            BBox::new(x - BOX_W / 2.0, t, BOX_W, h),
            10.0,
            Some(Color::Note),
            Some(Stroke::solid(Color::Ink, 1.5)),
        );
        fig.text(x, t + 24.0, Anchor::Middle, Font::Strong, Color::Ink, *name);
        fig.text(x, t + 42.0, Anchor::Middle, Font::Small, Color::Muted, format!("readyState {value}"));
        if i == 1 {
            // What OPEN does without leaving OPEN: an internal transition, in UML's words.
            fig.line(
                (x - BOX_W / 2.0, t + 54.0),
                (x + BOX_W / 2.0, t + 54.0),
                Stroke::solid(Color::Frame, 1.0),
            );
            fig.text(x, t + 70.0, Anchor::Middle, Font::Small, Color::Ink, "each message:");
            fig.text(x, t + 84.0, Anchor::Middle, Font::Small, Color::Control, "fires message");
        }
    }
    for (k, line) in footnotes.iter().enumerate() {
        fig.text(PAD, foot_y + k as f64 * SMALL_LINE, Anchor::Start, Font::Small, Color::Muted, line.clone());
    }
    fig.set_desc(describe());
    fig
}

/// An arrowhead at `tip` pointing along (`dx`, `dy`); returns where the shaft should end.
fn head(fig: &mut Figure, tip: (f64, f64), dx: f64, dy: f64, color: Color) -> (f64, f64) {
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (ux, uy) = (dx / len, dy / len);
    let base = (tip.0 - 10.0 * ux, tip.1 - 10.0 * uy);
    let (px, py) = (-uy * 5.0, ux * 5.0);
    fig.polygon(vec![tip, (base.0 + px, base.1 + py), (base.0 - px, base.1 - py)], color);
    base
}

/// An edge that leaves a box downwards at `from`, turns a rounded corner, and runs across into
/// the side of a box at `to`, ending in an arrowhead.
fn elbow(fig: &mut Figure, from: (f64, f64), to: (f64, f64), stroke: Stroke, color: Color) {
    let dir = if to.0 > from.0 { 1.0 } else { -1.0 };
    let base = head(fig, (to.0 - dir, to.1), dir, 0.0, color);
    let d = format!(
        "M{} {} L{} {} Q{} {} {} {} L{} {}",
        num(from.0),
        num(from.1),
        num(from.0),
        num(to.1 - TURN),
        num(from.0),
        num(to.1),
        num(from.0 + dir * TURN),
        num(to.1),
        num(base.0),
        num(base.1)
    );
    let bbox = BBox::spanning(from, (base.0, to.1));
    fig.path(d, bbox, None, Some(stroke));
}

fn describe() -> String {
    let mut out = String::from(
        "A state machine of the browser's WebSocket readyState: CONNECTING (0), OPEN (1), CLOSING (2), CLOSED (3).\n",
    );
    let edges: [(&str, &str, &EdgeText); 6] = [
        ("CONNECTING", "OPEN", &STRAIGHT[0]),
        ("OPEN", "CLOSING", &STRAIGHT[1]),
        ("CLOSING", "CLOSED", &STRAIGHT[2]),
        ("CONNECTING", "CLOSING", &CLOSE_BEFORE_OPEN),
        ("OPEN", "CLOSED", &LOST),
        ("CONNECTING", "CLOSED", &FAILS),
    ];
    for (from, to, edge) in edges {
        out.push_str(&format!("{from} → {to}: {}", edge.when));
        if !edge.fires.is_empty() {
            out.push_str(&format!("; {}", edge.fires));
        }
        out.push_str(".\n");
    }
    out.push_str("While OPEN, each message received fires message.\n");
    for line in FOOTNOTES {
        out.push_str(line);
        out.push('\n');
    }
    out
}
