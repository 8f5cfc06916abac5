//! Sequence (ladder) diagrams: one vertical line per participant, time running down, one arrow
//! per message.
//!
//! A diagram is made of [`Column`]s drawn side by side, each with its own lanes (participants)
//! and its own [`Step`]s. [`Column::add_transcript`] turns a recorded [`Transcript`] into steps:
//! heads, bodies, frames, chunks, FINs and resets become arrows labelled in the transcript's
//! words; the Tap's clock marks (`⏱ 2.000 s`, see [`crate::marks`]) become times in the margin;
//! its blackhole and cut marks become arrows that end in a cross and bands across the diagram.
//! A caller can add its own steps and annotations, or relabel any step: the fields are public.

use std::ops::Range;

use super::labels::{self, Tone};
use crate::marks::{self, Mark};
use crate::transcript::{Direction, EventKind, Render, Transcript};

/// Labels longer than this many characters are shortened with `…` (the `<desc>` keeps them
/// whole). 34 fits `text "Hello, WebSocket!"` and `GET /messages/wait?since=1&…` while keeping
/// a two-lane ladder about 310 pixels wide.
pub const DEFAULT_MAX_LABEL: usize = 34;

/// The narrowest gap between lanes: room for a short label and the lane names.
pub const DEFAULT_MIN_LANE_GAP: u16 = 150;

/// Annotations beside a diagram wrap at this many characters.
pub const DEFAULT_ANNOTATION_WIDTH: usize = 30;

/// How the rows of columns drawn side by side line up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Align {
    /// Row *n* of every column is at the same height: one row order for all. Right for columns
    /// that have no clock, such as transcripts recorded without one.
    #[default]
    Rows,
    /// Steps recorded at the same virtual-clock time are at the same height in every column, and
    /// later times are lower: one time axis, with the times in a margin on the left. Steps
    /// without a time come first. Within a column, times must not go backwards.
    Clock,
}

/// How a diagram is drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceOptions {
    /// The figure's `<title>` (its accessible name); made from the lanes and columns when `None`.
    pub title: Option<String>,
    /// A heading drawn at the top of the figure, if any.
    pub heading: Option<String>,
    /// How events are named: [`Render::snapshot`] (the default) hides ports, as the committed
    /// transcripts do.
    pub render: Render,
    /// Longest label, in characters, before it is shortened with `…`.
    pub max_label: usize,
    /// Show under each arrow how many bytes it took on the wire.
    pub bytes: bool,
    /// Show the transcript's notes (remarks about the whole connection) as boxes across the
    /// lanes. The Tap's clock, blackhole and cut notes are always drawn.
    pub notes: bool,
    /// Width, in characters, at which annotations beside the diagram wrap.
    pub annotation_width: usize,
    /// How the rows of several columns line up.
    pub align: Align,
    /// The narrowest gap between two lanes, in pixels: lower it to fit many ladders on a page
    /// (lanes still widen to fit their labels).
    pub min_lane_gap: u16,
    /// At most this many columns side by side; the next ones start a new row of ladders below,
    /// with its own time axis in the margin. 0: all in one row.
    pub per_row: usize,
    /// Names of the moments of a script, for recordings made without a clock (over real
    /// sockets, where times would differ from run to run). When this is not empty, a step's
    /// `time_ms` is not milliseconds but the index of the moment it belongs to (0, 1, 2…), and
    /// the margin shows the moment's name where it would show a time; an empty name shows
    /// nothing. With [`Align::Clock`], the steps of every column that happened after the same
    /// moment of the script start at the same height.
    pub moments: Vec<String>,
}

impl Default for SequenceOptions {
    fn default() -> Self {
        SequenceOptions {
            title: None,
            heading: None,
            render: Render::snapshot(),
            max_label: DEFAULT_MAX_LABEL,
            bytes: true,
            notes: true,
            annotation_width: DEFAULT_ANNOTATION_WIDTH,
            align: Align::Rows,
            min_lane_gap: DEFAULT_MIN_LANE_GAP,
            per_row: 0,
            moments: Vec::new(),
        }
    }
}

impl SequenceOptions {
    /// The defaults: snapshot naming, bytes shown, notes shown, rows aligned.
    pub fn new() -> SequenceOptions {
        SequenceOptions::default()
    }

    /// The same options with this `<title>`.
    pub fn titled(mut self, title: impl Into<String>) -> SequenceOptions {
        self.title = Some(title.into());
        self
    }

    /// The same options with a visible heading.
    pub fn with_heading(mut self, heading: impl Into<String>) -> SequenceOptions {
        self.heading = Some(heading.into());
        self
    }

