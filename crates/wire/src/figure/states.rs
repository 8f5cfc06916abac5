//! The browser's `WebSocket.readyState` as a state machine, with the events fired on each edge.
//!
//! There is no exchange to draw this from, so the figure is static; it is drawn by the same code
//! as the others so it looks like them. Its content follows the WHATWG WebSockets Standard:
//! the four states (§ "The WebSocket interface", `ready state`), `close()`'s steps, and
//! "Feedback from the protocol", which says which task changes the state and which events it
//! fires, in which order.

use super::svg::{Anchor, BBox, Color, Figure, Font, Stroke, num, wrap};

const PAD: f64 = 16.0;
const BOX_W: f64 = 118.0;
const BOX_H: f64 = 58.0;
/// OPEN is taller: it lists the event it fires without changing state.
const OPEN_H: f64 = 96.0;
const LINE: f64 = 15.0;
const SMALL_LINE: f64 = 13.5;
/// Labels of the straight edges wrap at this many characters; the arcs' labels, which have
/// more room, at `ARC_CHARS`.
const EDGE_CHARS: usize = 19;
const ARC_CHARS: usize = 34;
/// Depth of the arcs: above, below (inner), below (outer).
const ARC_UP: f64 = 74.0;
const ARC_INNER: f64 = 58.0;
const ARC_OUTER: f64 = 186.0;

/// An edge's words: what makes it happen, and what the browser fires on the way.
struct EdgeText {
    when: &'static str,
    fires: &'static str,
}

const STATES: [(&str, u8); 4] = [("CONNECTING", 0), ("OPEN", 1), ("CLOSING", 2), ("CLOSED", 3)];

/// CONNECTING → OPEN, OPEN → CLOSING, CLOSING → CLOSED, drawn straight.
const STRAIGHT: [EdgeText; 3] = [
    EdgeText { when: "the handshake succeeds (101)", fires: "fires open" },
    EdgeText { when: "close() called, or the server's close frame arrives", fires: "fires nothing yet" },
    EdgeText {
        when: "the TCP connection is closed",
        fires: "fires error*, then close {code, reason, wasClean}",
    },
];

/// CONNECTING → CLOSING (above), OPEN → CLOSED (below, inner), CONNECTING → CLOSED (below, outer).
const CLOSE_BEFORE_OPEN: EdgeText =
    EdgeText { when: "close() before the handshake ends: the browser fails the connection", fires: "" };
const LOST: EdgeText = EdgeText {
    when: "TCP ends with no closing handshake",
    fires: "fires error*, then close 1006, wasClean false",
};
const FAILS: EdgeText = EdgeText {
    when: "the handshake fails: refused, not 101, TLS error",
    fires: "fires error, then close 1006, wasClean false",
};

const FOOTNOTES: [&str; 3] = [
    "* error fires only when the browser had to fail the connection (RFC 6455 §7.1.7), as after close() before open.",
    "message fires only while OPEN; send() while CONNECTING throws InvalidStateError.",
    "From the WHATWG WebSockets Standard: close() and \"Feedback from the protocol\".",
];

fn lines(edge: &EdgeText, chars: usize) -> (Vec<String>, Vec<String>) {
    let when = wrap(edge.when, chars, 4);
    let fires = if edge.fires.is_empty() { Vec::new() } else { wrap(edge.fires, chars, 4) };
    (when, fires)
}

fn max_width(lines: &[String], font: Font) -> f64 {
    lines.iter().map(|l| font.width(l)).fold(0.0, f64::max)
}

