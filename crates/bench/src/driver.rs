//! The driver: starts each server as its own process, loads it from this process, and reads what
//! the server used from `/proc`. Servers are interleaved inside every run, so a machine that gets
//! busier halfway through slows all of them, not only the last one measured.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::client::{self, Script};
use crate::procfs::{self, CpuTicks};
use crate::results::{Client, EchoCase, EchoSample, IdleCase, IdleSample, ORDINARY_SIZE, Plan, Run};
use crate::servers::{self, Running, Server, Setup};
use crate::stamp;
use crate::stats::percentile;
use crate::syscalls::{SyscallRow, Tracer};

/// The core the load client runs on; servers get the next one.
pub const CLIENT_CORE: usize = 0;

/// Connections opened and closed before the idle test's first reading, so that what a server
/// allocates once (thread pools, allocator arenas, lazily built tables) is not counted per
/// connection.
pub const IDLE_WARMUP_CONNECTIONS: usize = 16;

/// How long the idle connections sit before the server's memory is read: the server has sent
/// `101` by the time the client's handshake is done, but may still be setting the connection up.
pub const IDLE_SETTLE: Duration = Duration::from_secs(1);

/// Runs the whole plan and returns the results.
pub fn run(plan: &Plan, setup: &Setup, pinning: String, file_limit: u64) -> anyhow::Result<Run> {
    let servers: Vec<&Server> = plan
        .servers
        .iter()
        .map(|key| {
            servers::by_key(key).with_context(|| {
                let known: Vec<&str> = servers::SERVERS.iter().map(|s| s.key).collect();
                format!("no server called {key:?}; the servers are {}", known.join(", "))
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut stamp = stamp::RunStamp::now(pinning, file_limit);
    let mut echo: Vec<EchoCase> = Vec::new();
    let mut idle: Vec<IdleCase> = Vec::new();
    // Every case the bench's own client measures, then the ordinary client's (32 B only).
    let cases: Vec<(Client, usize, usize)> = plan
        .sizes
        .iter()
        .flat_map(|&size| plan.connections.iter().map(move |&c| (Client::Raw, c, size)))
        .chain(plan.ordinary.iter().map(|&c| (Client::Ordinary, c, ORDINARY_SIZE)))
        .collect();
    for run in 0..plan.runs {
        let load = stamp::load_average();
        let busy = stamp::busy_fraction(Duration::from_secs(1));
        stamp.load.push(load);
        stamp.busy.push(busy);
        eprintln!(
            "run {} of {} (cores {:.0} % busy with other programs; load average {load:.2})",
            run + 1,
            plan.runs,
            busy * 100.0
        );
        for (index, &(client, connections, size)) in cases.iter().enumerate() {
            for server in rotated(&servers, run + index) {
                // The variants are measured at one load, and only with the bench's own client.
                if server.variant && (connections != servers::VARIANT_CONNECTIONS || client != Client::Raw) {
                    continue;
                }
                let sample = runtime.block_on(measure_echo(server, setup, plan, client, connections, size));
                let by = if client == Client::Raw { "" } else { "  (tokio-tungstenite client)" };
                match &sample.error {
                    None => eprintln!(
                        "  {:<9} C={connections:<5} {size:>6} B  {:>9.0} msg/s  p50 {:>7.1} µs  p99 {:>8.1} µs  \
                         server {:>6.2} µs/msg  client {:>6.2} µs/msg  {:>5.1} msg/wake-up{by}",
                        server.key,
                        sample.rate(),
                        sample.p50_us,
                        sample.p99_us,
                        sample.server_us_per_message(),
                        sample.client_us_per_message(),
                        sample.messages_per_wakeup()
                    ),
                    Some(e) => {
                        eprintln!("  {:<9} C={connections:<5} {size:>6} B  failed: {e}{by}", server.key)
                    }
                }
                push_echo(&mut echo, server.key, client, connections, size, sample);
            }
        }
        for (index, &n) in plan.idle.iter().enumerate() {
            for server in rotated(&servers, run + index) {
                let sample = runtime.block_on(measure_idle(server, setup, n));
                match &sample.error {
                    None => eprintln!(
                        "  {:<9} {n} idle: {:.2} KiB per connection, {:.2} KiB once used ({} open)",
                        server.key,
                        sample.per_connection() / 1024.0,
                        sample.per_used_connection() / 1024.0,
                        sample.open
                    ),
                    Some(e) => eprintln!("  {:<9} {n} idle: failed: {e}", server.key),
                }
                push_idle(&mut idle, server.key, n, sample);
            }
        }
    }
    let mut syscalls = Vec::new();
    if setup.strace {
        for &size in &plan.sizes {
            for server in servers.iter().filter(|s| !s.variant) {
                match runtime.block_on(count_syscalls(server, setup, size)) {
                    Ok(row) => {
                        eprintln!(
                            "  {:<9} {size:>6} B  {:.2} system calls per message (strace)",
                            server.key,
                            row.total_per_message()
                        );
                        syscalls.push(row);
                    }
                    Err(e) => eprintln!("  {:<9} {size:>6} B  strace failed: {e:#}", server.key),
                }
            }
        }
    }
    Ok(Run { stamp, plan: plan.clone(), echo, idle, transports: Vec::new(), syscalls })
}

/// How long strace stays attached while the load runs.
pub const STRACE_WINDOW: Duration = Duration::from_secs(2);

/// Counts one server's system calls under `servers::VARIANT_CONNECTIONS` connections.
async fn count_syscalls(server: &Server, setup: &Setup, size: usize) -> anyhow::Result<SyscallRow> {
    let running = Running::start(server, setup, &[])?;
    let result = async {
        let connections = servers::VARIANT_CONNECTIONS;
        let streams = client::connect_many(&running.url, connections).await?;
        let out = setup.log_dir.join(format!("strace-{}-{size}.txt", server.key));
        let tracer = Tracer::attach(running.pid(), out)?;
        // Every round trip counts: the window starts now and strace is already attached.
        let round_trips =
            client::load(streams, Script::binary(size), client::window(Duration::ZERO, STRACE_WINDOW)).await;
        let calls = tracer.finish()?;
        let messages = round_trips?.len() as u64;
        anyhow::Ok(SyscallRow { server: server.key.to_owned(), connections, size, messages, calls })
    }
    .await;
    running.stop();
    result
}

/// `servers` starting at `shift` (mod their number): each run and case begins with another one.
fn rotated<'a>(servers: &[&'a Server], shift: usize) -> Vec<&'a Server> {
    let n = servers.len().max(1);
    (0..servers.len()).map(|i| servers[(i + shift) % n]).collect()
}

fn push_echo(
    cases: &mut Vec<EchoCase>,
    server: &str,
    client: Client,
    connections: usize,
    size: usize,
    sample: EchoSample,
) {
    match cases
        .iter_mut()
        .find(|c| c.server == server && c.client == client && c.connections == connections && c.size == size)
    {
        Some(case) => case.samples.push(sample),
        None => cases.push(EchoCase {
            server: server.to_owned(),
            connections,
            size,
            client,
            samples: vec![sample],
        }),
    }
}

fn push_idle(cases: &mut Vec<IdleCase>, server: &str, connections: usize, sample: IdleSample) {
    match cases.iter_mut().find(|c| c.server == server && c.connections == connections) {
        Some(case) => case.samples.push(sample),
        None => cases.push(IdleCase { server: server.to_owned(), connections, samples: vec![sample] }),
    }
}

/// Extra arguments so a server accepts `n` connections: the Rust servers refuse connections past
/// `MAX_CONNECTIONS` (1,024) unless told otherwise; Node's `ws` has no such limit.
fn capacity_args(server: &Server, n: usize) -> Vec<String> {
    match server.launch {
        servers::Launch::Rust { .. } if n > 1000 => {
            vec!["--max-connections".to_owned(), (n + IDLE_WARMUP_CONNECTIONS).to_string()]
        }
        _ => Vec::new(),
    }
}

/// One server, one load: start it, connect, warm up, measure a window, stop it.
async fn measure_echo(
    server: &Server,
    setup: &Setup,
    plan: &Plan,
    client: Client,
    connections: usize,
    size: usize,
) -> EchoSample {
    let running = match Running::start(server, setup, &capacity_args(server, connections)) {
        Ok(running) => running,
        Err(e) => return EchoSample::failed(e.to_string()),
    };
    let sample = echo_window(&running, plan, client, connections, size).await;
    running.stop();
    sample.unwrap_or_else(|e| EchoSample::failed(format!("{e:#}")))
}

async fn echo_window(
    running: &Running,
    plan: &Plan,
    by: Client,
    connections: usize,
    size: usize,
) -> anyhow::Result<EchoSample> {
    // Connect before the window, with the client that will load the server.
    let (raw, ordinary) = match by {
        Client::Raw => (client::connect_many(&running.url, connections).await?, Vec::new()),
        Client::Ordinary => (Vec::new(), client::connect_many_ordinary(&running.url, connections).await?),
    };
    let measure = Duration::from_secs_f64(plan.measure_s);
    let window = client::window(Duration::from_secs_f64(plan.warmup_s), measure);
    // A thread of its own reads /proc at the window's edges, on time even while the client's
    // runtime is busy.
    let pid = running.pid();
    type Readings = (CpuTicks, CpuTicks, u64);
    let sampler = std::thread::spawn(move || -> Result<Readings, procfs::ProcError> {
        sleep_until(window.start);
        let (server0, client0) = (procfs::cpu_ticks(pid)?, procfs::cpu_ticks(std::process::id())?);
        let wakeups0 = procfs::wakeups(pid)?;
        sleep_until(window.end);
        let (server1, client1) = (procfs::cpu_ticks(pid)?, procfs::cpu_ticks(std::process::id())?);
        let wakeups1 = procfs::wakeups(pid)?;
        Ok((server1.since(server0), client1.since(client0), wakeups1.since(&wakeups0)))
    });
    let round_trips = match by {
        Client::Raw => client::load(raw, Script::binary(size), window).await,
        Client::Ordinary => client::load_ordinary(ordinary, size, window).await,
    };
    let (server_cpu, client_cpu, wakeups) =
        sampler.join().map_err(|_| anyhow::anyhow!("the /proc sampler panicked"))??;
    let round_trips = round_trips?;
    let ticks = procfs::ticks_per_second();
    let us = |p: f64| percentile(&round_trips, p).map_or(0.0, |ns| f64::from(ns) / 1000.0);
    Ok(EchoSample {
        messages: round_trips.len() as u64,
        seconds: measure.as_secs_f64(),
        p50_us: us(50.0),
        p99_us: us(99.0),
        server_cpu_s: server_cpu.total(ticks).as_secs_f64(),
        client_cpu_s: client_cpu.total(ticks).as_secs_f64(),
        server_wakeups: Some(wakeups),
        error: None,
    })
}

fn sleep_until(when: Instant) {
    let now = Instant::now();
    if when > now {
        std::thread::sleep(when - now);
    }
}

/// One server, `n` idle connections: RSS before, RSS with them open.
async fn measure_idle(server: &Server, setup: &Setup, n: usize) -> IdleSample {
    let failed = |why: String| IdleSample {
        rss_before: 0,
        rss_after: 0,
        rss_after_message: 0,
        open: 0,
        error: Some(why),
    };
    let running = match Running::start(server, setup, &capacity_args(server, n)) {
        Ok(running) => running,
        Err(e) => return failed(e.to_string()),
    };
    let sample = idle_reading(&running, n).await.unwrap_or_else(|e| failed(format!("{e:#}")));
    running.stop();
    sample
}

async fn idle_reading(running: &Running, n: usize) -> anyhow::Result<IdleSample> {
    let pid = running.pid();
    // Warm up: a few connections that each echo once, then close.
    let warm = client::connect_many(&running.url, IDLE_WARMUP_CONNECTIONS).await?;
    let window = client::window(Duration::ZERO, Duration::from_millis(100));
    client::load(warm, Script::binary(32), window).await?;
    tokio::time::sleep(IDLE_SETTLE).await;
    let rss_before = procfs::rss(pid)?;
    let mut open = client::connect_many(&running.url, n).await.with_context(|| {
        format!("opening {n} connections (is the file limit high enough? see `ulimit -n`)")
    })?;
    tokio::time::sleep(IDLE_SETTLE).await;
    let rss_after = procfs::rss(pid)?;
    let count = open.len();
    // Now every connection echoes one small message, then all are idle again.
    let script = Script::binary(32);
    for stream in &mut open {
        client::round_trip(stream, &script).await?;
    }
    tokio::time::sleep(IDLE_SETTLE).await;
    let rss_after_message = procfs::rss(pid)?;
    drop(open);
    Ok(IdleSample { rss_before, rss_after, rss_after_message, open: count, error: None })
}

/// The workspace root (this crate is at `crates/bench`).
pub fn workspace_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}