    /// The same options, aligning columns as `align` says.
    pub fn aligned(mut self, align: Align) -> SequenceOptions {
        self.align = align;
        self
    }

    /// The same options without the transcript's notes.
    pub fn without_notes(mut self) -> SequenceOptions {
        self.notes = false;
        self
    }

    /// The same options without byte counts under the arrows.
    pub fn without_bytes(mut self) -> SequenceOptions {
        self.bytes = false;
        self
    }

    /// The same options with at most `n` columns side by side, in rows down the page.
    pub fn in_rows_of(mut self, n: usize) -> SequenceOptions {
        self.per_row = n;
        self
    }

    /// The same options, with `time_ms` read as the index of a moment with these names (see
    /// [`SequenceOptions::moments`]).
    pub fn with_moments<I, S>(mut self, names: I) -> SequenceOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.moments = names.into_iter().map(Into::into).collect();
        self
    }

    /// What the margin shows for a step's `time_ms`: the time, or the moment's name; `None` for
    /// a moment without a name.
    pub(crate) fn time_label(&self, time: u64) -> Option<String> {
        if self.moments.is_empty() {
            return Some(clock_text(time));
        }
        let index = usize::try_from(time).ok()?;
        self.moments.get(index).filter(|name| !name.is_empty()).cloned()
    }
}

/// What broke: the kind of band drawn across a diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GapKind {
    /// The Tap stopped passing bytes on and closed nothing: a dead path.
    Blackhole,
    /// The Tap hung up on both sides at once.
    Cut,
    /// Anything else a caller wants drawn as a break (the network going down, a restart).
    Other,
}

/// What a step draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepKind {
    /// A message from lane `from` to lane `to`. A `lost` one ends halfway, in a cross: it never
    /// arrived.
    Arrow {
        /// The sender's lane.
        from: usize,
        /// The receiver's lane.
        to: usize,
        /// The bytes never reached the receiver.
        lost: bool,
    },
    /// A connection opened between two lanes: a dashed line with a head at each end.
    Open {
        /// The client's lane.
        from: usize,
        /// The server's lane.
        to: usize,
    },
    /// A note across lanes `from` to `to` (either order).
    Note {
        /// One end of the note.
        from: usize,
        /// The other end.
        to: usize,
    },
    /// A band across the whole column: the connection broke here.
    Gap(GapKind),
}

/// One row of a column: an arrow, an opening, a note or a break.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What is drawn.
    pub kind: StepKind,
    /// The label above an arrow, or the text of a note or band. Shortened when drawn; whole in
    /// the figure's `<desc>`.
    pub label: String,
    /// Small text under an arrow: what a body held, `masked`, the bytes on the wire.
    pub detail: Option<String>,
    /// The arrow's colour and line.
    pub tone: Tone,
    /// When it happened on the virtual clock, in milliseconds from the connection's start; or,
    /// when the options name moments ([`SequenceOptions::moments`]), the index of its moment.
    pub time_ms: Option<u64>,
    /// Remarks shown beside the diagram at this step's height ("middleware ran").
    pub annotations: Vec<String>,
}

impl Step {
    fn new(kind: StepKind, label: impl Into<String>, tone: Tone) -> Step {
        Step { kind, label: label.into(), detail: None, tone, time_ms: None, annotations: Vec::new() }
    }

    /// A message from lane `from` to lane `to`.
    pub fn arrow(from: usize, to: usize, label: impl Into<String>) -> Step {
        Step::new(StepKind::Arrow { from, to, lost: false }, label, Tone::Message)
    }

    /// A connection opening between lanes `from` and `to`.
    pub fn open(from: usize, to: usize, label: impl Into<String>) -> Step {
        Step::new(StepKind::Open { from, to }, label, Tone::Transport)
    }

    /// A note across lanes `from` to `to`.
    pub fn note(from: usize, to: usize, text: impl Into<String>) -> Step {
        Step::new(StepKind::Note { from, to }, text, Tone::Message)
    }

    /// A band across the column.
    pub fn gap(kind: GapKind, text: impl Into<String>) -> Step {
        Step::new(StepKind::Gap(kind), text, Tone::Problem)
    }

