//! The feed delivered by short polling, long polling, SSE and WebSocket: the request–response
//! chapter's measurement (`crate::compare`, also `just compare-transports`), run by the
//! bench so that one `just bench` refreshes every number in the book. Nothing is measured twice:
//! this module only runs it, writes its files where that chapter keeps them, and keeps the rows
//! the targets are read from.

use std::path::Path;

use crate::compare::{self, Config, Mode, Report};

use crate::results::TransportRow;

/// Runs the comparison (about half a minute; `quick`: 40 messages per mode instead of 100),
/// writes its files (`compare-transports.json`, `.txt`, `.svg`) into `out`, and returns the rows.
pub fn measure(quick: bool, out: &Path) -> anyhow::Result<Vec<TransportRow>> {
    let config = if quick { Config { messages: 40, ..Config::default() } } else { Config::default() };
    eprintln!("transports: {} messages per mode at {}/s", config.messages, config.rate);
    // Its servers are threads of this process: a runtime with every core, before any pinning.
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(compare::run(config, |row| {
        eprintln!(
            "  {:<26} p50 {:>8.2} ms  p99 {:>8.2} ms",
            row.mode.to_string(),
            row.p50_ms(),
            row.p99_ms()
        );
    }))?;
    report.write_to(out)?;
    Ok(rows(&report))
}

/// The rows the targets are read from, taken from a comparison's report. `run.json` keeps them,
/// and the test of the committed run checks that they are the ones of the comparison the
/// request–response chapter shows (`compare-transports.json`).
pub fn rows(report: &Report) -> Vec<TransportRow> {
    report
        .rows
        .iter()
        .map(|row| TransportRow {
            mode: row.mode.to_string(),
            interval_ms: match row.mode {
                Mode::ShortPoll(interval) => Some(interval.as_millis() as u64),
                _ => None,
            },
            websocket: row.mode == Mode::WebSocket,
            p50_ms: row.p50_ms(),
            p99_ms: row.p99_ms(),
        })
        .collect()
}

/// Where the request–response chapter keeps its comparison (as `just compare-transports` and
/// `just bench` write it).
pub fn chapter_dir(root: &Path) -> std::path::PathBuf {
    root.join("book/src/request-response/measured")
}
