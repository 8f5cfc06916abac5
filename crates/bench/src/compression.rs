//! The chapter "Compression": what permessage-deflate (RFC 7692) costs and saves, measured.
//!
//! Three measurements, each on what Duplex really sends:
//! - **bytes per message**: the request–response chapter's feed messages (`{"id":1,"text":"message
//!   1"}`, as its WebSocket sends them), compressed one after the other as one connection would
//!   send them, with and without context takeover, and with a small window. The bytes are exact
//!   (compression is deterministic); they are what the frames carry.
//! - **CPU per message**: the same messages compressed and inflated with `wire::deflate`, timed
//!   with this thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`), so other programs on the machine
//!   do not count; median and range over several runs.
//! - **memory per connection**: the by-hand server (`ws-by-hand-server`, release, a process of
//!   its own) with and without `--deflate`, at two window sizes and without context takeover:
//!   its resident memory (`VmRSS`) before and after hundreds of connections that offer
//!   compression, first just open, then after one message each.
//!
//! Nothing here asserts a time; the tables go into the book with the data (`compression.json`),
//! and a test checks that the tables are that data.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wire::deflate::{Compressor, Decompressor};
use wire::frame::{Frame, FrameHeader, OpCode};

use crate::report::{Align, Table, short, thousands};
use crate::servers::{Launch, Running, Server, Setup};
use crate::stamp::Stamp;
use crate::stats::Spread;

/// What the browser offers, and what every connection of the memory test offers.
pub const OFFER: &str = "permessage-deflate; client_max_window_bits";

/// How much to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Feed messages per connection (bytes and CPU).
    pub messages: usize,
    /// Connections per CPU run, each with a fresh compressor and inflater.
    pub sessions: usize,
    /// Runs of the CPU and memory measurements.
    pub runs: usize,
    /// Connections opened for the memory measurement.
    pub connections: usize,
}

impl Config {
    /// The book's run.
    pub const FULL: Config = Config { messages: 1000, sessions: 20, runs: 5, connections: 500 };
    /// A short run for a class.
    pub const QUICK: Config = Config { messages: 1000, sessions: 5, runs: 1, connections: 200 };
}

/// One way of sending the feed: a window size and whether the compressor forgets between
/// messages; `None` sends it uncompressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    /// `server_max_window_bits` (8 to 15).
    pub window_bits: u8,
    /// `server_no_context_takeover`.
    pub no_context_takeover: bool,
}

impl Setting {
    /// The row label the book shows.
    pub fn label(setting: Option<Setting>) -> String {
        match setting {
            None => "uncompressed".to_owned(),
            Some(Setting { window_bits: 15, no_context_takeover: false }) => {
                "deflate, context takeover (the default)".to_owned()
            }
            Some(Setting { window_bits: 15, no_context_takeover: true }) => {
                "deflate, no context takeover".to_owned()
            }
            Some(Setting { window_bits, no_context_takeover }) => format!(
                "deflate, {}, window 2^{window_bits} = {} bytes",
                if no_context_takeover { "no context takeover" } else { "context takeover" },
                1u32 << window_bits
            ),
        }
    }
}

/// The settings the bytes and CPU are measured at, in the table's order.
pub const SETTINGS: [Option<Setting>; 4] = [
    None,
    Some(Setting { window_bits: 15, no_context_takeover: false }),
    Some(Setting { window_bits: 15, no_context_takeover: true }),
    Some(Setting { window_bits: 9, no_context_takeover: false }),
];

/// Bytes per message at one setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BytesRow {
    /// The setting's label.
    pub setting: String,
    /// The first message's payload, in bytes.
    pub first: usize,
    /// The mean payload per message over all of them.
    pub payload: f64,
    /// The mean frame per message (payload and the server's 2-byte header).
    pub frame: f64,
    /// `frame` as a fraction of the uncompressed frame.
    pub ratio: f64,
}

/// CPU time per message at one setting, in nanoseconds, over the runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuRow {
    /// The setting's label.
    pub setting: String,
    /// Compressing one message (the sender's cost).
    pub compress_ns: Spread,
    /// Inflating one message (the receiver's cost).
    pub inflate_ns: Spread,
}

/// The by-hand server's memory per connection at one setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryRow {
    /// What the server was started with.
    pub flags: String,
    /// What the server answered the offer with (empty: declined).
    pub response: String,
    /// Connections held open.
    pub connections: usize,
    /// KiB per connection once open (handshake done, no message yet).
    pub open_kib: Spread,
    /// KiB per connection after one message each way.
    pub used_kib: Spread,
}

