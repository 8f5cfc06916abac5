//! The drawing surface every figure shares: shapes and text placed at computed positions, the
//! box each one covers, and the SVG text they become.
//!
//! Nothing here measures a font. Text is monospace and every character is taken to be
//! [`CHAR_WIDTH`] em wide (two for the wide characters of CJK scripts and emoji), so a layout is
//! pure arithmetic and the same on every machine. The monospace fonts the figures ask for
//! (SF Mono, Menlo, Consolas, DejaVu Sans Mono, Liberation Mono) are all 0.6 em wide or a little
//! narrower, so real text never runs past the box it was given.

use std::fmt::Write as _;

/// Width of one monospace character, in em. DejaVu Sans Mono, Menlo and Liberation Mono are
/// 0.600–0.602 em; Consolas 0.55.
pub const CHAR_WIDTH: f64 = 0.6;

/// The font stack: the platform's monospace first, then the common ones, all about 0.6 em wide.
pub const FONT_FAMILY: &str =
    "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace";

/// Above the baseline, in em, that a text box reaches (capitals and ascenders).
const ASCENT: f64 = 0.8;
/// Below the baseline, in em (descenders).
const DESCENT: f64 = 0.22;

/// A rectangle: where something was drawn, in SVG user units (pixels at scale 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BBox {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl BBox {
    /// A box from its left, top, width and height.
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> BBox {
        BBox { x, y, w, h }
    }

    /// The smallest box holding both points.
    pub fn spanning(a: (f64, f64), b: (f64, f64)) -> BBox {
        let (x0, x1) = if a.0 <= b.0 { (a.0, b.0) } else { (b.0, a.0) };
        let (y0, y1) = if a.1 <= b.1 { (a.1, b.1) } else { (b.1, a.1) };
        BBox::new(x0, y0, x1 - x0, y1 - y0)
    }

    /// The right edge.
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    /// The bottom edge.
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// The same box grown by `by` on every side.
    pub fn grown(&self, by: f64) -> BBox {
        BBox::new(self.x - by, self.y - by, self.w + 2.0 * by, self.h + 2.0 * by)
    }

    /// Whether the two boxes share some area (touching edges do not count).
    pub fn overlaps(&self, other: &BBox) -> bool {
        // A hundredth of a pixel of slack: boxes computed to touch must not count as overlapping
        // because of rounding.
        const SLACK: f64 = 0.01;
        self.x + SLACK < other.right()
            && other.x + SLACK < self.right()
            && self.y + SLACK < other.bottom()
            && other.y + SLACK < self.bottom()
    }

    /// Whether `other` lies inside this box.
    pub fn contains(&self, other: &BBox) -> bool {
        const SLACK: f64 = 0.01;
        other.x >= self.x - SLACK
            && other.y >= self.y - SLACK
            && other.right() <= self.right() + SLACK
            && other.bottom() <= self.bottom() + SLACK
    }
}

/// What a placed element is, for the layout checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlacedKind {
    /// A line of text: no two may overlap.
    Text,
    /// A line, box, arrowhead or curve: shapes may cross each other and lie under text.
    Shape,
}

/// One element a renderer placed, with the box it covers.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    /// Text or shape.
    pub kind: PlacedKind,
    /// Where it is.
    pub bbox: BBox,
    /// The text, for a text element (so a failing check can say which labels collide).
    pub text: Option<String>,
}

/// The sizes of text the figures use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Font {
    /// Arrow labels, field names, states: 12 px.
    Label,
    /// Details under arrows, annotations, times, bit digits: 10.5 px.
    Small,
    /// Lane names and column titles: 12 px bold.
    Strong,
    /// A figure's heading: 14 px bold.
    Heading,
}

impl Font {
    pub(crate) fn size(self) -> f64 {
        match self {
            Font::Label | Font::Strong => 12.0,
            Font::Small => 10.5,
            Font::Heading => 14.0,
        }
    }

