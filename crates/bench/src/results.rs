//! A run's results as data: what was measured, on what, and when. Kept as `run.json` beside the
//! book's tables, so the tables and plots can be re-made from it and a test can check that the
//! book shows exactly this run.

use serde::{Deserialize, Serialize};

use crate::stamp::RunStamp;
use crate::stats::Spread;

/// One whole run of `bench run`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Run {
    /// When, where, with what.
    pub stamp: RunStamp,
    /// What was asked for.
    pub plan: Plan,
    /// Echo measurements, one case per server, connection count and message size.
    pub echo: Vec<EchoCase>,
    /// Idle-connection memory, one case per server and connection count.
    pub idle: Vec<IdleCase>,
    /// The request–response chapter's comparison of transports (its `compare-transports`
    /// measurement, run by the bench), if it was run.
    #[serde(default)]
    pub transports: Vec<TransportRow>,
    /// System calls per message, counted by strace (empty if strace was not available).
    #[serde(default)]
    pub syscalls: Vec<crate::syscalls::SyscallRow>,
}

/// One transport of the feed comparison (see `crate::compare`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransportRow {
    /// The mode, as the request–response chapter names it.
    pub mode: String,
    /// The polling interval, for short polling.
    pub interval_ms: Option<u64>,
    /// Whether this row is the WebSocket one.
    pub websocket: bool,
    /// Median delivery latency, ms.
    pub p50_ms: f64,
    /// 99th-percentile delivery latency, ms.
    pub p99_ms: f64,
}

/// What the run was asked to do.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    /// How many times every measurement was repeated.
    pub runs: usize,
    /// Seconds of warm-up before each measured window.
    pub warmup_s: f64,
    /// Seconds in each measured window.
    pub measure_s: f64,
    /// Connection counts for the echo.
    pub connections: Vec<usize>,
    /// Message sizes for the echo, in bytes.
    pub sizes: Vec<usize>,
    /// Connection counts for the idle-memory test.
    pub idle: Vec<usize>,
    /// The servers, by key.
    pub servers: Vec<String>,
    /// Connection counts at which every server is measured a second time with the ordinary
    /// client ([`Client::Ordinary`]), 32-byte messages only.
    #[serde(default)]
    pub ordinary: Vec<usize>,
}

/// The message size the ordinary client sends: the small-message case, where the client's own
/// cost matters most.
pub const ORDINARY_SIZE: usize = 32;

/// Which load client measured a case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// The bench's own instrument: frames encoded once in advance, one `write` per message,
    /// echoes read straight off the socket (`crate::client::load`).
    #[default]
    Raw,
    /// What most Rust programs use: a tokio-tungstenite `WebSocketStream` per connection, in a
    /// task of its own, each message framed and masked as it is sent
    /// (`crate::client::load_ordinary`).
    Ordinary,
}

impl Client {
    /// How the tables name it.
    pub fn label(self) -> &'static str {
        match self {
            Client::Raw => "pre-encoded (the bench's)",
            Client::Ordinary => "tokio-tungstenite",
        }
    }
}

/// One server at one load, over all runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EchoCase {
    /// The server's key.
    pub server: String,
    /// Connections, each with one message in flight.
    pub connections: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// The load client that measured it.
    #[serde(default)]
    pub client: Client,
    /// One sample per run.
    pub samples: Vec<EchoSample>,
}

/// One measured window.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EchoSample {
    /// Round trips completed inside the window.
    pub messages: u64,
    /// The window's length, in seconds.
    pub seconds: f64,
    /// Median round trip, µs.
    pub p50_us: f64,
    /// 99th-percentile round trip, µs.
    pub p99_us: f64,
    /// The server's user + system CPU time in the window, seconds.
    pub server_cpu_s: f64,
    /// The client's user + system CPU time in the window, seconds.
    pub client_cpu_s: f64,
    /// How many times the server's threads went to sleep waiting (in `epoll_wait`, `read` or a
    /// lock) and were woken again during the window: the growth of `voluntary_ctxt_switches` in
    /// `/proc/PID/task/*/status`, thread by thread (`crate::procfs::Wakeups`). Absent in runs
    /// made before it was counted.
    #[serde(default)]
    pub server_wakeups: Option<u64>,
    /// Why the sample failed, if it did (then the numbers are zero).
    pub error: Option<String>,
}

impl EchoSample {
    /// A failed sample.
    pub fn failed(why: String) -> EchoSample {
        EchoSample {
            messages: 0,
            seconds: 0.0,
            p50_us: 0.0,
            p99_us: 0.0,
            server_cpu_s: 0.0,
            client_cpu_s: 0.0,
            server_wakeups: None,
            error: Some(why),
        }
    }

