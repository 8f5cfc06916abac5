//! The fan-out, measured: one publisher, N subscribers in one room, 32-byte messages.
//!
//! Three servers carry the room, each loaded by the same client ([`fanout_client`]) in the same
//! run, in turn:
//! - **room**: the chat chapter's server, one process, rooms in memory
//!   (`chat-server --mode memory`);
//! - **node-ws**: Node's `ws` with the broadcast loop of its README (`node/broadcast.js`);
//! - **room-redis**: two chat servers sharing the room through Redis pub/sub
//!   (`chat-server --mode pubsub`, and a `redis-server` of our own), the subscribers split between
//!   them and the publisher on the first.
//!
//! The client runs on core 0; every server process, redis-server included, on core 1, so each
//! setup has the same one core to do its work on. Their CPU time is read from `/proc` at the
//! window's edges, summed over their processes. Each run measures every server at every N,
//! then the room and Node at [`DEAF_SUBSCRIBERS`] again with one deaf subscriber; runs repeat,
//! and the tables give the median with the min–max.
//!
//! Nothing here asserts a time; `fanout.json` keeps the run, and a test checks that the tables and
//! the figure are made from it.
//!
//! [`fanout_client`]: crate::fanout_client

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::fanout_client::{self, DeafEnd, Endpoint, Measured};
use crate::procfs::{self, CpuTicks};
use crate::report::{Align, Table, short, spread, thousands};
use crate::servers::{Launch, Running, Server, Setup};
use crate::stamp::Stamp;
use crate::stats::{Spread, percentile};

/// The one process room.
pub const ROOM: &str = "room";
/// Node's `ws`.
pub const NODE_WS: &str = "node-ws";
/// Two rooms over Redis.
pub const ROOM_REDIS: &str = "room-redis";

/// Every setup, in the tables' order.
pub const TARGETS: [&str; 3] = [ROOM, NODE_WS, ROOM_REDIS];

/// The room's name on every server.
pub const ROOM_NAME: &str = "bench";

/// The subscriber count of the deaf-subscriber case. At 100 subscribers messages go out fast
/// enough that a subscriber that stops reading falls hundreds of messages behind within the
/// window, past what the kernel's buffers hold for it; at 1,000 the window ends first.
pub const DEAF_SUBSCRIBERS: usize = 100;

/// Messages in flight. Large enough that a server always has work queued while the client turns
/// a completed message into the next one; far below the chat room's queue of 256 messages per
/// member, so that no member is ever cut for being slow; the same for every server and every N.
pub const WINDOW: usize = 16;

/// Connections a chat server allows beyond the subscribers (the publisher, the deaf one).
const SPARE_CONNECTIONS: usize = 64;

/// How much to measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Repetitions of every case.
    pub runs: usize,
    /// Seconds of load before the window.
    pub warmup_s: f64,
    /// Seconds measured.
    pub measure_s: f64,
    /// The subscriber counts.
    pub subscribers: Vec<usize>,
    /// Messages in flight.
    pub window: usize,
    /// Subscriber count of the deaf case (0: no deaf case).
    pub deaf_subscribers: usize,
    /// Seconds measured in the deaf case, with and without the deaf subscriber: long enough for
    /// the kernel's buffers for it to fill (megabytes on loopback) and its queue after them.
    pub deaf_measure_s: f64,
}

impl Config {
    /// The book's run (about five minutes).
    pub fn full() -> Config {
        Config {
            runs: 3,
            warmup_s: 1.0,
            measure_s: 2.0,
            subscribers: vec![100, 1000, 10_000],
            window: WINDOW,
            deaf_subscribers: DEAF_SUBSCRIBERS,
            deaf_measure_s: 8.0,
        }
    }

    /// A short run for a class (about a minute).
    pub fn quick() -> Config {
        Config {
            runs: 1,
            warmup_s: 0.5,
            measure_s: 1.0,
            subscribers: vec![100, 1000],
            window: WINDOW,
            deaf_subscribers: DEAF_SUBSCRIBERS,
            deaf_measure_s: 8.0,
        }
    }
}