    /// Width of one character.
    pub(crate) fn char_width(self) -> f64 {
        self.size() * CHAR_WIDTH
    }

    /// Width of `text` set in this font.
    pub(crate) fn width(self, text: &str) -> f64 {
        columns(text) as f64 * self.char_width()
    }

    /// How many characters fit in `px`.
    pub(crate) fn chars_in(self, px: f64) -> usize {
        if px <= 0.0 { 0 } else { (px / self.char_width()).floor() as usize }
    }

    fn class(self) -> &'static str {
        match self {
            Font::Label => "dxf-label",
            Font::Small => "dxf-small",
            Font::Strong => "dxf-strong",
            Font::Heading => "dxf-heading",
        }
    }
}

/// The colours of the figures, each a CSS custom property with a default (see the module docs
/// of [`crate::figure`] for why the defaults are a light card).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Color {
    /// The card's background.
    Bg,
    /// The card's border.
    Frame,
    /// Body text.
    Ink,
    /// Secondary text: details, times, annotations.
    Muted,
    /// Lifelines, rules, grid lines.
    Faint,
    /// HTTP heads, data frames and bytes: the messages themselves.
    Message,
    /// WebSocket control frames: ping, pong, close.
    Control,
    /// TCP's own events: the connection opening, FIN.
    Transport,
    /// What went wrong: resets, lost bytes, cuts, undecodable bytes.
    Problem,
    /// The fill of a note, a lane header, a field.
    Note,
    /// The fill of a band across the diagram (a blackhole).
    Band,
    /// The fill of a band that marks a failure (a cut).
    ProblemBand,
}

impl Color {
    const ALL: [Color; 12] = [
        Color::Bg,
        Color::Frame,
        Color::Ink,
        Color::Muted,
        Color::Faint,
        Color::Message,
        Color::Control,
        Color::Transport,
        Color::Problem,
        Color::Note,
        Color::Band,
        Color::ProblemBand,
    ];

    fn name(self) -> &'static str {
        match self {
            Color::Bg => "bg",
            Color::Frame => "frame",
            Color::Ink => "ink",
            Color::Muted => "muted",
            Color::Faint => "faint",
            Color::Message => "message",
            Color::Control => "control",
            Color::Transport => "transport",
            Color::Problem => "problem",
            Color::Note => "note",
            Color::Band => "band",
            Color::ProblemBand => "problem-band",
        }
    }

    /// The default: dark ink on a warm white card. Every text colour has a contrast of at least
    /// 4.5:1 on the background (WCAG AA).
    fn default_value(self) -> &'static str {
        match self {
            Color::Bg => "#fbfaf6",
            Color::Frame => "#d5d1c6",
            Color::Ink => "#1f2328",
            Color::Muted => "#555b63",
            Color::Faint => "#b4b0a6",
            Color::Message => "#1d4f8c",
            Color::Control => "#7a4607",
            Color::Transport => "#4f5660",
            Color::Problem => "#b3261e",
            Color::Note => "#efece3",
            Color::Band => "#e6e3da",
            Color::ProblemBand => "#f8e4e1",
        }
    }
}

/// Where a text's `x` is: its start, middle or end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

/// How a line or outline is stroked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stroke {
    pub color: Color,
    pub width: f64,
    /// Dashes and gaps, in pixels, for a dashed line.
    pub dash: Option<&'static str>,
}

impl Stroke {
    pub(crate) fn solid(color: Color, width: f64) -> Stroke {
        Stroke { color, width, dash: None }
    }

