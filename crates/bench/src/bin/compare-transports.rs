//! `compare-transports`: the chapter's measured comparison of short polling, long polling, SSE
//! and WebSocket.

use std::path::PathBuf;
use std::time::Duration;

use bench::compare::{self, Config, Mode};
use clap::Parser;

/// Delivers the same feed by short polling (at several intervals), long polling, Server-Sent
/// Events and WebSocket, and measures each: delivery latency (p50, p99) and the bytes on the wire
/// per delivered message in each direction, heads and framing included, as the Tap counts them.
///
/// Prints a Markdown table. With --out DIR, also writes compare-transports.txt (the table with the
/// date and machine), compare-transports.svg (a plot) and compare-transports.json (the run's data,
/// from which a test re-makes the other two) there, which is how the book's copy is
/// made: `just compare-transports` writes into book/src/request-response/measured/ (a later
/// --out wins: `just compare-transports --out /tmp/measured` leaves the book alone).
/// A benchmark, not a test: run it on a quiet machine, and expect other numbers on yours.
#[derive(Parser)]
// A flag given twice takes the later value instead of being refused, so that
// `just compare-transports --out DIR` (the recipe passes the book's folder first) writes to DIR.
#[command(version, args_override_self = true)]
struct Args {
    /// Messages published per mode.
    #[arg(long, default_value_t = 100)]
    messages: usize,
    /// Messages per second, on average: they are published at random moments (seeded).
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Short-polling intervals in milliseconds, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,500,1000")]
    intervals: Vec<u64>,
    /// Write the table and the plot into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The servers it measures run in this process, and log (a refused connection, a pause at the
    // descriptor limit) as every server binary does.
    guard::logging::init("warn");
    let args = Args::parse();
    anyhow::ensure!(args.messages > 0 && args.rate > 0.0, "--messages and --rate must be above 0");
    let mut modes: Vec<Mode> =
        args.intervals.iter().map(|ms| Mode::ShortPoll(Duration::from_millis(*ms))).collect();
    modes.extend([Mode::LongPoll, Mode::Sse, Mode::WebSocket]);
    let seconds = args.messages as f64 / args.rate * modes.len() as f64;
    eprintln!(
        "measuring {} modes, {} messages each at {}/s (about {seconds:.0} s)…",
        modes.len(),
        args.messages,
        args.rate
    );
    let config = Config { messages: args.messages, rate: args.rate, modes };
    let report =
        compare::run(config, |row| eprintln!("  {}: p50 {:?}, p99 {:?}", row.mode, row.p50, row.p99)).await?;
    let table = bench::report::comparison_table(&report);
    println!("{table}");
    if let Some(dir) = args.out {
        report.write_to(&dir)?;
        eprintln!("wrote {}", dir.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn a_later_out_overrides_the_one_the_recipe_passes() {
        Args::command().debug_assert();
        let args = ["compare-transports", "--out", "book/src/request-response/measured", "--out", "/tmp/m"];
        let args = Args::try_parse_from(args).unwrap();
        assert_eq!(args.out, Some(PathBuf::from("/tmp/m")));
        let args = Args::try_parse_from(["compare-transports", "--messages", "5"]).unwrap();
        assert_eq!((args.messages, args.out), (5, None));
    }
}