/// What the deaf subscriber got, as `fanout.json` keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deaf {
    /// Messages it had been sent when it read at last.
    pub messages: u64,
    /// When the last of them was published, ms after it joined.
    pub last_published_ms: Option<f64>,
    /// How its connection ended (or that it had not).
    pub ended: String,
}

impl From<DeafEnd> for Deaf {
    fn from(end: DeafEnd) -> Deaf {
        Deaf { messages: end.messages, last_published_ms: end.last_published_ms, ended: end.ended }
    }
}

/// A figure read off a sample.
pub type Metric = fn(&Sample) -> f64;

/// One measured window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Deliveries to the N subscribers inside the window.
    pub deliveries: u64,
    /// The window's length.
    pub seconds: f64,
    /// CPU time of the server's processes in the window (user + system).
    pub server_cpu_s: f64,
    /// CPU time of the client in the window.
    pub client_cpu_s: f64,
    /// Publish-to-delivery p50, µs.
    pub p50_us: f64,
    /// Publish-to-delivery p99, µs.
    pub p99_us: f64,
    /// The deaf subscriber, in the deaf case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deaf: Option<Deaf>,
    /// Why the window does not count, if it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Sample {
    fn failed(why: String) -> Sample {
        Sample {
            deliveries: 0,
            seconds: 0.0,
            server_cpu_s: 0.0,
            client_cpu_s: 0.0,
            p50_us: 0.0,
            p99_us: 0.0,
            deaf: None,
            error: Some(why),
        }
    }

    /// Deliveries per second.
    pub fn rate(&self) -> f64 {
        self.deliveries as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }

    /// The server's CPU per delivery, µs.
    pub fn cpu_us(&self) -> f64 {
        self.server_cpu_s * 1e6 / self.deliveries.max(1) as f64
    }

    /// How busy the client was: its CPU time over the window's length.
    pub fn client_busy(&self) -> f64 {
        self.client_cpu_s / self.seconds.max(f64::MIN_POSITIVE)
    }

    /// p50 in ms.
    pub fn p50_ms(&self) -> f64 {
        self.p50_us / 1000.0
    }

    /// p99 in ms.
    pub fn p99_ms(&self) -> f64 {
        self.p99_us / 1000.0
    }
}

/// Every run of one server at one N (with or without the deaf subscriber).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// [`ROOM`], [`NODE_WS`] or [`ROOM_REDIS`].
    pub target: String,
    /// N.
    pub subscribers: usize,
    /// `None` for the main cases; in the deaf case, whether the deaf subscriber was in the room
    /// (`Some(true)`) or not (`Some(false)`, the same window without it).
    pub deaf: Option<bool>,
    /// One per run.
    pub samples: Vec<Sample>,
}

impl Case {
    /// The median and range of `metric` over the runs that worked.
    pub fn spread(&self, metric: Metric) -> Option<Spread> {
        Spread::of(self.samples.iter().filter(|s| s.error.is_none()).map(metric))
    }
}

/// The whole measurement, as `fanout.json` keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Where, when and with what.
    pub stamp: Stamp,
    /// `node --version`.
    pub node: String,
    /// How client and servers were kept apart.
    pub pinning: String,
    /// What was measured.
    pub config: Config,
    /// The results.
    pub cases: Vec<Case>,
}

/// A server of the fan-out, started for one window and stopped after it.
struct Started {
    /// Its processes: the servers, and redis-server.
    pids: Vec<u32>,
    /// Where the subscribers go, in turn.
    endpoints: Vec<Endpoint>,
    running: Vec<Running>,
    redis: Option<chat::redis_server::RedisServer>,
}

impl Started {
    fn stop(self) {
        // The servers go first: their ends of the connections are closed before the client's, so
        // the client's ports are free again at once (no TIME_WAIT on its side).
        for running in self.running {
            running.stop();
        }
        drop(self.redis);
    }
}