/// The whole measurement, as `compression.json` keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Where, when and with what.
    pub stamp: Stamp,
    /// What was measured.
    pub config: Config,
    /// The first feed message, to show what was compressed.
    pub sample: String,
    /// Bytes per message.
    pub bytes: Vec<BytesRow>,
    /// CPU per message.
    pub cpu: Vec<CpuRow>,
    /// Memory per connection.
    pub memory: Vec<MemoryRow>,
}

/// The feed's messages, as its WebSocket sends them (`http_polling::ws_feed::frame_text`), with
/// the texts the transport comparison publishes.
pub fn feed_messages(count: usize) -> Vec<String> {
    (1..=count as u64)
        .map(|id| {
            http_polling::ws_feed::frame_text(&http_polling::feed::Message {
                id,
                text: format!("message {id}"),
            })
        })
        .collect()
}

/// The payloads one connection sends for `messages`, compressed as `setting` says.
pub fn compress_all(messages: &[String], setting: Option<Setting>) -> Vec<Vec<u8>> {
    match setting {
        None => messages.iter().map(|m| m.as_bytes().to_vec()).collect(),
        Some(s) => {
            let mut compressor = Compressor::new(s.window_bits, s.no_context_takeover);
            messages.iter().map(|m| compressor.compress(m.as_bytes())).collect()
        }
    }
}

// ANCHOR: bytes
/// Bytes per message at every setting.
pub fn bytes(messages: &[String]) -> Vec<BytesRow> {
    let frame_len = |payload: usize| {
        let header = FrameHeader { payload_len: payload as u64, ..Frame::text("").header() };
        header.encoded_len() + payload
    };
    let plain: usize = messages.iter().map(|m| frame_len(m.len())).sum();
    SETTINGS
        .iter()
        .map(|&setting| {
            let payloads = compress_all(messages, setting);
            let payload: usize = payloads.iter().map(Vec::len).sum();
            let frame: usize = payloads.iter().map(|p| frame_len(p.len())).sum();
            let n = messages.len() as f64;
            BytesRow {
                setting: Setting::label(setting),
                first: payloads.first().map_or(0, Vec::len),
                payload: payload as f64 / n,
                frame: frame as f64 / n,
                ratio: frame as f64 / plain as f64,
            }
        })
        .collect()
}
// ANCHOR_END: bytes

/// This thread's CPU time so far.
#[cfg(unix)]
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Elsewhere there is no per-thread CPU clock here: wall time since the first call stands in
/// (the measurement runs on one otherwise idle thread, so the two are close).
#[cfg(not(unix))]
fn thread_cpu() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// CPU per message at every compressed setting: each run sends the feed over `sessions`
/// connections, each with its own compressor and inflater, as a server would.
pub fn cpu(messages: &[String], config: &Config) -> Vec<CpuRow> {
    SETTINGS
        .iter()
        .filter_map(|&setting| setting.map(|s| (setting, s)))
        .map(|(setting, s)| {
            let mut compress = Vec::new();
            let mut inflate = Vec::new();
            let per_message = |d: Duration| d.as_nanos() as f64 / (config.sessions * messages.len()) as f64;
            for _ in 0..config.runs {
                let mut payloads = Vec::new();
                let start = thread_cpu();
                for _ in 0..config.sessions {
                    let mut compressor = Compressor::new(s.window_bits, s.no_context_takeover);
                    payloads = messages.iter().map(|m| compressor.compress(m.as_bytes())).collect::<Vec<_>>();
                }
                compress.push(per_message(thread_cpu() - start));
                let start = thread_cpu();
                for _ in 0..config.sessions {
                    let mut decompressor = Decompressor::new(s.no_context_takeover);
                    for payload in &payloads {
                        // Inflating cannot fail on what the compressor just made; a failure would
                        // show as an absurdly fast run, and the bytes table would still be right.
                        let _ = std::hint::black_box(decompressor.decompress(payload, 1 << 20));
                    }
                }
                inflate.push(per_message(thread_cpu() - start));
            }
            CpuRow {
                setting: Setting::label(setting),
                compress_ns: Spread::of(compress).unwrap_or(Spread { median: 0.0, min: 0.0, max: 0.0 }),
                inflate_ns: Spread::of(inflate).unwrap_or(Spread { median: 0.0, min: 0.0, max: 0.0 }),
            }
        })
        .collect()
}

