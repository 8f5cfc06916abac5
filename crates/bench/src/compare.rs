//! `compare-transports`: every mode delivers the same feed, measured.
//!
//! For each mode a fresh server is started with a Tap in front and one client behind it. A
//! publisher adds `messages` messages, `rate` per second on average at random moments; the
//! client records when each arrives.
//! Latency is arrival minus publication, both read from the same clock in the same process.
//! Bytes are what the Tap counted on the client's TCP connection in each direction, heads,
//! handshakes and framing included, divided by the messages delivered.
//!
//! This is a benchmark, never a test: the numbers depend on the machine and its load. It serves
//! the request–response chapter (its "Measured" page shows the committed run) and `just bench`
//! ([`crate::transports`] runs it with the other measurements). Only the measuring is here: its
//! percentiles, stamp, table and figure are the bench's ([`crate::stats`], [`crate::stamp`],
//! [`crate::report`], [`crate::plot`]), as for every other measurement.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_polling::client::{self, Connection, EventStream};
use http_polling::demo::WS_KEY;
use http_polling::feed::Feed;
use http_polling::limits::Limits;
use http_polling::server::{Service, paths};
use tap::Tap;
use wire::{Direction, Transcript};

use crate::stamp::Stamp;
use crate::stats::percentile;

/// A way of receiving the feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// Ask every `interval`.
    ShortPoll(Duration),
    /// Ask, and let the server hold the question until there is an answer.
    LongPoll,
    /// One response that never ends.
    Sse,
    /// One upgraded connection, one frame per message.
    WebSocket,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mode::ShortPoll(interval) => write!(f, "short poll every {} ms", interval.as_millis()),
            Mode::LongPoll => f.write_str("long poll"),
            Mode::Sse => f.write_str("Server-Sent Events"),
            Mode::WebSocket => f.write_str("WebSocket"),
        }
    }
}

/// What to measure.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// Messages published per mode.
    pub messages: usize,
    /// Messages per second, on average.
    pub rate: f64,
    /// The modes, in the order of the table.
    pub modes: Vec<Mode>,
}

impl Default for Config {
    /// 100 messages at 20 per second: 5 s per mode, about half a minute for all six.
    fn default() -> Self {
        Config {
            messages: 100,
            rate: 20.0,
            modes: vec![
                Mode::ShortPoll(Duration::from_millis(100)),
                Mode::ShortPoll(Duration::from_millis(500)),
                Mode::ShortPoll(Duration::from_millis(1000)),
                Mode::LongPoll,
                Mode::Sse,
                Mode::WebSocket,
            ],
        }
    }
}

/// One mode's result.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// The mode.
    pub mode: Mode,
    /// Messages that arrived (all of them, or the run failed).
    pub delivered: usize,
    /// HTTP requests (or WebSocket handshakes) the client made.
    pub requests: usize,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Bytes client → server, per delivered message.
    pub up_per_message: f64,
    /// Bytes server → client, per delivered message.
    pub down_per_message: f64,
}

impl Row {
    /// Median latency, in milliseconds.
    pub fn p50_ms(&self) -> f64 {
        self.p50.as_secs_f64() * 1000.0
    }

    /// 99th percentile latency, in milliseconds.
    pub fn p99_ms(&self) -> f64 {
        self.p99.as_secs_f64() * 1000.0
    }
}

/// Why a measurement failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client failed.
    #[error(transparent)]
    Client(#[from] client::Error),
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The plot could not be drawn.
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    /// Something else.
    #[error("{0}")]
    Other(String),
}

/// Arrival times by message id, shared by the client thread and the measurement.
type Arrivals = Arc<Mutex<HashMap<u64, Instant>>>;

fn arrived(arrivals: &Arrivals, id: u64) {
    arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(id).or_insert_with(Instant::now);
}

