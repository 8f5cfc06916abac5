//! Laying out and drawing ladders: where lanes go, how tall each step is, how columns line up
//! (by row or by clock), and the arrows, bars, bands, notes and margins themselves.
//!
//! Widths come from the labels (every character 0.6 em), so a lane is as wide as its longest
//! arrow label needs; heights from what each step shows. Nothing is measured from a font.

use super::labels::Tone;
use super::sequence::{Align, Column, GapKind, Hold, SequenceOptions, Step, StepKind};
use super::svg::{Anchor, BBox, Color, Figure, Font, Stroke, columns, shorten, wrap};
use crate::transcript::Transcript;

// Geometry, in pixels. Figures are drawn at these sizes and scale down with the page.
const PAD: f64 = 16.0;
const COLUMN_GAP: f64 = 32.0;
/// Space between two rows of ladders.
const ROW_GAP: f64 = 28.0;
/// Space left and right of a label between two lanes.
const LABEL_PAD: f64 = 14.0;
const HEADER_H: f64 = 26.0;
/// How far an arrow drops on its way: the message takes time to cross.
const SLANT: f64 = 8.0;
const NOTE_LINES: usize = 3;
/// Width of a hold's bar on a lifeline.
const HOLD_W: f64 = 8.0;
/// Space between the lanes and the annotations beside them.
const ANNOTATION_GAP: f64 = 14.0;
const ANNOTATION_LINES: usize = 4;
const LABEL_LINE: f64 = 15.0;
const SMALL_LINE: f64 = 13.0;
/// Longest lane name and column title, in characters.
const MAX_LANE: usize = 24;
const MAX_TITLE: usize = 48;

/// What a diagram with no steps says.
const NOTHING: &str = "(nothing was recorded)";

/// A column laid out: where its lanes are and what each step needs.
struct Laid<'a> {
    column: &'a Column,
    /// Left edge of the column in the figure.
    x: f64,
    width: f64,
    /// The column's own time margin (rows alignment), its width.
    gutter: f64,
    lane_x: Vec<f64>,
    header_w: Vec<f64>,
    /// Where the lanes' content ends on the right (before annotations).
    content_right: f64,
    /// Where annotations start.
    annotation_x: f64,
    /// Wrapped text of notes and bands, per step.
    lines: Vec<Vec<String>>,
    /// Wrapped annotations, per step: each line with its baseline below the step's top.
    annotations: Vec<Vec<(f64, String)>>,
    heights: Vec<f64>,
    /// The top of each step.
    ys: Vec<f64>,
}

fn lane_pair(a: usize, b: usize) -> (usize, usize) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Where a note across lanes `from` to `to` may go: its left edge and width.
fn note_span(lane_x: &[f64], header_w: &[f64], from: usize, to: usize) -> (f64, f64) {
    let (a, b) = lane_pair(from, to);
    let left = lane_x[a] - header_w[a] / 2.0;
    let right = lane_x[b] + header_w[b] / 2.0;
    let width = (right - left).max(160.0);
    let middle = (left + right) / 2.0;
    (middle - width / 2.0, width)
}