/// The readyState figure.
pub fn ready_state() -> Figure {
    let straight: Vec<(Vec<String>, Vec<String>)> = STRAIGHT.iter().map(|e| lines(e, EDGE_CHARS)).collect();
    // Each gap is as wide as its label needs.
    let gaps: Vec<f64> = straight
        .iter()
        .map(|(when, fires)| {
            (max_width(when, Font::Label).max(max_width(fires, Font::Small)) + 28.0).max(130.0)
        })
        .collect();
    let (up_when, _) = lines(&CLOSE_BEFORE_OPEN, ARC_CHARS);
    let (lost_when, lost_fires) = lines(&LOST, ARC_CHARS);
    let (fail_when, fail_fires) = lines(&FAILS, ARC_CHARS);
    // Vertically: the arc above and its label, the states, the two arcs below and their labels.
    // The arc above starts on CONNECTING's top and peaks 3/4 of its depth higher; its label's
    // last line sits 8 px over the peak, its first line's capitals 9.6 px over that line's
    // baseline.
    let up_label_h = (up_when.len() as f64 - 1.0) * LINE + 9.6 + 8.0;
    let mid = PAD + 4.0 + up_label_h + ARC_UP * 0.75 + BOX_H / 2.0;
    let mut x = PAD + BOX_W / 2.0 + 8.0;
    let mut xs = vec![x];
    for gap in &gaps {
        x += BOX_W + gap;
        xs.push(x);
    }
    let footnote_w = FOOTNOTES.iter().map(|f| Font::Small.width(f)).fold(0.0, f64::max);
    let width = (xs[3] + BOX_W / 2.0 + 8.0 + PAD).max(footnote_w + 2.0 * PAD);
    let bottom_of = |i: usize| if i == 1 { mid + OPEN_H / 2.0 } else { mid + BOX_H / 2.0 };
    let top_of = |i: usize| if i == 1 { mid - OPEN_H / 2.0 } else { mid - BOX_H / 2.0 };
    let below = mid + BOX_H / 2.0;
    let outer_label_y = below + ARC_OUTER * 0.75 + 18.0;
    let outer_label_h = (fail_when.len() + fail_fires.len()) as f64 * LINE;
    let foot_y = outer_label_y + outer_label_h + 14.0;
    let height = foot_y + FOOTNOTES.len() as f64 * SMALL_LINE + PAD;

    let mut fig =
        Figure::new("The browser's WebSocket readyState: states and the events fired on each change", "");
    fig.set_size(width, height);

    // Arcs first, so boxes and labels sit on top of their ends.
    let arrow = Stroke::solid(Color::Message, 1.5);
    let problem = Stroke::solid(Color::Problem, 1.5);
    // CONNECTING → CLOSING, above.
    let (a, b) = (xs[0], xs[2]);
    let y0 = top_of(0);
    let y1 = top_of(2);
    let apex = curve(&mut fig, (a, y0), (b, y1), -ARC_UP, arrow, Color::Message);
    for (k, line) in up_when.iter().rev().enumerate() {
        fig.label(
            (a + b) / 2.0,
            apex - 8.0 - k as f64 * LINE,
            Anchor::Middle,
            Font::Label,
            Color::Ink,
            line.clone(),
        );
    }
    // OPEN → CLOSED, below (inner), and CONNECTING → CLOSED, below (outer): the outer one lands
    // to the right of the inner one, so they never cross.
    let inner = curve(
        &mut fig,
        (xs[1], bottom_of(1)),
        (xs[3] - 24.0, bottom_of(3)),
        ARC_INNER,
        problem,
        Color::Problem,
    );
    let outer = curve(
        &mut fig,
        (xs[0], bottom_of(0)),
        (xs[3] + 24.0, bottom_of(3)),
        ARC_OUTER,
        problem,
        Color::Problem,
    );
    let inner_x = (xs[1] + xs[3] - 24.0) / 2.0;
    let mut ly = inner + 16.0;
    for line in &lost_when {
        fig.label(inner_x, ly, Anchor::Middle, Font::Label, Color::Ink, line.clone());
        ly += LINE;
    }
    for line in &lost_fires {
        fig.label(inner_x, ly, Anchor::Middle, Font::Small, Color::Problem, line.clone());
        ly += LINE;
    }
    let outer_x = (xs[0] + xs[3] + 24.0) / 2.0;
    let mut ly = outer + 16.0;
    for line in &fail_when {
        fig.label(outer_x, ly, Anchor::Middle, Font::Label, Color::Ink, line.clone());
        ly += LINE;
    }
    for line in &fail_fires {
        fig.label(outer_x, ly, Anchor::Middle, Font::Small, Color::Problem, line.clone());
        ly += LINE;
    }
    // Straight edges between neighbours.
    for (i, (when, fires)) in straight.iter().enumerate() {
        let (x1, x2) = (xs[i] + BOX_W / 2.0, xs[i + 1] - BOX_W / 2.0);
        let tip = (x2 - 1.0, mid);
        let base = head(&mut fig, tip, 1.0, 0.0, Color::Message);
        fig.line((x1 + 1.0, mid), base, arrow);
        let middle = (x1 + x2) / 2.0;
        for (k, line) in when.iter().rev().enumerate() {
            fig.label(
                middle,
                mid - 8.0 - k as f64 * LINE,
                Anchor::Middle,
                Font::Label,
                Color::Ink,
                line.clone(),
            );
        }
        for (k, line) in fires.iter().enumerate() {
            fig.label(
                middle,
                mid + 17.0 + k as f64 * LINE,
                Anchor::Middle,
                Font::Small,
                Color::Control,
                line.clone(),
            );
        }
    }
    // The states.
    for (i, (name, value)) in STATES.iter().enumerate() {
        let (t, b) = (top_of(i), bottom_of(i));
        fig.rect(
            BBox::new(xs[i] - BOX_W / 2.0, t, BOX_W, b - t),
            10.0,
            Some(Color::Note),
            Some(Stroke::solid(Color::Ink, 1.5)),
        );
        fig.text(xs[i], t + 24.0, Anchor::Middle, Font::Strong, Color::Ink, *name);
        fig.text(xs[i], t + 42.0, Anchor::Middle, Font::Small, Color::Muted, format!("readyState {value}"));
        if i == 1 {
            // What OPEN does without leaving OPEN: an internal transition, in UML's words.
            fig.line(
                (xs[i] - BOX_W / 2.0, t + 54.0),
                (xs[i] + BOX_W / 2.0, t + 54.0),
                Stroke::solid(Color::Frame, 1.0),
            );
            fig.text(xs[i], t + 70.0, Anchor::Middle, Font::Small, Color::Ink, "each message:");
            fig.text(xs[i], t + 84.0, Anchor::Middle, Font::Small, Color::Control, "fires message");
        }
    }
    for (k, line) in FOOTNOTES.iter().enumerate() {
        fig.text(PAD, foot_y + k as f64 * SMALL_LINE, Anchor::Start, Font::Small, Color::Muted, *line);
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

/// A curved edge from `from` to `to` bulging by `depth` (negative: upwards), ending in an
/// arrowhead. Returns the y of the curve's extreme point.
fn curve(
    fig: &mut Figure,
    from: (f64, f64),
    to: (f64, f64),
    depth: f64,
    stroke: Stroke,
    color: Color,
) -> f64 {
    let c1 = (from.0, from.1 + depth);
    let c2 = (to.0, to.1 + depth);
    // The head points straight into the box (the last control point is straight above or
    // below the end); the curve stops at its base.
    let dir = if depth < 0.0 { 1.0 } else { -1.0 };
    let tip = (to.0, to.1 - dir * 1.0);
    let base = head(fig, tip, 0.0, dir, color);
    let d = format!(
        "M{} {} C{} {} {} {} {} {}",
        num(from.0),
        num(from.1),
        num(c1.0),
        num(c1.1),
        num(c2.0),
        num(c2.1),
        num(base.0),
        num(base.1)
    );
    let ys = [from.1, c1.1, c2.1, base.1];
    let (min_y, max_y) = ys.iter().fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(*y), hi.max(*y)));
    fig.path(d, BBox::new(from.0.min(to.0), min_y, (to.0 - from.0).abs(), max_y - min_y), None, Some(stroke));
    // A cubic with both control points at the same depth reaches 3/4 of it.
    (from.1 + to.1) / 2.0 + depth * 0.75
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