/// Measures one mode.
pub async fn run_mode(mode: Mode, config: &Config) -> Result<Row, Error> {
    let limits = Limits::default();
    let feed = Arc::new(Feed::new(limits.history.max(config.messages)));
    // The server: tiny_http for the HTTP modes, tokio-tungstenite for WebSocket.
    let (server_addr, stop): (SocketAddr, Box<dyn FnOnce() + Send>) = match mode {
        Mode::WebSocket => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let task = tokio::spawn(http_polling::ws_feed::serve(listener, feed.clone(), limits.clone()));
            (addr, Box::new(move || task.abort()))
        }
        _ => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            let running = http_polling::server::start(listener, Service::new(feed.clone(), limits.clone()))?;
            (running.addr(), Box::new(move || running.stop()))
        }
    };
    let tap = Tap::bind("127.0.0.1:0", server_addr).await?;
    let tap_addr = tap.local_addr();
    let recorder = tokio::spawn(async move {
        let connection = tap.accept().await?;
        Ok::<Transcript, std::io::Error>(connection.transcript().await)
    });
    let arrivals: Arrivals = Arc::default();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let client = {
        let (arrivals, feed, n) = (arrivals.clone(), feed.clone(), config.messages as u64);
        tokio::task::spawn_blocking(move || receive(mode, tap_addr, &feed, n, &arrivals, &ready_tx))
    };
    // Publish only once the client is listening, at fixed times from then on.
    let _ = tokio::task::spawn_blocking(move || ready_rx.recv()).await;
    let published = {
        let (feed, n, rate) = (feed.clone(), config.messages, config.rate);
        tokio::task::spawn_blocking(move || publish(&feed, n, rate))
    };
    let published = published.await.map_err(|e| Error::Other(e.to_string()))?;
    client.await.map_err(|e| Error::Other(e.to_string()))??;
    let transcript = recorder.await.map_err(|e| Error::Other(e.to_string()))??;
    stop();
    let arrivals = arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let mut latencies: Vec<Duration> = published
        .iter()
        .filter_map(|(id, at)| arrivals.get(id).map(|got| got.saturating_duration_since(*at)))
        .collect();
    latencies.sort();
    let delivered = latencies.len();
    let per = |dir| transcript.wire_bytes(dir) as f64 / delivered.max(1) as f64;
    let requests = transcript.heads().filter(|(d, _)| *d == Direction::ClientToServer).count();
    Ok(Row {
        mode,
        delivered,
        requests,
        // No deliveries gives zero; the row's `delivered` says so.
        p50: percentile(&latencies, 50.0).unwrap_or_default(),
        p99: percentile(&latencies, 99.0).unwrap_or_default(),
        up_per_message: per(Direction::ClientToServer),
        down_per_message: per(Direction::ServerToClient),
    })
}

/// Publishes `n` messages, `rate` per second on average, at random moments (a Poisson process:
/// the gaps are exponentially distributed); returns when each was published.
///
/// Random moments, because a real feed's messages come when they come. A publisher on a fixed
/// beat meets a poller on a fixed beat at the same few phases every time (publishing every 50 ms
/// and polling every 100 ms, every message waits one of two fixed delays), and short polling's
/// delay would say more about the two beats than about polling. The generator is seeded, so every
/// run publishes on the same schedule.
fn publish(feed: &Feed, n: usize, rate: f64) -> Vec<(u64, Instant)> {
    let mut random = SplitMix64(PUBLISH_SEED);
    let start = Instant::now();
    let mut due = start;
    let mut published = Vec::with_capacity(n);
    for i in 0..n {
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let at = Instant::now();
        let message = feed.publish(format!("message {i}"));
        published.push((message.id, at));
        // An exponential gap with mean 1 / rate: -ln(1 - u) / rate for u uniform in [0, 1).
        due += Duration::from_secs_f64(-(1.0 - random.unit()).ln() / rate);
    }
    published
}

/// The seed of the publishing schedule.
const PUBLISH_SEED: u64 = 0x00d0_91e5;

/// SplitMix64 (Steele, Lea and Flood, 2014): a few lines, plenty for a schedule.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The client side of one mode: receives until all `n` messages are in, then closes.
fn receive(
    mode: Mode,
    addr: SocketAddr,
    feed: &Feed,
    n: u64,
    arrivals: &Arrivals,
    ready: &std::sync::mpsc::Sender<()>,
) -> Result<(), Error> {
    match mode {
        Mode::ShortPoll(interval) => {
            let mut connection = Connection::open(addr)?;
            let _ = ready.send(());
            let mut last = 0;
            while last < n {
                for message in client::short_poll(&mut connection, "", last)? {
                    arrived(arrivals, message.id);
                    last = message.id;
                }
                if last < n {
                    std::thread::sleep(interval);
                }
            }
            connection.close()?;
        }
        Mode::LongPoll => {
            let mut connection = Connection::open(addr)?;
            let _ = ready.send(());
            let mut last = 0;
            while last < n {
                for message in client::long_poll(&mut connection, "", last, 30)?.unwrap_or_default() {
                    arrived(arrivals, message.id);
                    last = message.id;
                }
            }
            connection.close()?;
        }
        Mode::Sse => {
            let request = EventStream::request(&addr.to_string(), "", None);
            let mut stream = EventStream::open(Connection::open(addr)?, &request)?;
            let mut last = 0;
            while last < n {
                let Some(event) = stream.next_event()? else { break };
                match event.id.and_then(|id| id.parse().ok()) {
                    Some(id) => {
                        arrived(arrivals, id);
                        last = id;
                    }
                    // The `retry:` event: the stream is open.
                    None => {
                        let _ = ready.send(());
                    }
                }
            }
            feed.end_streams();
            while stream.next_event()?.is_some() {}
            stream.into_connection().close()?;
        }
        Mode::WebSocket => {
            let mut ws = client::websocket(addr, paths::WS, WS_KEY)?;
            let _ = ready.send(());
            let mut last = 0;
            while last < n {
                if let tungstenite::Message::Text(text) = ws.read().map_err(client::Error::from)? {
                    let value: serde_json::Value =
                        serde_json::from_str(text.as_str()).map_err(|e| Error::Other(e.to_string()))?;
                    let message = client::parse_message(&value)?;
                    arrived(arrivals, message.id);
                    last = message.id;
                }
            }
            let _ = ws.close(None);
            while ws.read().is_ok() {}
        }
    }
    Ok(())
}