/// Lays out one column with its left edge at 0.
fn lay_out<'a>(column: &'a Column, options: &SequenceOptions, own_gutter: bool) -> Laid<'a> {
    let lanes = column.lanes.len().max(1);
    let last = lanes - 1;
    // A lane index past the end is drawn on the last lane rather than panicking.
    let lane = |i: usize| i.min(last);
    let header_w: Vec<f64> = (0..lanes)
        .map(|i| {
            let name = column.lanes.get(i).map_or("", String::as_str);
            (Font::Strong.width(&shorten(name, MAX_LANE)) + 20.0).max(72.0)
        })
        .collect();
    let mut gaps: Vec<f64> = (0..last)
        .map(|i| ((header_w[i] + header_w[i + 1]) / 2.0 + 24.0).max(f64::from(options.min_lane_gap)))
        .collect();
    let need = |step: &Step| {
        let label = Font::Label.width(&shorten(&step.label, options.max_label));
        let detail =
            step.detail.as_ref().map_or(0.0, |d| Font::Small.width(&shorten_detail(d, options.max_label)));
        label.max(detail) + 2.0 * LABEL_PAD
    };
    // Arrows between neighbours first, then the ones that span several gaps share out what they
    // still need.
    for multi in [false, true] {
        for step in &column.steps {
            let (a, b) = match step.kind {
                StepKind::Arrow { from, to, .. } | StepKind::Open { from, to } => {
                    lane_pair(lane(from), lane(to))
                }
                _ => continue,
            };
            if a == b || (b - a > 1) != multi {
                continue;
            }
            let have: f64 = gaps[a..b].iter().sum();
            let want = need(step);
            if want > have {
                let extra = (want - have) / (b - a) as f64;
                for g in &mut gaps[a..b] {
                    *g += extra;
                }
            }
        }
    }
    let times: Vec<String> =
        column.steps.iter().filter_map(|s| s.time_ms).filter_map(|t| options.time_label(t)).collect();
    let gutter = if own_gutter && !times.is_empty() {
        times.iter().map(|t| Font::Small.width(t)).fold(0.0, f64::max) + 12.0
    } else {
        0.0
    };
    let mut lane_x = Vec::with_capacity(lanes);
    let mut x = gutter + header_w[0] / 2.0 + 4.0;
    lane_x.push(x);
    for gap in &gaps {
        x += gap;
        lane_x.push(x);
    }
    let mut content_right = lane_x[last] + header_w[last] / 2.0 + 4.0;
    // Notes, and labels of arrows from a lane to itself, may be wider than the lanes they sit on.
    let mut min_left = gutter;
    for step in &column.steps {
        let (left, width) = match step.kind {
            StepKind::Note { from, to } => note_span(&lane_x, &header_w, lane(from), lane(to)),
            StepKind::Arrow { from, to, .. } | StepKind::Open { from, to } if lane(from) == lane(to) => {
                let w = Font::Label.width(&shorten(&step.label, options.max_label)) + 16.0;
                (lane_x[lane(from)] - w / 2.0, w)
            }
            _ => continue,
        };
        min_left = min_left.min(left);
        content_right = content_right.max(left + width);
    }
    // Shift everything right if something reaches past the gutter.
    let shift = gutter - min_left;
    if shift > 0.0 {
        for x in &mut lane_x {
            *x += shift;
        }
        content_right += shift;
    }
    let annotation_chars = column
        .steps
        .iter()
        .flat_map(|s| s.annotations.iter())
        .map(|a| columns(a).min(options.annotation_width))
        .max()
        .unwrap_or(0);
    let mut width = if annotation_chars > 0 {
        content_right + ANNOTATION_GAP + annotation_chars as f64 * Font::Small.char_width()
    } else {
        content_right
    };
    let title_w = Font::Strong.width(&shorten(&column.title, MAX_TITLE));
    if title_w > width - gutter {
        // A title wider than its ladder: centre the ladder under it.
        let extra = title_w - (width - gutter);
        for x in &mut lane_x {
            *x += extra / 2.0;
        }
        content_right += extra / 2.0;
        width += extra;
    }
    let annotation_x = content_right + ANNOTATION_GAP;
    // A band spans the whole column, but its words stay over the lanes, clear of annotations.
    let band_chars = Font::Label.chars_in(content_right - gutter - 24.0);
    let mut lines = Vec::with_capacity(column.steps.len());
    let mut annotations = Vec::with_capacity(column.steps.len());
    let mut heights = Vec::with_capacity(column.steps.len());
    for step in &column.steps {
        let text_lines = match step.kind {
            StepKind::Note { from, to } => {
                let (_, w) = note_span(&lane_x, &header_w, lane(from), lane(to));
                wrap(&step.label, Font::Label.chars_in(w - 16.0), NOTE_LINES)
            }
            StepKind::Gap(_) => wrap(&step.label, band_chars, NOTE_LINES),
            _ => Vec::new(),
        };
        // Lines of one annotation are close; a little air separates annotations.
        let mut notes: Vec<(f64, String)> = Vec::new();
        let mut ny = 13.0;
        for a in &step.annotations {
            for line in wrap(a, options.annotation_width, ANNOTATION_LINES) {
                notes.push((ny, line));
                ny += SMALL_LINE;
            }
            ny += 4.0;
        }
        let own = match step.kind {
            StepKind::Arrow { .. } if step.detail.is_some() => 54.0,
            StepKind::Arrow { .. } | StepKind::Open { .. } => 40.0,
            StepKind::Note { .. } => 36.0 + (text_lines.len().max(1) - 1) as f64 * LABEL_LINE,
            StepKind::Gap(_) => 35.0 + (text_lines.len().max(1) - 1) as f64 * LABEL_LINE,
        };
        let beside = notes.last().map_or(0.0, |(y, _)| y + 10.0);
        heights.push(own.max(beside));
        lines.push(text_lines);
        annotations.push(notes);
    }
    Laid {
        column,
        x: 0.0,
        width,
        gutter,
        lane_x,
        header_w,
        content_right,
        annotation_x,
        lines,
        annotations,
        heights,
        ys: Vec::new(),
    }
}