/// The by-hand server's flags for each memory row: without compression, then with it at the
/// largest and a small window, and without context takeover.
pub const MEMORY_FLAGS: [&[&str]; 4] = [
    &[],
    &["--deflate"],
    &["--deflate", "--deflate-window-bits", "9"],
    &["--deflate", "--deflate-no-context-takeover"],
];

/// One connection that offered compression: its socket, and what the server answered.
struct Connection {
    stream: TcpStream,
    response: String,
}

fn connect(addr: &str) -> anyhow::Result<Connection> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = format!(
        "GET /ws/echo HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {OFFER}\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        anyhow::ensure!(stream.read(&mut byte)? == 1, "the server closed during the handshake");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    anyhow::ensure!(head.starts_with("HTTP/1.1 101"), "the server refused the upgrade: {head}");
    let response = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "))
        .unwrap_or_default()
        .to_owned();
    Ok(Connection { stream, response })
}

/// Sends one feed message (compressed if the server accepted) and reads its echo.
fn one_message(connection: &mut Connection, message: &str) -> anyhow::Result<()> {
    let frame = if connection.response.is_empty() {
        Frame::text(message)
    } else {
        Compressor::new(15, false).compress_frame(OpCode::Text, message.as_bytes())
    };
    connection.stream.write_all(&frame.masked([0x37, 0xfa, 0x21, 0x3d]).encode())?;
    let mut header = [0u8; 2];
    connection.stream.read_exact(&mut header)?;
    let mut payload = vec![0u8; usize::from(header[1] & 0x7f)];
    connection.stream.read_exact(&mut payload)?;
    Ok(())
}

/// The server's resident memory once it has settled: the smallest of a few readings.
fn settled_rss(pid: u32) -> anyhow::Result<u64> {
    let mut least = u64::MAX;
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(100));
        least = least.min(crate::procfs::rss(pid)?);
    }
    Ok(least)
}

/// Memory per connection for each of [`MEMORY_FLAGS`].
pub fn memory(config: &Config, setup: &Setup, sample: &str) -> anyhow::Result<Vec<MemoryRow>> {
    let mut rows = Vec::new();
    for flags in MEMORY_FLAGS {
        let mut open = Vec::new();
        let mut used = Vec::new();
        let mut response = String::new();
        for _ in 0..config.runs {
            let server = Server {
                key: "by-hand-deflate",
                label: "by-hand echo",
                launch: Launch::Rust { bin: "ws-by-hand-server", args: flags },
                variant: false,
            };
            let extra = vec!["--max-connections".to_owned(), (config.connections + 16).to_string()];
            let running = Running::start(&server, setup, &extra)?;
            let pid = running.pid();
            let addr =
                running.url.trim_start_matches("ws://").split('/').next().unwrap_or_default().to_owned();
            let before = settled_rss(pid)?;
            let mut connections =
                (0..config.connections).map(|_| connect(&addr)).collect::<anyhow::Result<Vec<_>>>()?;
            let opened = settled_rss(pid)?;
            for connection in &mut connections {
                one_message(connection, sample)?;
            }
            let after = settled_rss(pid)?;
            response = connections.first().map(|c| c.response.clone()).unwrap_or_default();
            let per = |bytes: u64| bytes.saturating_sub(before) as f64 / 1024.0 / config.connections as f64;
            open.push(per(opened));
            used.push(per(after));
            drop(connections);
            running.stop();
        }
        let zero = Spread { median: 0.0, min: 0.0, max: 0.0 };
        rows.push(MemoryRow {
            flags: if flags.is_empty() { "(none)".to_owned() } else { flags.join(" ") },
            response,
            connections: config.connections,
            open_kib: Spread::of(open).unwrap_or(zero),
            used_kib: Spread::of(used).unwrap_or(zero),
        });
    }
    Ok(rows)
}

/// Runs every measurement.
pub fn measure(config: Config, setup: &Setup) -> anyhow::Result<Report> {
    let messages = feed_messages(config.messages);
    eprintln!("compression: bytes and CPU of {} feed messages", messages.len());
    let bytes = bytes(&messages);
    let cpu = cpu(&messages, &config);
    eprintln!("compression: memory of {} connections to the by-hand server", config.connections);
    let memory = memory(&config, setup, &messages[0])?;
    Ok(Report { stamp: Stamp::now(), config, sample: messages[0].clone(), bytes, cpu, memory })
}

/// The file names the book includes.
pub const FILES: [&str; 3] =
    ["compression-bytes.md.txt", "compression-cpu.md.txt", "compression-memory.md.txt"];