/// A whole run. It is kept as JSON (`compare-transports.json`) beside the table and the plot
/// made from it, so a test can check that the book shows exactly what was measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// What was measured.
    pub config: Config,
    /// One row per mode.
    pub rows: Vec<Row>,
    /// Where and when.
    pub stamp: Stamp,
}

/// Measures every mode of `config`, one after the other. `progress` hears about each row.
pub async fn run(config: Config, mut progress: impl FnMut(&Row)) -> Result<Report, Error> {
    let mut rows = Vec::new();
    for mode in config.modes.clone() {
        let row = run_mode(mode, &config).await?;
        progress(&row);
        rows.push(row);
    }
    Ok(Report { config, rows, stamp: Stamp::now() })
}

/// The files a run is kept in: its data, and the table and plot made from it.
pub const FILES: [&str; 3] = ["compare-transports.json", "compare-transports.txt", "compare-transports.svg"];

impl Report {
    /// The run's files as `(name, contents)`, in the order of [`FILES`]: the JSON, the table and
    /// the plot. What `compare-transports --out` and `just bench` write, and what the test of the
    /// book's copy re-makes from the JSON.
    pub fn files(&self) -> Result<Vec<(&'static str, String)>, Error> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Other(format!("the run cannot be written as JSON: {e}")))?;
        Ok(vec![
            (FILES[0], json + "\n"),
            (FILES[1], crate::report::comparison_table(self)),
            (FILES[2], crate::plot::comparison_svg(self)?),
        ])
    }

    /// Writes [`Report::files`] into `dir`.
    pub fn write_to(&self, dir: &std::path::Path) -> Result<(), Error> {
        let io = |e: std::io::Error| Error::Other(format!("cannot write into {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        for (name, contents) in self.files()? {
            std::fs::write(dir.join(name), contents).map_err(io)?;
        }
        Ok(())
    }

    /// The run kept in `dir` by [`Report::write_to`].
    pub fn read_from(dir: &std::path::Path) -> Result<Report, Error> {
        let path = dir.join(FILES[0]);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Other(format!("cannot read {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| Error::Other(format!("{} is not a run: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_renders_as_a_table_and_a_plot() {
        let row = |mode, ms| Row {
            mode,
            delivered: 10,
            requests: 3,
            p50: Duration::from_millis(ms),
            p99: Duration::from_millis(ms * 2),
            up_per_message: 80.0,
            down_per_message: 150.0,
        };
        let report = Report {
            config: Config { messages: 10, rate: 5.0, modes: vec![] },
            rows: vec![row(Mode::ShortPoll(Duration::from_millis(500)), 250), row(Mode::Sse, 1)],
            stamp: Stamp {
                date: "today".into(),
                cpu: "a CPU".into(),
                cores: 2,
                memory_gib: 4.0,
                kernel: "6.1".into(),
                rustc: "rustc 1.95.0".into(),
                build: Some("release".into()),
                versions: vec![("tiny_http".into(), "0.12.0".into())],
            },
        };
        let table = crate::report::comparison_table(&report);
        assert!(table.contains("| short poll every 500 ms | 10 | 3 | 250 | 500 | 80 | 150 |"), "{table}");
        let svg = crate::plot::comparison_svg(&report).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("delivery latency"), "{svg:.200}");
    }
}

#[cfg(test)]
mod schedule_tests {
    use super::SplitMix64;

    #[test]
    fn the_schedule_is_uniform_in_the_unit_interval_and_reproducible() {
        let mut a = SplitMix64(1);
        let mut b = SplitMix64(1);
        let values: Vec<f64> = (0..10_000).map(|_| a.unit()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
        assert_eq!(values[..5], (0..5).map(|_| b.unit()).collect::<Vec<_>>()[..]);
    }
}