/// The chat server, with `args` before `--port 0`.
fn chat_server(key: &'static str, args: &'static [&'static str]) -> Server {
    Server { key, label: key, launch: Launch::Rust { bin: "chat-server", args }, variant: false }
}

/// The room's URL from what the server printed (`…/ws/chat/NAME`).
fn room_endpoint(url: &str) -> anyhow::Result<Endpoint> {
    let base = url.strip_suffix("NAME").unwrap_or(url);
    let base = base.strip_suffix('/').unwrap_or(base);
    let base = if base.ends_with("/ws/chat") { base.to_owned() } else { format!("{base}/ws/chat") };
    Ok(Endpoint::parse(&format!("{base}/{ROOM_NAME}"))?)
}

/// Pins a process that is already running (and all its threads) to `core`.
fn pin_to(pid: u32, core: Option<usize>) -> anyhow::Result<()> {
    let Some(core) = core else { return Ok(()) };
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", &core.to_string(), &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "taskset could not pin redis-server ({status})");
    Ok(())
}

async fn start(target: &str, n: usize, setup: &Setup, node_setup: &Setup) -> anyhow::Result<Started> {
    let capacity = vec!["--max-connections".to_owned(), (n + SPARE_CONNECTIONS).to_string()];
    match target {
        ROOM => {
            let running =
                Running::start(&chat_server("fanout-room", &["--mode", "memory"]), setup, &capacity)?;
            let endpoints = vec![room_endpoint(&running.url)?];
            Ok(Started { pids: vec![running.pid()], endpoints, running: vec![running], redis: None })
        }
        NODE_WS => {
            let server =
                Server { key: "fanout-node-ws", label: "node", launch: Launch::Node, variant: false };
            let running = Running::start(&server, node_setup, &[])?;
            let endpoints = vec![room_endpoint(&running.url)?];
            Ok(Started { pids: vec![running.pid()], endpoints, running: vec![running], redis: None })
        }
        ROOM_REDIS => {
            let redis = chat::redis_server::RedisServer::start(chat::redis_server::Persistence::None).await?;
            let redis_pid = redis.pid().ok_or_else(|| anyhow::anyhow!("redis-server is not running"))?;
            pin_to(redis_pid, setup.server_core)?;
            let mut running = Vec::new();
            for (key, name) in [("fanout-redis-a", "A"), ("fanout-redis-b", "B")] {
                let mut args = capacity.clone();
                args.extend(["--redis".to_owned(), redis.url(), "--name".to_owned(), name.to_owned()]);
                running.push(Running::start(&chat_server(key, &["--mode", "pubsub"]), setup, &args)?);
            }
            let endpoints = running.iter().map(|r| room_endpoint(&r.url)).collect::<anyhow::Result<_>>()?;
            let mut pids: Vec<u32> = running.iter().map(Running::pid).collect();
            pids.push(redis_pid);
            Ok(Started { pids, endpoints, running, redis: Some(redis) })
        }
        other => anyhow::bail!("no fan-out server called {other:?}"),
    }
}

/// The CPU time of `pids` and of this process between two instants, read by a thread of its own.
fn cpu_sampler(
    pids: Vec<u32>,
    start: Instant,
    end: Instant,
) -> std::thread::JoinHandle<Result<(CpuTicks, CpuTicks), procfs::ProcError>> {
    std::thread::spawn(move || {
        let read = |pids: &[u32]| -> Result<(CpuTicks, CpuTicks), procfs::ProcError> {
            let mut servers = CpuTicks::default();
            for &pid in pids {
                let t = procfs::cpu_ticks(pid)?;
                servers.user += t.user;
                servers.system += t.system;
            }
            Ok((servers, procfs::cpu_ticks(std::process::id())?))
        };
        sleep_until(start);
        let (s0, c0) = read(&pids)?;
        sleep_until(end);
        let (s1, c1) = read(&pids)?;
        Ok((s1.since(s0), c1.since(c0)))
    })
}

fn sleep_until(when: Instant) {
    let now = Instant::now();
    if when > now {
        std::thread::sleep(when - now);
    }
}

/// One window: start the server, load it, read its CPU, stop it.
async fn sample(
    target: &str,
    n: usize,
    deaf: Option<bool>,
    config: &Config,
    setup: &Setup,
    node_setup: &Setup,
) -> Sample {
    let started = match start(target, n, setup, node_setup).await {
        Ok(started) => started,
        Err(e) => return Sample::failed(format!("{e:#}")),
    };
    let result = window(&started, target, n, deaf, config).await;
    started.stop();
    result.unwrap_or_else(|e| Sample::failed(format!("{e:#}")))
}

async fn window(
    started: &Started,
    target: &str,
    n: usize,
    deaf: Option<bool>,
    config: &Config,
) -> anyhow::Result<Sample> {
    // Subscribers take the servers in turn; the publisher and the deaf subscriber the first.
    let subscribers: Vec<Endpoint> =
        (0..n).map(|i| started.endpoints[i % started.endpoints.len()].clone()).collect();
    let first = &started.endpoints[0];
    let plan = fanout_client::Plan {
        window: config.window,
        warmup: Duration::from_secs_f64(config.warmup_s),
        measure: Duration::from_secs_f64(if deaf.is_some() {
            config.deaf_measure_s
        } else {
            config.measure_s
        }),
        welcome: target != NODE_WS,
        deaf: deaf == Some(true),
    };
    let mut sampler = None;
    let measured: Measured = fanout_client::run(&subscribers, first, first, plan, |start, end| {
        sampler = Some(cpu_sampler(started.pids.clone(), start, end));
    })
    .await?;
    let (server_cpu, client_cpu) = sampler
        .ok_or_else(|| anyhow::anyhow!("the window never opened"))?
        .join()
        .map_err(|_| anyhow::anyhow!("the /proc sampler panicked"))??;
    if let Some(why) = measured.lost.first() {
        anyhow::bail!(
            "{} of {n} subscribers lost their connection during the load; the first: {why}",
            measured.lost.len()
        );
    }
    anyhow::ensure!(measured.deliveries > 0, "nothing was delivered in the window");
    let ticks = procfs::ticks_per_second();
    let us = |p: f64| percentile(&measured.latencies_ns, p).map_or(0.0, |ns| f64::from(ns) / 1000.0);
    Ok(Sample {
        deliveries: measured.deliveries,
        seconds: (measured.window.1 - measured.window.0).as_secs_f64(),
        server_cpu_s: server_cpu.total(ticks).as_secs_f64(),
        client_cpu_s: client_cpu.total(ticks).as_secs_f64(),
        p50_us: us(50.0),
        p99_us: us(99.0),
        deaf: measured.deaf.map(Deaf::from),
        error: None,
    })
}

/// The cases of run `run`, in order: every server at every N, then the deaf cases. Each run
/// starts the servers' turn at another one, so that none is always measured first.
fn plan_cases(config: &Config, run: usize) -> Vec<(&'static str, usize, Option<bool>)> {
    let turn = |k: usize| (0..TARGETS.len()).map(move |i| TARGETS[(i + k) % TARGETS.len()]);
    let mut cases: Vec<_> = config
        .subscribers
        .iter()
        .enumerate()
        .flat_map(|(i, &n)| turn(run + i).map(move |t| (t, n, None)))
        .collect();
    if config.deaf_subscribers > 0 {
        // Each server without the deaf subscriber, then with it, over the same longer window.
        let servers = if run.is_multiple_of(2) { [ROOM, NODE_WS] } else { [NODE_WS, ROOM] };
        for target in servers {
            for deaf in [false, true] {
                cases.push((target, config.deaf_subscribers, Some(deaf)));
            }
        }
    }
    cases
}

/// Runs the measurement. `setup` says where the binaries are and the core the servers go on;
/// `node_script` is `node/broadcast.js`.
pub fn measure(
    config: Config,
    setup: &Setup,
    node_script: PathBuf,
    pinning: String,
) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let node_setup = Setup { node_script, ..setup.clone() };
    let mut cases: Vec<Case> = Vec::new();
    for run in 0..config.runs {
        eprintln!("fan-out: run {} of {}", run + 1, config.runs);
        for (target, n, deaf) in plan_cases(&config, run) {
            let s = runtime.block_on(sample(target, n, deaf, &config, setup, &node_setup));
            match &s.error {
                None => eprintln!(
                    "  {target:<10} N={n:<6}{} {:>10.0} deliveries/s  {:>6.3} µs CPU each  p50 {:>8.2} ms  p99 {:>8.2} ms  client {:>3.0} % busy{}",
                    match deaf {
                        None => "      ",
                        Some(false) => " alone",
                        Some(true) => " +deaf",
                    },
                    s.rate(),
                    s.cpu_us(),
                    s.p50_ms(),
                    s.p99_ms(),
                    s.client_busy() * 100.0,
                    s.deaf
                        .as_ref()
                        .map(|d| format!("; the deaf one got {} messages, then {}", d.messages, d.ended))
                        .unwrap_or_default()
                ),
                Some(e) => eprintln!("  {target:<10} N={n:<6} failed: {e}"),
            }
            match cases.iter_mut().find(|c| c.target == target && c.subscribers == n && c.deaf == deaf) {
                Some(case) => case.samples.push(s),
                None => {
                    cases.push(Case { target: target.to_owned(), subscribers: n, deaf, samples: vec![s] })
                }
            }
        }
    }
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned());
    Ok(Report { stamp: Stamp::now(), node, pinning, config, cases })
}