    /// Messages per second.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 { self.messages as f64 / self.seconds } else { 0.0 }
    }

    /// The share of the window the server's core was busy: its CPU time over the window's length.
    pub fn server_busy(&self) -> f64 {
        if self.seconds > 0.0 { self.server_cpu_s / self.seconds } else { 0.0 }
    }

    /// The server's CPU time per echoed message, µs.
    pub fn server_us_per_message(&self) -> f64 {
        self.server_cpu_s * 1e6 / self.messages.max(1) as f64
    }

    /// The client's CPU time per round trip, µs.
    pub fn client_us_per_message(&self) -> f64 {
        self.client_cpu_s * 1e6 / self.messages.max(1) as f64
    }

    /// Messages the server echoed per wake-up: how much work each wake-up found waiting (0 when
    /// wake-ups were not counted).
    pub fn messages_per_wakeup(&self) -> f64 {
        self.server_wakeups.map_or(0.0, |w| self.messages as f64 / w.max(1) as f64)
    }
}

/// Memory of idle connections, one server, one count, over all runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdleCase {
    /// The server's key.
    pub server: String,
    /// How many idle connections were asked for.
    pub connections: usize,
    /// One sample per run.
    pub samples: Vec<IdleSample>,
}

/// One idle measurement.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdleSample {
    /// The server's RSS with no connection open (after a short warm-up), bytes.
    pub rss_before: u64,
    /// Its RSS with the connections open and idle, none having sent anything since its
    /// handshake, bytes.
    pub rss_after: u64,
    /// Its RSS after every connection has then echoed one 32-byte message and gone idle again,
    /// bytes: what a connection keeps once it has been used.
    pub rss_after_message: u64,
    /// Connections that were open when RSS was read.
    pub open: usize,
    /// Why the sample failed, if it did.
    pub error: Option<String>,
}

impl IdleSample {
    /// Bytes of resident memory per open idle connection.
    pub fn per_connection(&self) -> f64 {
        (self.rss_after as f64 - self.rss_before as f64) / self.open.max(1) as f64
    }

    /// Bytes of resident memory per idle connection that has carried one message.
    pub fn per_used_connection(&self) -> f64 {
        (self.rss_after_message as f64 - self.rss_before as f64) / self.open.max(1) as f64
    }
}

/// The successful samples of a case, summarised by `f`.
pub fn spread_of<T>(samples: &[T], ok: impl Fn(&T) -> bool, f: impl Fn(&T) -> f64) -> Option<Spread> {
    Spread::of(samples.iter().filter(|s| ok(s)).map(f))
}

impl Run {
    /// The echo case for `server` at `connections` × `size`, measured by the bench's own client.
    pub fn echo_case(&self, server: &str, connections: usize, size: usize) -> Option<&EchoCase> {
        self.echo_case_by(Client::Raw, server, connections, size)
    }

    /// The echo case for `server` at `connections` × `size`, measured by `client`.
    pub fn echo_case_by(
        &self,
        client: Client,
        server: &str,
        connections: usize,
        size: usize,
    ) -> Option<&EchoCase> {
        self.echo.iter().find(|c| {
            c.client == client && c.server == server && c.connections == connections && c.size == size
        })
    }

    /// The idle case for `server` at `connections`.
    pub fn idle_case(&self, server: &str, connections: usize) -> Option<&IdleCase> {
        self.idle.iter().find(|c| c.server == server && c.connections == connections)
    }
}

impl EchoCase {
    /// A statistic over the samples that succeeded.
    pub fn spread(&self, f: impl Fn(&EchoSample) -> f64) -> Option<Spread> {
        spread_of(&self.samples, |s| s.error.is_none(), f)
    }

    /// The first error, if every sample failed.
    pub fn failure(&self) -> Option<&str> {
        if self.samples.iter().any(|s| s.error.is_none()) {
            return None;
        }
        self.samples.iter().find_map(|s| s.error.as_deref())
    }
}

impl IdleCase {
    /// Bytes per connection over the samples that succeeded.
    pub fn per_connection(&self) -> Option<Spread> {
        spread_of(&self.samples, |s| s.error.is_none(), IdleSample::per_connection)
    }

    /// Bytes per connection that has carried a message, over the samples that succeeded.
    pub fn per_used_connection(&self) -> Option<Spread> {
        spread_of(&self.samples, |s| s.error.is_none(), IdleSample::per_used_connection)
    }

    /// The first error, if every sample failed.
    pub fn failure(&self) -> Option<&str> {
        if self.samples.iter().any(|s| s.error.is_none()) {
            return None;
        }
        self.samples.iter().find_map(|s| s.error.as_deref())
    }
}
