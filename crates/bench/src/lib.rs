//! # bench: the "Measurements" chapter
//!
//! `just bench` measures what the book claims: every WebSocket echo server of the project, and
//! Node's `ws` beside them, under the same load in the same run. Each server runs as a process of
//! its own, pinned to its own core where the machine allows, so the CPU time and memory read from
//! `/proc` belong to it alone. The results land in the book as tables and SVG figures, with the
//! run's raw data (`run.json`) beside them; a test checks that the tables are exactly that run.
//!
//! # Layout
//! - [`client`]: the load client: handshakes through tokio-tungstenite, then pre-encoded frames
//!   and echoes checked byte for byte, round trips timed.
//! - [`servers`]: the servers under test and how each is started (`taskset`, port 0, its URL read
//!   from its first line).
//! - [`driver`]: runs the plan: servers interleaved in every run, warm-up, a measured window, CPU
//!   time from `/proc/PID/stat`, memory of idle connections from `/proc/PID/status`.
//! - [`procfs`]: parsing those two files.
//! - [`syscalls`]: system calls per message, counted by `strace -c -f` on each server.
//! - [`stats`]: nearest-rank percentiles; median and min–max over runs.
//! - [`results`]: the run as data (`run.json`).
//! - [`report`]: the markdown tables the book includes; [`plot`]: the SVG figures, in one style.
//!   Both serve every measurement, the transport comparison's included.
//! - [`stamp`]: date, machine and versions, the same for every measurement; [`node`]: installing
//!   Node's `ws` locally.
//! - [`compare`]: the request–response chapter's feed comparison (polling, SSE, WebSocket):
//!   latency and bytes per message of each (`just compare-transports`), kept as
//!   `compare-transports.json` beside its table and figure.
//! - [`transports`]: runs that comparison inside `just bench` and keeps its rows for the targets.
//! - [`compression`]: the chapter "Compression": bytes and CPU per feed message with
//!   permessage-deflate, and the by-hand server's memory per connection with it
//!   (`just bench-compression`, and inside `just bench`).
//! - [`fanout`]: one publisher, N subscribers in one room: the chat chapter's room against
//!   Node's `ws` with its README's broadcast loop, and two rooms over Redis pub/sub; deliveries/s,
//!   CPU per delivery, latency, a deaf subscriber (`just bench-fanout`, and inside `just bench`),
//!   kept as `fanout.json` with its tables and figure; [`fanout_client`]: its load client, a
//!   publisher keeping a window of messages in flight and N raw subscribers.
//!
//! Nothing here asserts a time: speed is read off the run, never tested.

pub mod client;
pub mod compare;
pub mod compression;
pub mod driver;
pub mod fanout;
pub mod fanout_client;
pub mod node;
pub mod plot;
pub mod procfs;
pub mod report;
pub mod results;
pub mod servers;
pub mod stamp;
pub mod stats;
pub mod syscalls;
pub mod transports;

use std::path::Path;

/// Writes every table and figure of `run`, and `run.json`, into `dir`.
pub fn write_results(run: &results::Run, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("run.json"), serde_json::to_string_pretty(run)? + "\n")?;
    render(run, dir)
}

/// Writes the tables and figures of `run` into `dir` (not `run.json`).
pub fn render(run: &results::Run, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in report::tables(run) {
        std::fs::write(dir.join(name), text)?;
    }
    for (name, svg) in plot::figures(run)? {
        std::fs::write(dir.join(name), svg)?;
    }
    Ok(())
}

/// The run kept in `dir/run.json`.
pub fn read_run(dir: &Path) -> anyhow::Result<results::Run> {
    let path = dir.join("run.json");
    let text =
        std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}