/// What the tables call each server.
pub fn label(target: &str) -> &'static str {
    match target {
        ROOM => "Duplex room, one process",
        NODE_WS => "Node.js `ws`, the README's broadcast loop",
        ROOM_REDIS => "two Duplex servers over Redis pub/sub",
        _ => "?",
    }
}

/// The file names the book includes.
pub const FILES: [&str; 4] =
    ["fanout.md.txt", "fanout-redis.md.txt", "fanout-deaf.md.txt", "fanout-targets.md.txt"];

/// The figure's file name.
pub const FIGURE: &str = "fanout.svg";

/// The targets of issue #18: at these N, deliveries/s at least this many times Node's …
pub const TARGET_RATE: f64 = 2.0;
/// … and CPU per delivery at most this fraction of Node's.
pub const TARGET_CPU: f64 = 0.5;
/// The N the two targets above are read at.
pub const TARGET_SUBSCRIBERS: [usize; 2] = [1000, 10_000];
/// With one deaf subscriber, the others' p99 may rise by less than this fraction.
pub const TARGET_DEAF: f64 = 0.10;

impl Report {
    /// Reads `fanout.json` from `dir`.
    pub fn read_from(dir: &Path) -> anyhow::Result<Report> {
        let path = dir.join("fanout.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Writes `fanout.json`, the tables and the figure into `dir`.
    pub fn write_to(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("fanout.json"), serde_json::to_string_pretty(self)? + "\n")?;
        self.render(dir)
    }

    /// Writes the tables and the figure into `dir` (not `fanout.json`).
    pub fn render(&self, dir: &Path) -> anyhow::Result<()> {
        for (name, text) in self.files()? {
            std::fs::write(dir.join(name), text)?;
        }
        Ok(())
    }

    /// Every file made from the report: the tables, then the figure.
    pub fn files(&self) -> anyhow::Result<Vec<(String, String)>> {
        let mut files: Vec<(String, String)> =
            FILES.iter().map(|n| (*n).to_owned()).zip(self.tables()).collect();
        files.push((FIGURE.to_owned(), crate::plot::fanout_svg(self)?));
        Ok(files)
    }

    /// The case of `target` at `n`, with or without the deaf subscriber.
    pub fn case(&self, target: &str, n: usize, deaf: Option<bool>) -> Option<&Case> {
        self.cases.iter().find(|c| c.target == target && c.subscribers == n && c.deaf == deaf)
    }

    fn median(&self, target: &str, n: usize, deaf: Option<bool>, metric: Metric) -> Option<f64> {
        self.case(target, n, deaf).and_then(|c| c.spread(metric)).map(|s| s.median)
    }

    /// `metric` of `a` over `metric` of `b` at `n`, taken within each run, then the median over
    /// the runs: a ratio survives a machine that is busier in one run than in another.
    pub fn ratio(&self, a: &str, b: &str, n: usize, metric: Metric) -> Option<f64> {
        let (a, b) = (self.case(a, n, None)?, self.case(b, n, None)?);
        let ratios = a
            .samples
            .iter()
            .zip(&b.samples)
            .filter(|(x, y)| x.error.is_none() && y.error.is_none() && metric(y) > 0.0)
            .map(|(x, y)| metric(x) / metric(y));
        Spread::of(ratios).map(|s| s.median)
    }

    /// How much the others' p99 rose with the deaf subscriber in the room: within each run, then
    /// the median over the runs.
    pub fn deaf_rise(&self, target: &str) -> Option<f64> {
        let n = self.config.deaf_subscribers;
        let (without, with) = (self.case(target, n, Some(false))?, self.case(target, n, Some(true))?);
        let rises = without
            .samples
            .iter()
            .zip(&with.samples)
            .filter(|(a, b)| a.error.is_none() && b.error.is_none() && a.p99_us > 0.0)
            .map(|(a, b)| b.p99_us / a.p99_us - 1.0);
        Spread::of(rises).map(|s| s.median)
    }

    /// The tables, in the order of [`FILES`].
    pub fn tables(&self) -> [String; 4] {
        [self.main_table(), self.redis_table(), self.deaf_table(), self.targets_table()]
    }

    fn cell(&self, case: Option<&Case>, metric: Metric, fmt: fn(f64) -> String) -> String {
        match case {
            Some(case) => match case.spread(metric) {
                Some(s) => spread(s, fmt),
                None => format!(
                    "failed: {}",
                    case.samples.iter().find_map(|s| s.error.clone()).unwrap_or_default()
                ),
            },
            None => "not measured".to_owned(),
        }
    }

    fn main_table(&self) -> String {
        use Align::{Left, Right};
        let mut table = Table::new(&[
            ("subscribers", Right),
            ("server", Left),
            ("deliveries/s", Right),
            ("server CPU per delivery (µs)", Right),
            ("latency p50 (ms)", Right),
            ("latency p99 (ms)", Right),
            ("client busy", Right),
        ]);
        for &n in &self.config.subscribers {
            for target in TARGETS {
                let case = self.case(target, n, None);
                let failed = case.is_some_and(|c| c.spread(Sample::rate).is_none());
                let percent = |v: f64| format!("{:.0}%", v * 100.0);
                let cells = if failed {
                    let why = self.cell(case, Sample::rate, short);
                    [why, String::new(), String::new(), String::new(), String::new()]
                } else {
                    [
                        self.cell(case, Sample::rate, thousands),
                        self.cell(case, Sample::cpu_us, short),
                        self.cell(case, Sample::p50_ms, short),
                        self.cell(case, Sample::p99_ms, short),
                        self.cell(case, Sample::client_busy, percent),
                    ]
                };
                table.row(&[
                    &thousands(n as f64),
                    label(target),
                    &cells[0],
                    &cells[1],
                    &cells[2],
                    &cells[3],
                    &cells[4],
                ]);
            }
        }
        format!(
            "One publisher and N subscribers in one room; {}-byte text messages, {} in flight; every \
             server process (redis-server too) pinned to one core, the client to the other. Median \
             (min–max) of {} runs of {} s after {} s of warm-up; {}, {}, {}, Node.js {} with ws {}.\n\n{}",
            fanout_client::PAYLOAD,
            self.config.window,
            self.config.runs,
            self.config.measure_s,
            self.config.warmup_s,
            self.stamp.date,
            self.stamp.machine(),
            self.stamp.rust(),
            self.node,
            crate::node::WS_VERSION,
            table.finish()
        )
    }

    fn redis_table(&self) -> String {
        use Align::{Left, Right};
        let mut table = Table::new(&[
            ("subscribers", Right),
            ("what", Left),
            ("one process", Right),
            ("over Redis", Right),
            ("added", Right),
        ]);
        let rows: [(&str, Metric); 2] =
            [("CPU per delivery (µs)", Sample::cpu_us), ("latency p50 (ms)", Sample::p50_ms)];
        for &n in &self.config.subscribers {
            for (what, metric) in rows {
                let one = self.median(ROOM, n, None, metric);
                let two = self.median(ROOM_REDIS, n, None, metric);
                let added = match (one, two) {
                    (Some(a), Some(b)) if a > 0.0 => {
                        format!("{} ({:+.0}%)", short(b - a), (b / a - 1.0) * 100.0)
                    }
                    _ => "n/a".to_owned(),
                };
                let fmt = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), short);
                table.row(&[&thousands(n as f64), what, &fmt(one), &fmt(two), &added]);
            }
        }
        format!(
            "The room in one process against two processes sharing it through Redis pub/sub, all on \
             the same one core (medians of the main table).\n\n{}",
            table.finish()
        )
    }

    fn deaf_table(&self) -> String {
        use Align::{Left, Right};
        let n = self.config.deaf_subscribers;
        let mut table = Table::new(&[
            ("server", Left),
            ("others' p99 without (ms)", Right),
            ("with one deaf subscriber (ms)", Right),
            ("change", Right),
            ("what the deaf subscriber got", Left),
        ]);
        for target in [ROOM, NODE_WS] {
            let without = self.case(target, n, Some(false));
            let with = self.case(target, n, Some(true));
            let change = match self.deaf_rise(target) {
                Some(rise) => format!("{:+.0}%", rise * 100.0),
                None => "n/a".to_owned(),
            };
            table.row(&[
                label(target),
                &self.cell(without, Sample::p99_ms, short),
                &self.cell(with, Sample::p99_ms, short),
                &change,
                &with.map_or_else(|| "not measured".to_owned(), deaf_story),
            ]);
        }
        format!(
            "{} subscribers, windows of {} s, each server without and then with one more subscriber \
             that is deaf: it joins as the window opens, completes the handshake, asks for a {}-byte \
             receive buffer and never reads; after the window the client reads what it was sent. The \
             change is taken within each run, then the median. Medians (min–max) of {} runs.\n\n{}",
            thousands(n as f64),
            self.config.deaf_measure_s,
            fanout_client::DEAF_RECEIVE_BUFFER,
            self.config.runs,
            table.finish()
        )
    }

    /// Whether each target of issue #18 was met, with the figures it reads.
    pub fn targets(&self) -> Vec<(String, String, &'static str)> {
        let mut rows = Vec::new();
        let verdict = |ok: bool| if ok { "yes" } else { "no" };
        for &n in &TARGET_SUBSCRIBERS {
            let ratio = |metric: Metric| {
                let r = self.ratio(ROOM, NODE_WS, n, metric)?;
                Some((r, self.median(ROOM, n, None, metric)?, self.median(NODE_WS, n, None, metric)?))
            };
            let n_text = thousands(n as f64);
            rows.push(match ratio(Sample::rate) {
                Some((r, room, node)) => (
                    format!("N = {n_text}: deliveries/s ≥ {TARGET_RATE}× Node `ws`"),
                    format!("{r:.1}× ({} against {})", thousands(room), thousands(node)),
                    verdict(r >= TARGET_RATE),
                ),
                None => (
                    format!("N = {n_text}: deliveries/s ≥ {TARGET_RATE}× Node `ws`"),
                    "not measured".into(),
                    "no",
                ),
            });
            rows.push(match ratio(Sample::cpu_us) {
                Some((r, room, node)) => (
                    format!("N = {n_text}: CPU per delivery ≤ {TARGET_CPU}× Node `ws`"),
                    format!("{r:.2}× ({} µs against {} µs)", short(room), short(node)),
                    verdict(r <= TARGET_CPU),
                ),
                None => (
                    format!("N = {n_text}: CPU per delivery ≤ {TARGET_CPU}× Node `ws`"),
                    "not measured".into(),
                    "no",
                ),
            });
        }
        let n = self.config.deaf_subscribers;
        let deaf_target =
            format!("one deaf subscriber: the others' p99 rises < {:.0}% (Duplex room)", TARGET_DEAF * 100.0);
        let without = self.median(ROOM, n, Some(false), Sample::p99_ms);
        let with = self.median(ROOM, n, Some(true), Sample::p99_ms);
        rows.push(match (self.deaf_rise(ROOM), without, with) {
            (Some(rise), Some(a), Some(b)) => (
                deaf_target,
                format!("{:+.0}% ({} ms → {} ms)", rise * 100.0, short(a), short(b)),
                verdict(rise < TARGET_DEAF),
            ),
            _ => (deaf_target, "not measured".into(), "no"),
        });
        let largest = self.config.subscribers.iter().copied().max().unwrap_or(0);
        let redis = |metric: Metric| {
            self.median(ROOM, largest, None, metric).zip(self.median(ROOM_REDIS, largest, None, metric))
        };
        rows.push(match (redis(Sample::cpu_us), redis(Sample::p50_ms)) {
            (Some((c1, c2)), Some((l1, l2))) => (
                "through Redis: cost per delivery and added latency, measured and explained".to_owned(),
                format!(
                    "N = {}: {} µs against {} µs per delivery, p50 {} ms against {} ms (the Redis table)",
                    thousands(largest as f64),
                    short(c2),
                    short(c1),
                    short(l2),
                    short(l1)
                ),
                "measured",
            ),
            _ => {
                ("through Redis: cost per delivery and added latency".to_owned(), "not measured".into(), "no")
            }
        });
        rows
    }

    fn targets_table(&self) -> String {
        use Align::{Centre, Left};
        let mut table = Table::new(&[("target (issue #18)", Left), ("measured", Left), ("met", Centre)]);
        for (target, measured, met) in self.targets() {
            table.row(&[&target, &measured, met]);
        }
        format!(
            "Ratios are taken within each run, then the median over the runs; the figures beside them \
             are the main table's medians ({}).\n\n{}",
            self.stamp.date,
            table.finish()
        )
    }
}