impl Report {
    /// Reads `compression.json` from `dir`.
    pub fn read_from(dir: &Path) -> anyhow::Result<Report> {
        let path = dir.join("compression.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Writes `compression.json` and the tables into `dir`.
    pub fn write_to(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("compression.json"), serde_json::to_string_pretty(self)? + "\n")?;
        for (name, text) in FILES.iter().zip(self.tables()) {
            std::fs::write(dir.join(name), text)?;
        }
        Ok(())
    }

    /// The three tables, in the order of [`FILES`].
    pub fn tables(&self) -> [String; 3] {
        [self.bytes_table(), self.cpu_table(), self.memory_table()]
    }

    fn bytes_table(&self) -> String {
        use Align::{Left, Right};
        let mut table = Table::new(&[
            ("setting", Left),
            ("first message (bytes)", Right),
            ("payload per message (bytes)", Right),
            ("frame per message (bytes)", Right),
            ("of uncompressed", Right),
        ]);
        for row in &self.bytes {
            table.row(&[
                &row.setting,
                &row.first.to_string(),
                &short(row.payload),
                &short(row.frame),
                &format!("{:.0}%", row.ratio * 100.0),
            ]);
        }
        format!(
            "{} feed messages such as `{}`, sent one after the other on one connection.\n\n{}",
            thousands(self.config.messages as f64),
            self.sample,
            table.finish()
        )
    }

    fn cpu_table(&self) -> String {
        use Align::{Left, Right};
        let mut table = Table::new(&[
            ("setting", Left),
            ("compress (µs per message)", Right),
            ("inflate (µs per message)", Right),
        ]);
        let us = |s: Spread| {
            crate::report::spread(
                Spread { median: s.median / 1000.0, min: s.min / 1000.0, max: s.max / 1000.0 },
                short,
            )
        };
        for row in &self.cpu {
            table.row(&[&row.setting, &us(row.compress_ns), &us(row.inflate_ns)]);
        }
        format!(
            "CPU time of this thread, median (min–max) of {} runs of {} connections × {} messages; {}, {}, {}.\n\n{}",
            self.config.runs,
            self.config.sessions,
            thousands(self.config.messages as f64),
            self.stamp.date,
            self.stamp.machine(),
            self.stamp.rust(),
            table.finish()
        )
    }

    fn memory_table(&self) -> String {
        use Align::{Left, Right};
        let mut table = Table::new(&[
            ("ws-by-hand-server flags", Left),
            ("its answer to the offer", Left),
            ("KiB per connection, open", Right),
            ("KiB per connection, after one message", Right),
        ]);
        for row in &self.memory {
            let response =
                if row.response.is_empty() { "(declined)".to_owned() } else { format!("`{}`", row.response) };
            let flags = if row.flags == "(none)" { row.flags.clone() } else { format!("`{}`", row.flags) };
            table.row(&[
                &flags,
                &response,
                &crate::report::spread(row.open_kib, short),
                &crate::report::spread(row.used_kib, short),
            ]);
        }
        format!(
            "Resident memory (VmRSS) of the server, before and after {} connections offering `{OFFER}`, \
             median (min–max) of {} runs; {}.\n\n{}",
            thousands(self.memory.first().map_or(0, |r| r.connections) as f64),
            self.config.runs,
            self.stamp.date,
            table.finish()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_messages_are_what_its_websocket_sends() {
        assert_eq!(feed_messages(2), [r#"{"id":1,"text":"message 1"}"#, r#"{"id":2,"text":"message 2"}"#]);
    }

    #[test]
    fn every_compressed_setting_inflates_back_to_the_feed() {
        let messages = feed_messages(50);
        for setting in SETTINGS.into_iter().flatten() {
            let mut decompressor = Decompressor::new(setting.no_context_takeover);
            for (message, payload) in messages.iter().zip(compress_all(&messages, Some(setting))) {
                assert_eq!(decompressor.decompress(&payload, 1024).unwrap(), message.as_bytes());
            }
        }
    }

    #[test]
    fn the_committed_tables_are_the_committed_report() {
        let dir = crate::driver::workspace_root().join("book/src/compression/results");
        let report = Report::read_from(&dir).unwrap();
        for (name, table) in FILES.iter().zip(report.tables()) {
            let committed = std::fs::read_to_string(dir.join(name)).unwrap();
            assert_eq!(
                committed, table,
                "{name} is made from compression.json: re-run `just bench-compression`"
            );
        }
        assert_eq!(report.bytes, bytes(&feed_messages(report.config.messages)), "the bytes are exact");
    }
}
