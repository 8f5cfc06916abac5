//! The book's measurement tables and figures are exactly the committed run: made from
//! `book/src/measurements/results/run.json` by the same code `just bench` uses, and never edited
//! by hand. No time is asserted here; only that the book shows what was measured.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::path::PathBuf;

fn results() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/measurements/results")
}

#[test]
fn the_book_shows_exactly_the_committed_run() {
    let dir = results();
    let run = bench::read_run(&dir).unwrap();
    let mut files = bench::report::tables(&run);
    files.extend(bench::plot::figures(&run).unwrap());
    for (name, expected) in files {
        let committed = std::fs::read_to_string(dir.join(&name))
            .unwrap_or_else(|e| panic!("{name} is missing from {} ({e})", dir.display()));
        assert!(
            committed == expected,
            "{name} is not what run.json gives: re-make it with `cargo run -p bench --bin bench -- render` \
             (or run `just bench` again) instead of editing it"
        );
    }
}

#[test]
fn the_committed_run_measured_every_server_against_node() {
    let run = bench::read_run(&results()).unwrap();
    assert!(run.plan.servers.iter().any(|s| s == bench::servers::NODE_WS), "the ratios need Node's `ws`");
    for key in &run.plan.servers {
        assert!(
            bench::servers::by_key(key).is_some(),
            "run.json names a server the bench does not know: {key}"
        );
    }
    assert!(run.plan.runs >= 3, "the book's run should repeat each measurement (medians with min–max)");
}

#[test]
fn the_targets_read_the_comparison_the_request_response_chapter_shows() {
    let run = bench::read_run(&results()).unwrap();
    let chapter = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/request-response/measured");
    let report = bench::compare::Report::read_from(&chapter).unwrap();
    assert!(!run.transports.is_empty(), "the book's run should include the transport comparison");
    assert!(
        run.transports == bench::transports::rows(&report),
        "run.json's transport rows are not those of the chapter's compare-transports.json: after \
         `just compare-transports` on its own, bring them in with `cargo run -p bench --bin bench -- render` \
         (or run `just bench` again)"
    );
}

#[test]
fn the_fanout_page_shows_exactly_the_committed_fanout() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/measurements/fanout");
    let report = bench::fanout::Report::read_from(&dir).unwrap();
    for (name, expected) in report.files().unwrap() {
        let committed = std::fs::read_to_string(dir.join(&name))
            .unwrap_or_else(|e| panic!("{name} is missing from {} ({e})", dir.display()));
        assert!(
            committed == expected,
            "{name} is not what fanout.json gives: re-make it with `cargo run -p bench --bin bench -- render` \
             (or run `just bench-fanout` again) instead of editing it"
        );
    }
    assert!(report.config.runs >= 3, "the book's fan-out should repeat each case (medians with min–max)");
    for target in bench::fanout::TARGETS {
        for &n in &report.config.subscribers {
            assert!(report.case(target, n, None).is_some(), "fanout.json lacks {target} at N = {n}");
        }
    }
}
