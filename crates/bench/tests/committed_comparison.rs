//! The chapter's measured comparison is exactly the committed run: the table and the plot in
//! `book/src/request-response/measured/` are re-made from `compare-transports.json` by the code
//! that wrote them, and must come out the same. No time is asserted; only that the book shows
//! what was measured.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::path::PathBuf;

use bench::compare::{FILES, Report};

fn measured() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/request-response/measured")
}

#[test]
fn the_chapter_shows_exactly_the_committed_comparison() {
    let dir = measured();
    let report = Report::read_from(&dir).unwrap();
    for (name, expected) in report.files().unwrap() {
        let committed = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{name} is missing from {} ({e})", dir.display()));
        assert!(
            committed == expected,
            "{name} is not what compare-transports.json gives: the files are written together by \
             `just compare-transports` (or `just bench`); re-make the table and the plot from the \
             JSON with `cargo run -p bench -- render` instead of editing one"
        );
    }
    assert_eq!(FILES.len(), 3);
}

#[test]
fn the_committed_comparison_delivered_every_message_in_every_mode() {
    let report = Report::read_from(&measured()).unwrap();
    assert!(report.rows.len() >= 4, "short polling, long polling, SSE and WebSocket at least");
    for row in &report.rows {
        assert_eq!(row.delivered, report.config.messages, "{}: messages went missing", row.mode);
    }
}