/// The diagram of one transcript: a client lane and a server lane.
pub fn sequence(transcript: &Transcript, options: &SequenceOptions) -> Figure {
    let column = Column::from_transcript("", transcript, options);
    ladders(std::slice::from_ref(&column), options)
}

/// Several ladders side by side (in rows of `options.per_row`), each with its own lanes, lined
/// up as `options.align` says.
pub fn ladders(columns_in: &[Column], options: &SequenceOptions) -> Figure {
    let clock = options.align == Align::Clock;
    let mut laid: Vec<Laid> = columns_in.iter().map(|c| lay_out(c, options, !clock)).collect();
    let margin_labels: Vec<String> = columns_in
        .iter()
        .flat_map(|c| c.steps.iter().filter_map(|s| s.time_ms))
        .filter_map(|t| options.time_label(t))
        .collect();
    let shared_gutter = if clock && !margin_labels.is_empty() {
        margin_labels.iter().map(|t| Font::Small.width(t)).fold(0.0, f64::max) + 16.0
    } else {
        0.0
    };
    let per_row = if options.per_row == 0 { laid.len().max(1) } else { options.per_row };
    // Across: each row of ladders starts at the left margin.
    let mut x = PAD + shared_gutter;
    let mut right: f64 = 0.0;
    for (i, column) in laid.iter_mut().enumerate() {
        if i % per_row == 0 {
            x = PAD + shared_gutter;
        } else {
            x += COLUMN_GAP;
        }
        column.x = x;
        x += column.width;
        right = right.max(x);
    }
    let heading = options.heading.as_deref().map(|h| shorten(h, 100));
    let heading_w = heading.as_deref().map_or(0.0, |h| Font::Heading.width(h));
    let nothing = laid.iter().all(|c| c.column.steps.is_empty());
    let nothing_w = if nothing { Font::Label.width(NOTHING) + 16.0 } else { 0.0 };
    let width = (right.max(PAD + shared_gutter) + PAD)
        .max(heading_w + 2.0 * PAD)
        .max(2.0 * PAD + 120.0)
        .max(nothing_w + 2.0 * PAD);
    // Down: each row of ladders is laid out on its own, below the one before.
    let titles = columns_in.iter().any(|c| !c.title.is_empty());
    let mut fig = Figure::new(title(columns_in, options), "");
    let mut y = PAD;
    if let Some(heading) = &heading {
        fig.text(PAD, y + 14.0, Anchor::Start, Font::Heading, Color::Ink, heading.clone());
        y += 26.0;
    }
    let rows = laid.len().div_ceil(per_row).max(1);
    let mut geometry = Vec::with_capacity(rows);
    for row in 0..rows {
        if row > 0 {
            y += ROW_GAP;
        }
        let title_y = y + 13.0;
        if titles {
            y += 24.0;
        }
        let header_y = y;
        let steps_top = header_y + HEADER_H + 12.0;
        let count = laid.len();
        let columns = &mut laid[(row * per_row).min(count)..((row + 1) * per_row).min(count)];
        let mut time_marks: Vec<(f64, u64)> = Vec::new();
        let bottom = if clock {
            place_by_clock(columns, steps_top, &mut time_marks)
        } else {
            place_by_rows(columns, steps_top)
        };
        let bottom = if nothing { bottom + 36.0 } else { bottom };
        let lifeline_end = bottom + 10.0;
        geometry.push(RowGeometry { title_y, header_y, steps_top, lifeline_end, time_marks });
        y = lifeline_end;
    }
    let height = y + PAD;
    fig.set_size(width, height);

    // Lifelines first, so everything else is drawn over them.
    for (i, column) in laid.iter().enumerate() {
        let row = &geometry[i / per_row];
        for &lx in &column.lane_x {
            fig.line(
                (column.x + lx, row.header_y + HEADER_H),
                (column.x + lx, row.lifeline_end),
                Stroke::dashed(Color::Faint, 1.0, "3 3"),
            );
        }
        if i % per_row > 0 {
            let sep = column.x - COLUMN_GAP / 2.0;
            fig.line(
                (sep, row.header_y - if titles { 18.0 } else { 0.0 }),
                (sep, row.lifeline_end),
                Stroke::solid(Color::Frame, 1.0),
            );
        }
    }
    for pair in geometry.windows(2) {
        let between = (pair[0].lifeline_end + pair[1].title_y - 13.0) / 2.0;
        fig.line((PAD, between), (width - PAD, between), Stroke::solid(Color::Frame, 1.0));
    }
    // The shared time axis, in every row.
    for row in &geometry {
        for &(ty, ms) in &row.time_marks {
            let Some(label) = options.time_label(ms) else { continue };
            fig.text(PAD + shared_gutter - 8.0, ty + 13.0, Anchor::End, Font::Small, Color::Muted, label);
            fig.line(
                (PAD + shared_gutter - 4.0, ty + 1.0),
                (width - PAD, ty + 1.0),
                Stroke::dashed(Color::Faint, 0.75, "1 3"),
            );
        }
    }
    for (i, column) in laid.iter().enumerate() {
        let row = &geometry[i / per_row];
        draw_column(&mut fig, column, options, row.title_y, row.header_y, titles, row.lifeline_end);
    }
    if nothing {
        let top = geometry.first().map_or(PAD, |g| g.steps_top);
        fig.label(width / 2.0, top + 18.0, Anchor::Middle, Font::Label, Color::Muted, NOTHING);
    }
    fig.set_desc(describe(columns_in, options));
    fig
}