    /// The same step with small text under it.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Step {
        self.detail = Some(detail.into());
        self
    }

    /// The same step in another tone.
    pub fn with_tone(mut self, tone: Tone) -> Step {
        self.tone = tone;
        self
    }

    /// The same step at `ms` milliseconds on the clock.
    pub fn at(mut self, ms: u64) -> Step {
        self.time_ms = Some(ms);
        self
    }

    /// The same arrow, lost on the way.
    pub fn lost(mut self) -> Step {
        if let StepKind::Arrow { lost, .. } = &mut self.kind {
            *lost = true;
        }
        self
    }

    /// The same step with a remark beside it.
    pub fn annotated(mut self, text: impl Into<String>) -> Step {
        self.annotations.push(text.into());
        self
    }
}

/// A lane busy with a request from one step to another: a narrow bar on its lifeline (UML
/// calls it an activation). A request the server holds, as in long polling, is a long bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hold {
    /// The lane that holds the request.
    pub lane: usize,
    /// The step that brought the request.
    pub from: usize,
    /// The step that answered it, or the last step recorded if nothing did.
    pub to: usize,
    /// Whether step `to` is the answer; if not, the bar runs to the bottom of the diagram,
    /// dashed: still held when the recording ended.
    pub answered: bool,
}

/// One ladder: a title, its lanes (left to right) and its steps (top to bottom).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Column {
    /// Drawn above the lanes; empty for none.
    pub title: String,
    /// The participants, left to right: `client`, `server`, or `client`, `nginx`, `server`.
    pub lanes: Vec<String>,
    /// What happened, top to bottom.
    pub steps: Vec<Step>,
    /// Requests held until their response, drawn as bars on the lifeline.
    pub holds: Vec<Hold>,
}

impl Column {
    /// A column with these lanes and no steps.
    pub fn new(title: impl Into<String>, lanes: &[&str]) -> Column {
        Column {
            title: title.into(),
            lanes: lanes.iter().map(|l| (*l).to_owned()).collect(),
            steps: Vec::new(),
            holds: Vec::new(),
        }
    }

    /// A column with the lanes `client` and `server`.
    pub fn client_server(title: impl Into<String>) -> Column {
        Column::new(title, &["client", "server"])
    }

    /// A `client`–`server` column drawn from one transcript.
    pub fn from_transcript(
        title: impl Into<String>,
        transcript: &Transcript,
        options: &SequenceOptions,
    ) -> Column {
        let mut column = Column::client_server(title);
        column.add_transcript(transcript, 0, 1, options);
        column
    }

    /// Adds a step; returns its index.
    pub fn push(&mut self, step: Step) -> usize {
        self.steps.push(step);
        self.steps.len() - 1
    }