/// What the deaf subscriber got over the runs: messages, when the last was published, the end.
fn deaf_story(case: &Case) -> String {
    let deaf: Vec<&Deaf> = case.samples.iter().filter_map(|s| s.deaf.as_ref()).collect();
    let Some(messages) = Spread::of(deaf.iter().map(|d| d.messages as f64)) else {
        return "nothing recorded".to_owned();
    };
    let last = Spread::of(deaf.iter().filter_map(|d| d.last_published_ms));
    let mut ends: Vec<&str> = deaf.iter().map(|d| d.ended.as_str()).collect();
    ends.sort_unstable();
    ends.dedup();
    format!(
        "{} messages{}; then {}",
        spread(messages, thousands),
        last.map(|l| format!(", the last published {} ms after it joined", spread(l, short)))
            .unwrap_or_default(),
        ends.join(" / ")
    )
}

/// Where the book keeps the fan-out.
pub fn book_dir(root: &Path) -> PathBuf {
    root.join("book/src/measurements/fanout")
}

/// The Node room script, in this crate's `node/` folder.
pub fn node_script(root: &Path) -> PathBuf {
    root.join("crates/bench/node/broadcast.js")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_servers_announcement_gives_the_rooms_endpoint() {
        let url = crate::servers::url_in(
            "chat server A at ws://127.0.0.1:4100/ws/chat/NAME, rooms shared by: memory",
        )
        .unwrap();
        let endpoint = room_endpoint(&url).unwrap();
        assert_eq!(endpoint.path, "/ws/chat/bench");
        assert_eq!(endpoint.addr.port(), 4100);
    }

    #[test]
    fn every_run_measures_every_server_at_every_n_then_the_deaf_cases() {
        let cases = plan_cases(&Config::full(), 1);
        assert_eq!(cases.len(), 3 * 3 + 4, "three servers at three N, then two servers without and with");
        for target in [ROOM, NODE_WS] {
            assert!(cases.contains(&(target, DEAF_SUBSCRIBERS, Some(false))));
            assert!(cases.contains(&(target, DEAF_SUBSCRIBERS, Some(true))));
        }
    }

    #[test]
    fn the_window_stays_far_below_the_rooms_queue() {
        // A member must never be cut for being a window behind, and a slot of the delivery counts
        // must never be reused while its message is in flight.
        const { assert!(WINDOW * 4 <= chat::room::QUEUE) };
        const { assert!(WINDOW < fanout_client::RING) };
    }
}