/// Where one row of ladders is, down the page.
struct RowGeometry {
    /// The baseline of the column titles.
    title_y: f64,
    /// The top of the lane headers.
    header_y: f64,
    /// The top of the first step.
    steps_top: f64,
    /// Where the lifelines end.
    lifeline_end: f64,
    /// The times marked in the margin (clock alignment): the top of their steps, and the time.
    time_marks: Vec<(f64, u64)>,
}

/// Row *n* of every column at one height. Returns the bottom of the last row.
fn place_by_rows(laid: &mut [Laid], top: f64) -> f64 {
    let rows = laid.iter().map(|c| c.heights.len()).max().unwrap_or(0);
    let mut y = top;
    for column in laid.iter_mut() {
        column.ys = Vec::with_capacity(column.heights.len());
    }
    for row in 0..rows {
        let h = laid.iter().filter_map(|c| c.heights.get(row)).fold(0.0, |a: f64, b| a.max(*b));
        for column in laid.iter_mut() {
            if row < column.heights.len() {
                column.ys.push(y);
            }
        }
        y += h;
    }
    y
}

/// Steps at one clock time at one height across columns. Returns the bottom.
fn place_by_clock(laid: &mut [Laid], top: f64, marks: &mut Vec<(f64, u64)>) -> f64 {
    let mut keys: Vec<Option<u64>> =
        laid.iter().flat_map(|c| c.column.steps.iter().map(|s| s.time_ms)).collect();
    keys.sort_unstable();
    keys.dedup();
    for column in laid.iter_mut() {
        column.ys = vec![0.0; column.heights.len()];
    }
    let mut y = top;
    for key in keys {
        if let Some(ms) = key {
            marks.push((y, ms));
        }
        let mut tallest: f64 = 0.0;
        for column in laid.iter_mut() {
            let mut cy = y;
            for (i, step) in column.column.steps.iter().enumerate() {
                if step.time_ms == key {
                    column.ys[i] = cy;
                    cy += column.heights[i];
                }
            }
            tallest = tallest.max(cy - y);
        }
        // A little air between moments, so each time mark has room.
        y += tallest.max(16.0) + 4.0;
    }
    y
}

fn tone_color(tone: Tone) -> Color {
    match tone {
        Tone::Message => Color::Message,
        Tone::Control => Color::Control,
        Tone::Transport => Color::Transport,
        Tone::Problem => Color::Problem,
    }
}

fn tone_stroke(tone: Tone) -> Stroke {
    match tone {
        Tone::Transport => Stroke::dashed(Color::Transport, 1.25, "5 3"),
        other => Stroke::solid(tone_color(other), 1.5),
    }
}