    pub(crate) fn dashed(color: Color, width: f64, dash: &'static str) -> Stroke {
        Stroke { color, width, dash: Some(dash) }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Item {
    Rect { bbox: BBox, rx: f64, fill: Option<Color>, stroke: Option<Stroke> },
    Line { from: (f64, f64), to: (f64, f64), stroke: Stroke },
    Path { d: String, bbox: BBox, fill: Option<Color>, stroke: Option<Stroke> },
    Polygon { points: Vec<(f64, f64)>, fill: Color },
    Text { x: f64, y: f64, anchor: Anchor, font: Font, color: Color, halo: bool, text: String },
}

/// A finished figure: its size, its text alternative and what was drawn where. [`Figure::svg`]
/// writes it out; [`Figure::placed`] and [`Figure::check_layout`] are for tests.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    width: f64,
    height: f64,
    title: String,
    desc: String,
    items: Vec<Item>,
}

/// What is wrong with a figure's layout: each problem on its own line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the figure \"{title}\" has {} layout problem(s):\n{}", .problems.len(), .problems.join("\n"))]
pub struct LayoutError {
    /// The figure's title.
    pub title: String,
    /// One sentence per problem: which labels overlap, what lies outside the picture.
    pub problems: Vec<String>,
}

impl Figure {
    pub(crate) fn new(title: impl Into<String>, desc: impl Into<String>) -> Figure {
        Figure { width: 0.0, height: 0.0, title: title.into(), desc: desc.into(), items: Vec::new() }
    }

    pub(crate) fn set_size(&mut self, width: f64, height: f64) {
        self.width = width.ceil();
        self.height = height.ceil();
    }

    pub(crate) fn set_desc(&mut self, desc: impl Into<String>) {
        self.desc = desc.into();
    }

    /// The width and height of the picture (its `viewBox`), in pixels.
    pub fn size(&self) -> (f64, f64) {
        (self.width, self.height)
    }

    /// The figure's `<title>`: its name, for a screen reader.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The figure's `<desc>`: everything it shows, as text.
    pub fn desc(&self) -> &str {
        &self.desc
    }

    pub(crate) fn rect(&mut self, bbox: BBox, rx: f64, fill: Option<Color>, stroke: Option<Stroke>) {
        self.items.push(Item::Rect { bbox, rx, fill, stroke });
    }

    pub(crate) fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: Stroke) {
        self.items.push(Item::Line { from, to, stroke });
    }

    /// A path; `bbox` must hold it (for a curve, the box of its control points does).
    pub(crate) fn path(&mut self, d: String, bbox: BBox, fill: Option<Color>, stroke: Option<Stroke>) {
        self.items.push(Item::Path { d, bbox, fill, stroke });
    }

    pub(crate) fn polygon(&mut self, points: Vec<(f64, f64)>, fill: Color) {
        self.items.push(Item::Polygon { points, fill });
    }

    /// One line of text with its baseline at `y`.
    pub(crate) fn text(
        &mut self,
        x: f64,
        y: f64,
        anchor: Anchor,
        font: Font,
        color: Color,
        text: impl Into<String>,
    ) {
        self.push_text((x, y, anchor), font, color, false, text.into());
    }

    /// A label: text with a halo (a stroke in the background colour behind the letters) that
    /// keeps it legible where it crosses a line.
    pub(crate) fn label(
        &mut self,
        x: f64,
        y: f64,
        anchor: Anchor,
        font: Font,
        color: Color,
        text: impl Into<String>,
    ) {
        self.push_text((x, y, anchor), font, color, true, text.into());
    }

    fn push_text(
        &mut self,
        (x, y, anchor): (f64, f64, Anchor),
        font: Font,
        color: Color,
        halo: bool,
        text: String,
    ) {
        if text.is_empty() {
            return;
        }
        self.items.push(Item::Text { x, y, anchor, font, color, halo, text });
    }

    /// Every element with the box it covers, in drawing order.
    pub fn placed(&self) -> Vec<Placed> {
        self.items.iter().map(placed).collect()
    }

