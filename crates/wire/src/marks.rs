//! The Tap's marks: notes in a transcript that say something the wire cannot show (the time, a
//! path gone dead, a connection cut), written by the Tap and read back by the figures.
//!
//! A mark is an ordinary [`EventKind::Note`], so a transcript prints it as a line like any other
//! note (`─── ⏱ 1.500 s`). Its first character says what kind of mark it is, and the figures draw
//! each kind in its own way: a clock mark sets the time in the margin, a blackhole becomes a band
//! or an arrow that ends in a cross, a cut becomes a red band. The Tap writes marks with the
//! functions here and [`crate::figure`] reads them with [`read`], so a change of wording on
//! either side cannot quietly stop a figure from drawing them: a test in each crate checks that
//! what the Tap writes is read back as the mark it meant.
//!
//! ```
//! use wire::marks::{self, Mark};
//! let clock = marks::clock(1500);
//! assert_eq!(clock, "⏱ 1.500 s");
//! assert_eq!(marks::read(&clock), Some(Mark::Clock(1500)));
//! assert_eq!(marks::read("message 1 is published"), None);
//! ```

use crate::transcript::{Event, EventKind};

/// The first character of a clock mark: `⏱ 1.500 s`, the time since the recording's start.
pub const CLOCK: char = '⏱';

/// The first character of a blackhole mark: the Tap passes nothing on and closes nothing.
pub const BLACKHOLE: char = '⚫';

/// The first character of a cut mark: the Tap hung up on both sides at once.
pub const CUT: char = '✂';

/// How a note about bytes the Tap could not pass on begins.
pub const UNDELIVERED: &str = "the Tap could not pass";

/// A mark, read from a note's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark<'a> {
    /// The time since the recording's start, in milliseconds.
    Clock(u64),
    /// A blackhole, with what the Tap says about it (the mark's character left out). Without a
    /// direction it is the moment the path dies; with one, bytes or a FIN that never arrived.
    Blackhole(&'a str),
    /// The connection was cut, with what the Tap says about it.
    Cut(&'a str),
    /// Bytes the Tap could not pass on, with the whole note.
    Undelivered(&'a str),
}

/// `1500` → `⏱ 1.500 s`.
pub fn clock(ms: u64) -> String {
    format!("{CLOCK} {}", clock_text(ms))
}

/// `1500` → `1.500 s`: a time as clock marks, and figures, write it.
pub fn clock_text(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

/// `text` as a blackhole mark: `⚫ text`.
pub fn blackhole(text: &str) -> String {
    format!("{BLACKHOLE} {text}")
}

/// `text` as a cut mark: `✂ text`.
pub fn cut(text: &str) -> String {
    format!("{CUT} {text}")
}

/// The note about `n` bytes the Tap could not pass on to `receiver` ("client" or "server").
pub fn undelivered(n: usize, receiver: &str, error: &str) -> String {
    format!("{UNDELIVERED} {n} bytes on to the {receiver}: {error}")
}

/// Which mark a note's text is, if any.
pub fn read(text: &str) -> Option<Mark<'_>> {
    if let Some(rest) = text.strip_prefix(CLOCK) {
        return read_clock(rest.trim()).map(Mark::Clock);
    }
    if let Some(rest) = text.strip_prefix(BLACKHOLE) {
        return Some(Mark::Blackhole(rest.trim()));
    }
    if let Some(rest) = text.strip_prefix(CUT) {
        return Some(Mark::Cut(rest.trim()));
    }
    text.starts_with(UNDELIVERED).then_some(Mark::Undelivered(text))
}

/// The mark an event is, if it is a note that is one.
pub fn of(event: &Event) -> Option<Mark<'_>> {
    match &event.kind {
        EventKind::Note(text) => read(text),
        _ => None,
    }
}

/// `1.500 s` → 1500.
fn read_clock(time: &str) -> Option<u64> {
    let (secs, millis) = time.strip_suffix(" s")?.split_once('.')?;
    if millis.len() != 3 {
        return None;
    }
    Some(secs.parse::<u64>().ok()? * 1000 + millis.parse::<u64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mark_written_here_is_read_back_as_itself() {
        for ms in [0, 1, 999, 1000, 1500, 12_034, 86_400_000] {
            assert_eq!(read(&clock(ms)), Some(Mark::Clock(ms)), "{}", clock(ms));
        }
        assert_eq!(read(&blackhole("gone")), Some(Mark::Blackhole("gone")));
        assert_eq!(read(&cut("both sides")), Some(Mark::Cut("both sides")));
        let note = undelivered(3, "client", "broken pipe");
        assert_eq!(read(&note), Some(Mark::Undelivered(note.as_str())));
        assert!(of(&Event::note(clock(2000))).is_some());
    }

    #[test]
    fn ordinary_notes_and_malformed_times_are_not_marks() {
        assert_eq!(read("message 1 \"one\" is published"), None);
        assert_eq!(read("⏱ soon"), None);
        assert_eq!(read("⏱ 1.5 s"), None, "a clock mark has milliseconds");
        assert_eq!(clock_text(12_034), "12.034 s");
    }
}