/// An arrowhead with its tip at `tip`, pointing along `from` → `tip`. Returns where the shaft
/// should stop, so the line does not poke through the point.
fn arrowhead(fig: &mut Figure, from: (f64, f64), tip: (f64, f64), color: Color) -> (f64, f64) {
    let (dx, dy) = (tip.0 - from.0, tip.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let base = (tip.0 - 9.0 * ux, tip.1 - 9.0 * uy);
    let (px, py) = (-uy * 4.5, ux * 4.5);
    fig.polygon(vec![tip, (base.0 + px, base.1 + py), (base.0 - px, base.1 - py)], color);
    base
}

fn cross(fig: &mut Figure, at: (f64, f64)) {
    let r = 5.0;
    let stroke = Stroke::solid(Color::Problem, 2.0);
    fig.line((at.0 - r, at.1 - r), (at.0 + r, at.1 + r), stroke);
    fig.line((at.0 - r, at.1 + r), (at.0 + r, at.1 - r), stroke);
}

/// Draws one column; `end` is where the lifelines end.
fn draw_column(
    fig: &mut Figure,
    column: &Laid,
    options: &SequenceOptions,
    title_y: f64,
    header_y: f64,
    titles: bool,
    end: f64,
) {
    let cx = column.x;
    let last = column.lane_x.len() - 1;
    let lane = |i: usize| cx + column.lane_x[i.min(last)];
    if titles && !column.column.title.is_empty() {
        let middle = (lane(0) + lane(last)) / 2.0;
        fig.text(
            middle,
            title_y,
            Anchor::Middle,
            Font::Strong,
            Color::Ink,
            shorten(&column.column.title, MAX_TITLE),
        );
    }
    for (i, &w) in column.header_w.iter().enumerate() {
        let name = column.column.lanes.get(i).map_or("", String::as_str);
        let x = lane(i);
        fig.rect(
            BBox::new(x - w / 2.0, header_y, w, HEADER_H),
            5.0,
            Some(Color::Note),
            Some(Stroke::solid(Color::Frame, 1.0)),
        );
        fig.text(x, header_y + 17.0, Anchor::Middle, Font::Strong, Color::Ink, shorten(name, MAX_LANE));
    }
    let left = cx + column.gutter;
    let right = cx + column.width;
    // Holds: bars on the lifeline, under the arrows that start and end at them.
    let steps = column.column.steps.len();
    let holds: Vec<&Hold> =
        column.column.holds.iter().filter(|h| h.from <= h.to && h.to < steps && h.lane <= last).collect();
    for h in &holds {
        let top = column.ys[h.from] + 20.0 + SLANT;
        // A request nobody answered is still held when the recording ends.
        let bottom = if h.answered { column.ys[h.to] + 20.0 } else { end - 4.0 };
        if bottom > top {
            let stroke = if h.answered {
                Stroke::solid(Color::Message, 1.0)
            } else {
                Stroke::dashed(Color::Message, 1.0, "3 2")
            };
            fig.rect(
                BBox::new(lane(h.lane) - HOLD_W / 2.0, top, HOLD_W, bottom - top),
                0.0,
                Some(Color::Note),
                Some(stroke),
            );
        }
    }
    let held = |lane_index: usize, step: usize| {
        holds.iter().any(|h| h.lane == lane_index.min(last) && h.from <= step && step <= h.to)
    };
    let mut last_time = None;
    for (i, step) in column.column.steps.iter().enumerate() {
        let y0 = column.ys[i];
        if column.gutter > 0.0
            && step.time_ms != last_time
            && let Some(ms) = step.time_ms
            && let Some(time) = options.time_label(ms)
        {
            fig.text(cx + column.gutter - 6.0, y0 + 13.0, Anchor::End, Font::Small, Color::Muted, time);
            if last_time.is_some() {
                fig.line((left, y0 + 1.0), (right, y0 + 1.0), Stroke::dashed(Color::Faint, 0.75, "1 3"));
            }
        }
        last_time = step.time_ms.or(last_time);
        let label = shorten(&step.label, options.max_label);
        let color = tone_color(step.tone);
        match step.kind {
            StepKind::Arrow { from, to, lost } if from.min(last) != to.min(last) => {
                let (x1, x2) = (lane(from), lane(to));
                let dir = if x2 > x1 { 1.0 } else { -1.0 };
                // An arrow starts and ends at the edge of a hold's bar, or at the lifeline.
                let inset = |lane_index| if held(lane_index, i) { HOLD_W / 2.0 } else { 1.5 };
                let start = (x1 + dir * inset(from), y0 + 20.0);
                let end = (x2 - dir * inset(to), y0 + 20.0 + SLANT);
                if lost {
                    let t = 0.6;
                    let stop = (start.0 + (end.0 - start.0) * t, start.1 + (end.1 - start.1) * t);
                    fig.line(start, stop, tone_stroke(step.tone));
                    cross(fig, stop);
                } else {
                    let base = arrowhead(fig, start, end, color);
                    fig.line(start, base, tone_stroke(step.tone));
                }
                let middle = (x1 + x2) / 2.0;
                fig.label(middle, y0 + 13.0, Anchor::Middle, Font::Label, color, label);
                if let Some(detail) = &step.detail {
                    fig.label(
                        middle,
                        y0 + 41.0,
                        Anchor::Middle,
                        Font::Small,
                        Color::Muted,
                        shorten_detail(detail, options.max_label),
                    );
                }
            }
            // An arrow from a lane to itself: something that lane did, written on its lifeline.
            StepKind::Arrow { from, .. } => {
                fig.label(lane(from), y0 + 13.0, Anchor::Middle, Font::Label, color, label);
            }
            StepKind::Open { from, to } => {
                let (x1, x2) = (lane(from), lane(to));
                if from.min(last) != to.min(last) {
                    let dir = if x2 > x1 { 1.0 } else { -1.0 };
                    let y = y0 + 22.0;
                    let a = arrowhead(fig, (x2, y), (x1 + dir * 1.5, y), Color::Transport);
                    let b = arrowhead(fig, (x1, y), (x2 - dir * 1.5, y), Color::Transport);
                    fig.line(a, b, tone_stroke(Tone::Transport));
                }
                fig.label((x1 + x2) / 2.0, y0 + 13.0, Anchor::Middle, Font::Label, Color::Transport, label);
            }
            StepKind::Note { from, to } => {
                let (a, b) = lane_pair(from.min(last), to.min(last));
                let lines = &column.lines[i];
                let text_w = lines.iter().map(|l| Font::Label.width(l)).fold(0.0, f64::max);
                let middle = (lane(a) + lane(b)) / 2.0;
                let w = text_w + 16.0;
                let h = lines.len() as f64 * LABEL_LINE + 8.0;
                fig.rect(
                    BBox::new(middle - w / 2.0, y0 + 4.0, w, h),
                    4.0,
                    Some(Color::Note),
                    Some(Stroke::solid(Color::Frame, 1.0)),
                );
                for (k, line) in lines.iter().enumerate() {
                    fig.text(
                        middle,
                        y0 + 19.0 + k as f64 * LABEL_LINE,
                        Anchor::Middle,
                        Font::Label,
                        Color::Ink,
                        line.clone(),
                    );
                }
            }
            StepKind::Gap(kind) => {
                let lines = &column.lines[i];
                let h = column.heights[i] - 8.0;
                let (fill, stroke, ink) = match kind {
                    GapKind::Cut => {
                        (Color::ProblemBand, Stroke::dashed(Color::Problem, 1.25, "6 3"), Color::Problem)
                    }
                    GapKind::Blackhole | GapKind::Other => {
                        (Color::Band, Stroke::dashed(Color::Muted, 1.0, "6 3"), Color::Ink)
                    }
                };
                fig.rect(
                    BBox::new(left + 2.0, y0 + 4.0, right - left - 4.0, h),
                    3.0,
                    Some(fill),
                    Some(stroke),
                );
                let middle = (left + cx + column.content_right) / 2.0;
                for (k, line) in lines.iter().enumerate() {
                    fig.text(
                        middle,
                        y0 + 21.0 + k as f64 * LABEL_LINE,
                        Anchor::Middle,
                        Font::Label,
                        ink,
                        line.clone(),
                    );
                }
            }
        }
        // Annotations beside the step, with a dotted leader from the last lane.
        let notes = &column.annotations[i];
        if !notes.is_empty() {
            let ax = cx + column.annotation_x;
            if !matches!(step.kind, StepKind::Gap(_)) {
                fig.line(
                    (cx + column.content_right - 2.0, y0 + 9.0),
                    (ax - 4.0, y0 + 9.0),
                    Stroke::dashed(Color::Faint, 1.0, "1 2"),
                );
            }
            for (dy, line) in notes {
                fig.text(ax, y0 + dy, Anchor::Start, Font::Small, Color::Muted, line.clone());
            }
        }
    }
}

/// The figure's accessible name.
fn title(columns_in: &[Column], options: &SequenceOptions) -> String {
    if let Some(title) = &options.title {
        return title.clone();
    }
    match columns_in {
        [] => "An empty sequence diagram".to_owned(),
        [one] => {
            let arrows = one.steps.iter().filter(|s| matches!(s.kind, StepKind::Arrow { .. })).count();
            format!("Sequence diagram between {}: {}", join_and(&one.lanes), plural(arrows, "message"))
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .enumerate()
                .map(|(i, c)| if c.title.is_empty() { format!("column {}", i + 1) } else { c.title.clone() })
                .collect();
            format!("{} sequence diagrams side by side: {}", many.len(), join_and(&names))
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The text alternative: what the picture shows, step by step, labels whole.
fn describe(columns_in: &[Column], options: &SequenceOptions) -> String {
    let mut out = String::from(
        "Time runs down the page; each arrow is one message on the wire, labelled as the transcript names it. \
         An arrow that ends in a cross never arrived.\n",
    );
    if options.align == Align::Clock && columns_in.len() > 1 {
        if options.moments.is_empty() {
            out.push_str("Steps at the same height happened at the same time on the virtual clock.\n");
        } else {
            let names: Vec<String> = options.moments.iter().filter(|m| !m.is_empty()).cloned().collect();
            out.push_str(&format!(
                "Steps at the same height happened after the same moment of the script; the margin names the moments: {}.\n",
                join_and(&names)
            ));
        }
    }
    for (c, column) in columns_in.iter().enumerate() {
        let name = if column.title.is_empty() { format!("Column {}", c + 1) } else { column.title.clone() };
        if columns_in.len() > 1 || !column.title.is_empty() {
            out.push_str(&format!("{name} (lanes: {}):\n", column.lanes.join(", ")));
        }
        if column.steps.is_empty() {
            out.push_str(NOTHING);
            out.push('\n');
        }
        let lane = |i: usize| column.lanes.get(i).cloned().unwrap_or_else(|| format!("lane {}", i + 1));
        let mut last_time = None;
        for (i, step) in column.steps.iter().enumerate() {
            let mut line = format!("{}. ", i + 1);
            if step.time_ms != last_time
                && let Some(ms) = step.time_ms
                && let Some(time) = options.time_label(ms)
            {
                line.push_str(&format!("[{time}] "));
            }
            last_time = step.time_ms.or(last_time);
            match step.kind {
                StepKind::Arrow { from, to, lost } => {
                    line.push_str(&format!("{} → {}: {}", lane(from), lane(to), step.label));
                    if let Some(detail) = &step.detail {
                        line.push_str(&format!(" ({detail})"));
                    }
                    if lost {
                        line.push_str(", never arrives");
                    }
                }
                StepKind::Open { from, to } => {
                    line.push_str(&format!("{} between {} and {}", step.label, lane(from), lane(to)));
                }
                StepKind::Note { .. } => line.push_str(&format!("note: {}", step.label)),
                StepKind::Gap(GapKind::Blackhole) => line.push_str(&format!("blackhole: {}", step.label)),
                StepKind::Gap(GapKind::Cut) => line.push_str(&format!("cut: {}", step.label)),
                StepKind::Gap(GapKind::Other) => line.push_str(&format!("break: {}", step.label)),
            }
            for note in &step.annotations {
                line.push_str(&format!(" [{note}]"));
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// A detail cut to `max` columns, keeping its last part (the bytes) whole: `"[{"id":1,…" · 63 B`.
fn shorten_detail(detail: &str, max: usize) -> String {
    if columns(detail) <= max {
        return detail.to_owned();
    }
    match detail.rsplit_once(" · ") {
        Some((head, tail)) if columns(tail) + 4 < max => {
            format!("{} · {tail}", shorten(head, max - columns(tail) - 3))
        }
        _ => shorten(detail, max),
    }
}