    /// What is wrong with the layout: two lines of text that overlap, anything outside the
    /// picture. Empty when the figure is fine.
    pub fn layout_problems(&self) -> Vec<String> {
        let placed = self.placed();
        let view = BBox::new(0.0, 0.0, self.width, self.height);
        let mut problems = Vec::new();
        for p in &placed {
            if !view.contains(&p.bbox) {
                problems.push(format!(
                    "{} at {} lies outside the picture ({} × {})",
                    describe(p),
                    describe_box(&p.bbox),
                    num(self.width),
                    num(self.height)
                ));
            }
        }
        let texts: Vec<&Placed> = placed.iter().filter(|p| p.kind == PlacedKind::Text).collect();
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                if a.bbox.overlaps(&b.bbox) {
                    problems.push(format!(
                        "{} at {} overlaps {} at {}",
                        describe(a),
                        describe_box(&a.bbox),
                        describe(b),
                        describe_box(&b.bbox)
                    ));
                }
            }
        }
        problems
    }

    /// `Ok` when no two lines of text overlap and everything lies inside the picture.
    pub fn check_layout(&self) -> Result<(), LayoutError> {
        let problems = self.layout_problems();
        if problems.is_empty() { Ok(()) } else { Err(LayoutError { title: self.title.clone(), problems }) }
    }

    /// The figure as a standalone SVG document. The same figure always gives the same bytes.
    pub fn svg(&self) -> String {
        let mut out = String::new();
        let (w, h) = (num(self.width), num(self.height));
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"dxf\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
             height=\"{h}\" role=\"img\" font-family=\"{}\" style=\"max-width:100%;height:auto\">",
            escape(FONT_FAMILY)
        );
        let _ = writeln!(out, "<title>{}</title>", escape_text(&self.title));
        // No empty line anywhere: an SVG included inline in a Markdown page would end the HTML
        // block at the first one.
        let desc: Vec<&str> = self.desc.lines().filter(|l| !l.trim().is_empty()).collect();
        let _ = writeln!(out, "<desc>{}</desc>", escape_text(&desc.join("\n")));
        out.push_str(&style_sheet());
        let card = BBox::new(0.5, 0.5, self.width - 1.0, self.height - 1.0);
        write_item(
            &mut out,
            &Item::Rect {
                bbox: card,
                rx: 8.0,
                fill: Some(Color::Bg),
                stroke: Some(Stroke::solid(Color::Frame, 1.0)),
            },
        );
        for item in &self.items {
            write_item(&mut out, item);
        }
        out.push_str("</svg>\n");
        out
    }
}

fn describe(p: &Placed) -> String {
    match &p.text {
        Some(text) => format!("text {text:?}"),
        None => "a shape".to_owned(),
    }
}

fn describe_box(b: &BBox) -> String {
    format!("({}, {}, {} × {})", num(b.x), num(b.y), num(b.w), num(b.h))
}

fn placed(item: &Item) -> Placed {
    let shape = |bbox| Placed { kind: PlacedKind::Shape, bbox, text: None };
    match item {
        Item::Rect { bbox, stroke, .. } => shape(bbox.grown(stroke.map_or(0.0, |s| s.width / 2.0))),
        Item::Line { from, to, stroke } => shape(BBox::spanning(*from, *to).grown(stroke.width / 2.0)),
        Item::Path { bbox, stroke, .. } => shape(bbox.grown(stroke.map_or(0.0, |s| s.width / 2.0))),
        Item::Polygon { points, .. } => {
            let first = points.first().copied().unwrap_or((0.0, 0.0));
            let bbox = points.iter().fold(BBox::spanning(first, first), |b, p| {
                BBox::spanning((b.x.min(p.0), b.y.min(p.1)), (b.right().max(p.0), b.bottom().max(p.1)))
            });
            shape(bbox)
        }
        Item::Text { x, y, anchor, font, text, .. } => {
            let w = font.width(text);
            let left = match anchor {
                Anchor::Start => *x,
                Anchor::Middle => x - w / 2.0,
                Anchor::End => x - w,
            };
            let size = font.size();
            Placed {
                kind: PlacedKind::Text,
                bbox: BBox::new(left, y - ASCENT * size, w, (ASCENT + DESCENT) * size),
                text: Some(text.clone()),
            }
        }
    }
}