    /// The index of the first step whose label contains `text`.
    pub fn find(&self, text: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.label.contains(text))
    }

    /// Adds a remark beside the first step whose label contains `text`. Returns whether there
    /// was one.
    pub fn annotate(&mut self, text: &str, annotation: impl Into<String>) -> bool {
        match self.find(text) {
            Some(i) => {
                self.steps[i].annotations.push(annotation.into());
                true
            }
            None => false,
        }
    }

    /// Orders the steps by their clock time, keeping the order of steps at the same time (and
    /// of steps without one, which come first). After adding several transcripts recorded
    /// with one clock (a client–proxy and a proxy–server connection), this interleaves them as
    /// they happened. Holds follow their steps.
    pub fn sort_by_time(&mut self) {
        let mut order: Vec<usize> = (0..self.steps.len()).collect();
        order.sort_by_key(|&i| self.steps[i].time_ms);
        let mut new_index = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        let mut steps: Vec<Option<Step>> = std::mem::take(&mut self.steps).into_iter().map(Some).collect();
        self.steps = order.iter().filter_map(|&i| steps[i].take()).collect();
        for hold in &mut self.holds {
            if let (Some(&from), Some(&to)) = (new_index.get(hold.from), new_index.get(hold.to)) {
                hold.from = from;
                hold.to = to;
            }
        }
    }

    /// Adds the events of one connection, its client on lane `client` and its server on lane
    /// `server`. Returns the indices of the steps added.
    ///
    /// - A head is an arrow (`GET /ws/echo`, `101 Switching Protocols`); the body that follows it
    ///   is shown under it, in quotes. The server's lane holds each request until its response
    ///   head (a [`Hold`]), so a request the server keeps waiting shows as a long bar.
    /// - A chunk, a frame, a TLS record, raw bytes, a FIN or a reset is an arrow.
    /// - `⏱ 1.500 s` (the Tap's clock) sets the time of the steps after it.
    /// - A blackhole note about one direction marks the last arrow that way as lost; a
    ///   blackhole or a cut of the whole connection is a band.
    /// - Other notes about the whole connection are note boxes (when `options.notes`); a note
    ///   with a direction (a stand-in for a message) is an arrow labelled with its text.
    pub fn add_transcript(
        &mut self,
        transcript: &Transcript,
        client: usize,
        server: usize,
        options: &SequenceOptions,
    ) -> Range<usize> {
        let start = self.steps.len();
        let mut time = None;
        // The last head's step and direction, while its body may still follow.
        let mut open_head: Option<(usize, Direction, usize)> = None;
        // Requests not yet answered, oldest first (HTTP/1.1 answers in order).
        let mut waiting: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
        for event in &transcript.events {
            let (from, to) = match event.dir {
                Some(Direction::ServerToClient) => (server, client),
                _ => (client, server),
            };
            let step = match &event.kind {
                EventKind::Note(text) => match (event.dir, marks::read(text)) {
                    (None, Some(Mark::Clock(ms))) => {
                        time = Some(ms);
                        continue;
                    }
                    (None, Some(Mark::Blackhole(what))) => Step::gap(GapKind::Blackhole, what),
                    (None, Some(Mark::Cut(what))) => Step::gap(GapKind::Cut, what),
                    (None, _) if options.notes => Step::note(client, server, text.clone()),
                    (None, _) => continue,
                    (Some(dir), Some(Mark::Blackhole(why) | Mark::Undelivered(why))) => {
                        // The Tap says the bytes it just recorded went nowhere: the arrow it
                        // drew for them ends in a cross.
                        let (from, to) = if dir == Direction::ClientToServer {
                            (client, server)
                        } else {
                            (server, client)
                        };
                        let last = self.steps[start..].iter_mut().rev().find(|s| {
                            matches!(s.kind, StepKind::Arrow { from: f, to: t, .. } if f == from && t == to)
                        });
                        if let Some(step) = last {
                            if let StepKind::Arrow { lost, .. } = &mut step.kind {
                                *lost = true;
                            }
                            step.annotations.push(why.to_owned());
                            continue;
                        }
                        Step::note(client, server, text.clone())
                    }
                    (Some(_), _) => Step::arrow(from, to, text.clone()),
                },
                EventKind::Opened { .. } => Step::open(client, server, "TCP connection opened"),
                EventKind::Body { data, len, chunk: false }
                    if open_head.is_some_and(|h| Some(h.1) == event.dir) =>
                {
                    // The body belongs under its head's arrow: one message, one arrow.
                    if let Some((index, _, head_bytes)) = open_head.take() {
                        let body = labels::preview(data, *len, &options.render);
                        let step = &mut self.steps[index];
                        step.detail = Some(detail(&[body], head_bytes + event.wire_len, options));
                    }
                    continue;
                }
                _ => {
                    let Some(label) = labels::label(event, &options.render) else { continue };
                    let mut step = Step::arrow(from, to, label.text).with_tone(label.tone);
                    if label.lost {
                        step = step.lost();
                    }
                    if let Some(note) = label.annotation {
                        step = step.annotated(note);
                    }
                    let d = detail(&label.detail, event.wire_len, options);
                    if !d.is_empty() {
                        step.detail = Some(d);
                    }
                    step
                }
            };
            let is_head = matches!(event.kind, EventKind::Head(_));
            let mut step = step;
            step.time_ms = time;
            let index = self.push(step);
            if let EventKind::Head(head) = &event.kind {
                match head.status() {
                    None => waiting.push_back(index),
                    // 100 Continue and friends come before the real answer.
                    Some(status) if (100..200).contains(&status) && status != 101 => {}
                    Some(_) => {
                        if let Some(from) = waiting.pop_front() {
                            self.holds.push(Hold { lane: server, from, to: index, answered: true });
                        }
                    }
                }
            }
            open_head = match (is_head, event.dir) {
                (true, Some(dir)) => Some((index, dir, event.wire_len)),
                _ => None,
            };
        }
        if let Some(last) = self.steps.len().checked_sub(1) {
            for from in waiting {
                self.holds.push(Hold { lane: server, from, to: last, answered: false });
            }
        }
        start..self.steps.len()
    }
}

/// `masked · 23 B`.
fn detail(parts: &[String], wire_len: usize, options: &SequenceOptions) -> String {
    let mut parts: Vec<String> = parts.iter().filter(|p| !p.is_empty()).cloned().collect();
    if options.bytes && wire_len > 0 {
        parts.push(labels::bytes(wire_len as u64));
    }
    parts.join(" · ")
}

/// 1500 → `1.500 s`, as the Tap writes it.
pub(crate) fn clock_text(ms: u64) -> String {
    marks::clock_text(ms)
}