fn style_sheet() -> String {
    // Class names start with `dxf-`: a <style> inside an SVG that is inlined in a page applies to
    // the whole page, so the names must not collide with the book's own.
    let mut css = String::from("<style>\n");
    for color in Color::ALL {
        let (name, value) = (color.name(), color.default_value());
        let _ = writeln!(
            css,
            ".dxf-f-{name}{{fill:var(--dxf-{name},{value})}}.dxf-s-{name}{{stroke:var(--dxf-{name},{value})}}"
        );
    }
    let _ = writeln!(
        css,
        ".dxf-label{{font-size:12px}}.dxf-small{{font-size:10.5px}}\
         .dxf-strong{{font-size:12px;font-weight:bold}}.dxf-heading{{font-size:14px;font-weight:bold}}"
    );
    let _ = writeln!(
        css,
        ".dxf-halo{{paint-order:stroke;stroke:var(--dxf-bg,{});stroke-width:3px;stroke-linejoin:round}}",
        Color::Bg.default_value()
    );
    css.push_str("</style>\n");
    css
}

fn stroke_attrs(stroke: &Stroke) -> String {
    let mut out = format!(" class=\"dxf-s-{}\" stroke-width=\"{}\"", stroke.color.name(), num(stroke.width));
    if let Some(dash) = stroke.dash {
        let _ = write!(out, " stroke-dasharray=\"{dash}\"");
    }
    out
}

fn paint_attrs(fill: Option<Color>, stroke: Option<Stroke>) -> String {
    // Fill and stroke each get a class; both classes go in one attribute.
    let mut classes = Vec::new();
    let mut extra = String::new();
    match fill {
        Some(color) => classes.push(format!("dxf-f-{}", color.name())),
        None => extra.push_str(" fill=\"none\""),
    }
    if let Some(stroke) = stroke {
        classes.push(format!("dxf-s-{}", stroke.color.name()));
        let _ = write!(extra, " stroke-width=\"{}\"", num(stroke.width));
        if let Some(dash) = stroke.dash {
            let _ = write!(extra, " stroke-dasharray=\"{dash}\"");
        }
    }
    format!(" class=\"{}\"{extra}", classes.join(" "))
}

fn write_item(out: &mut String, item: &Item) {
    match item {
        Item::Rect { bbox, rx, fill, stroke } => {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
                num(bbox.x),
                num(bbox.y),
                num(bbox.w),
                num(bbox.h)
            );
            if *rx > 0.0 {
                let _ = write!(out, " rx=\"{}\"", num(*rx));
            }
            let _ = writeln!(out, "{}/>", paint_attrs(*fill, *stroke));
        }
        Item::Line { from, to, stroke } => {
            let _ = writeln!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"{}/>",
                num(from.0),
                num(from.1),
                num(to.0),
                num(to.1),
                stroke_attrs(stroke)
            );
        }
        Item::Path { d, fill, stroke, .. } => {
            let _ = writeln!(out, "<path d=\"{d}\"{}/>", paint_attrs(*fill, *stroke));
        }
        Item::Polygon { points, fill } => {
            let pts: Vec<String> = points.iter().map(|(x, y)| format!("{},{}", num(*x), num(*y))).collect();
            let _ = writeln!(out, "<polygon points=\"{}\" class=\"dxf-f-{}\"/>", pts.join(" "), fill.name());
        }
        Item::Text { x, y, anchor, font, color, halo, text } => {
            let mut classes = vec![font.class().to_owned(), format!("dxf-f-{}", color.name())];
            if *halo {
                classes.push("dxf-halo".to_owned());
            }
            let anchor = match anchor {
                Anchor::Start => "",
                Anchor::Middle => " text-anchor=\"middle\"",
                Anchor::End => " text-anchor=\"end\"",
            };
            // `xml:space` is deprecated; white-space is kept by replacing runs of spaces with
            // no-break spaces, which every renderer keeps and which are as wide as a space.
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\"{anchor} class=\"{}\">{}</text>",
                num(*x),
                num(*y),
                classes.join(" "),
                escape_text(&keep_spaces(text))
            );
        }
    }
}

/// Spaces after the first in a run become no-break spaces, so SVG does not collapse them.
fn keep_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous_space = true;
    for c in text.chars() {
        if c == ' ' {
            out.push(if previous_space { '\u{a0}' } else { ' ' });
            previous_space = true;
        } else {
            out.push(c);
            previous_space = false;
        }
    }
    out
}

/// A number as the SVG writes it: rounded to a tenth, without a trailing `.0`, never `-0`.
pub(crate) fn num(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        let sign = if tenths < 0 { "-" } else { "" };
        let t = tenths.unsigned_abs();
        format!("{sign}{}.{}", t / 10, t % 10)
    }
}

/// Text made safe for an XML attribute value in double quotes.
pub(crate) fn escape(text: &str) -> String {
    escape_text(text).replace('"', "&quot;")
}

/// Text made safe for XML content. Quotes stay as they are, so the SVG reads like the label.
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // XML 1.0 forbids most control characters even escaped; labels never need them.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// How many monospace columns `text` takes: 2 for wide characters (CJK, Hangul, fullwidth forms,
/// emoji), 1 for the rest.
pub(crate) fn columns(text: &str) -> usize {
    text.chars().map(char_columns).sum()
}

fn char_columns(c: char) -> usize {
    let c = c as u32;
    let wide = matches!(c,
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd);
    if wide { 2 } else { 1 }
}

/// `text` cut to at most `max` columns, ending in `…` when something was cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if columns(text) <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_columns(c);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `text` broken into lines of at most `width` columns, at spaces where it can be; at most
/// `max_lines` lines, the last ending in `…` if text was left over.
pub(crate) fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let width = width.max(4);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_owned();
        loop {
            let sep = usize::from(!line.is_empty());
            if columns(&line) + sep + columns(&word) <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a line: break it.
            let mut head = String::new();
            let mut used = 0;
            let mut rest = word.chars().peekable();
            while let Some(&c) = rest.peek() {
                if used + char_columns(c) > width {
                    break;
                }
                head.push(c);
                used += char_columns(c);
                rest.next();
            }
            lines.push(head);
            word = rest.collect();
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max_lines.max(1) {
        let keep = max_lines.max(1);
        let last = format!("{} …", lines[keep - 1]);
        lines.truncate(keep - 1);
        lines.push(shorten(&last, width));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_to_a_tenth_without_trailing_zeros() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(3.04), "3");
        assert_eq!(num(3.05), "3.1");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(-2.5), "-2.5");
        assert_eq!(num(0.5), "0.5");
    }

    #[test]
    fn long_text_is_shortened_with_an_ellipsis_to_the_width_asked() {
        assert_eq!(shorten("hello", 5), "hello");
        assert_eq!(shorten("hello, world", 6), "hello…");
        assert_eq!(columns(&shorten("你好世界你好", 5)), 5);
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_ends_in_an_ellipsis_when_it_runs_out_of_lines() {
        assert_eq!(wrap("the quick brown fox", 9, 3), ["the quick", "brown fox"]);
        assert_eq!(wrap("aaaaaaaaaaaa", 5, 3), ["aaaaa", "aaaaa", "aa"]);
        let lines = wrap("one two three four five six", 7, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'), "{lines:?}");
        assert!(lines.iter().all(|l| columns(l) <= 7), "{lines:?}");
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(escape("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
        assert_eq!(escape_text("say \"hi\" & <go>"), "say \"hi\" &amp; &lt;go&gt;");
    }

    #[test]
    fn runs_of_spaces_survive_in_svg_text() {
        assert_eq!(keep_spaces("a  b"), "a \u{a0}b");
        assert_eq!(keep_spaces(" a"), "\u{a0}a");
    }
}
