//! `bench`: measure the echo servers against Node's `ws` and write the book's tables and figures.

use std::path::PathBuf;

use bench::driver;
use bench::results::Plan;
use bench::servers::{self, Setup};
use clap::{Parser, Subcommand};

/// Measurements for the book's "Measurements" chapter.
///
/// `bench run` starts every echo server of the project and Node's `ws` as separate processes,
/// one at a time and in turn, loads each from this process with C connections that each send a
/// message and wait for its echo, and reads the server's CPU time and memory from /proc. It
/// writes markdown tables, SVG figures and run.json into the book (book/src/measurements/results)
/// or, with --quick, a short run into .bench-cache/quick. Build the servers first in release
/// mode (`just bench` does): the bench starts the binaries next to its own. After the echo,
/// `bench run` measures the fan-out too; `bench fanout` measures only that (one publisher, N
/// subscribers in one room: the chat chapter's room, Node's `ws`, two rooms over Redis; about four
/// minutes, `just bench-fanout`).
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure, then write tables, figures and run.json.
    Run(RunArgs),
    /// Load any running echo server and print messages/s and round-trip times (nothing is
    /// written). Handy with `strace -c -f -p PID` or `perf stat -p PID` on the server.
    Load {
        /// The server's URL, e.g. ws://127.0.0.1:9001/ws/echo.
        url: String,
        /// Connections, each with one message in flight.
        #[arg(long, default_value_t = 100)]
        connections: usize,
        /// Payload bytes per message.
        #[arg(long, default_value_t = 32)]
        size: usize,
        /// Seconds to measure (after one second of warm-up).
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
    /// Measure only what permessage-deflate costs and saves (bytes and CPU per feed message,
    /// the by-hand server's memory per connection) and write the compression chapter's tables.
    Compression {
        /// A short run for a class: one run, 200 connections, written to .bench-cache/quick.
        #[arg(long)]
        quick: bool,
        /// Do not pin client and server to separate cores.
        #[arg(long)]
        no_pin: bool,
    },
    /// Measure only the fan-out: one publisher and N subscribers (100, 1,000, 10,000) in one
    /// room, 32-byte messages; the chat chapter's room in one process, Node's `ws` with its
    /// README's broadcast loop, and two chat servers over Redis pub/sub (needs redis-server), in
    /// turn; then one deaf subscriber among 100. Writes fanout.json, its tables and its figure into
    /// book/src/measurements/fanout (about 4 minutes; --quick: about a minute, into
    /// .bench-cache/quick). Build chat-server in release mode first (`just bench-fanout` does).
    Fanout(FanoutArgs),
    /// Re-make the tables and figures from the kept data (nothing is measured): the echo run's
    /// from run.json, the request–response chapter's comparison (table and plot) from
    /// compare-transports.json, and the compression chapter's tables from compression.json. The
    /// run's transport rows are taken from that comparison, in case `just compare-transports` ran
    /// on its own since.
    Render {
        /// The folder with run.json.
        #[arg(long, default_value_os_t = book_results())]
        dir: PathBuf,
        /// The folder with compare-transports.json.
        #[arg(long, default_value_os_t = bench::transports::chapter_dir(&driver::workspace_root()))]
        comparison: PathBuf,
    },
}

#[derive(clap::Args)]
struct FanoutArgs {
    /// A short run for a class: one run, 100 and 1,000 subscribers, shorter windows; written to
    /// .bench-cache/quick.
    #[arg(long)]
    quick: bool,
    /// Repetitions of every case (default 3, quick 1).
    #[arg(long)]
    runs: Option<usize>,
    /// Subscriber counts, comma-separated (default 100,1000,10000; quick 100,1000).
    #[arg(long, value_delimiter = ',')]
    subscribers: Option<Vec<usize>>,
    /// Messages in flight (default 16; at most 64, well below the room's queue of 256).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    window: Option<u16>,
    /// Subscribers in the deaf-subscriber case (default 100; 0 skips it).
    #[arg(long)]
    deaf_subscribers: Option<usize>,
    /// Do not pin client and servers to separate cores.
    #[arg(long)]
    no_pin: bool,
    /// Where to write the results (default: the book's folder, or .bench-cache/quick).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// A short run for a class (a minute or two): fewer runs, shorter windows, 1,000 idle
    /// connections; written to .bench-cache/quick so the book's committed run stays as it is.
    #[arg(long)]
    quick: bool,
    /// Repetitions of every measurement (default 5, quick 1).
    #[arg(long)]
    runs: Option<usize>,
    /// Seconds of warm-up before each window (default 1, quick 0.5).
    #[arg(long)]
    warmup: Option<f64>,
    /// Seconds measured in each window (default 3, quick 1.5).
    #[arg(long)]
    measure: Option<f64>,
    /// Connection counts, comma-separated (default 1,100,1000; quick 1,100).
    #[arg(long, value_delimiter = ',')]
    connections: Option<Vec<usize>>,
    /// Message sizes in bytes, comma-separated (default 32,65536).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Idle connection counts, comma-separated (default 5000,10000; quick 1000).
    #[arg(long, value_delimiter = ',')]
    idle: Option<Vec<usize>>,
    /// Connection counts at which every server is measured again with an ordinary
    /// tokio-tungstenite client (a `WebSocketStream` per connection), 32-byte messages;
    /// comma-separated (default 100,1000; quick 100). The echo chapter compares both clients.
    #[arg(long, value_delimiter = ',')]
    ordinary: Option<Vec<usize>>,
    /// Servers to measure, comma-separated keys (default: all; see the book for the list).
    #[arg(long, value_delimiter = ',')]
    servers: Option<Vec<String>>,
    /// Skip the transport comparison (polling, SSE, WebSocket; about half a minute).
    #[arg(long)]
    no_transports: bool,
    /// Skip counting system calls with strace.
    #[arg(long)]
    no_strace: bool,
    /// Skip the compression measurements (permessage-deflate; about a minute).
    #[arg(long)]
    no_compression: bool,
    /// Skip the fan-out measurements (one publisher, N subscribers; about 4 minutes).
    #[arg(long)]
    no_fanout: bool,
    /// Do not pin client and server to separate cores.
    #[arg(long)]
    no_pin: bool,
    /// Where to write the results (default: the book's folder, or .bench-cache/quick).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn book_results() -> PathBuf {
    driver::workspace_root().join("book/src/measurements/results")
}

fn main() -> anyhow::Result<()> {
    guard::logging::init("warn");
    match Cli::parse().command {
        Command::Render { dir, comparison } => {
            let report = match bench::compare::Report::read_from(&comparison) {
                Ok(report) => {
                    report.write_to(&comparison)?;
                    println!("re-made the comparison's table and plot in {}", comparison.display());
                    Some(report)
                }
                Err(e) => {
                    println!("no comparison re-made: {e}");
                    None
                }
            };
            let mut run = bench::read_run(&dir)?;
            // A `just compare-transports` run on its own replaces the chapter's comparison but
            // not run.json's copy of its rows: take them from the comparison, so the targets
            // read the numbers the chapter shows.
            if !run.transports.is_empty()
                && let Some(report) = report
            {
                let rows = bench::transports::rows(&report);
                if rows != run.transports {
                    run.transports = rows;
                    bench::write_results(&run, &dir)?;
                    println!("took the transport rows from {}", comparison.display());
                }
            }
            bench::render(&run, &dir)?;
            println!("re-made the tables and figures in {}", dir.display());
            let compression = compression_dir();
            match bench::compression::Report::read_from(&compression) {
                Ok(report) => {
                    report.write_to(&compression)?;
                    println!("re-made the compression tables in {}", compression.display());
                }
                Err(e) => println!("no compression tables re-made: {e}"),
            }
            let fanout = bench::fanout::book_dir(&driver::workspace_root());
            match bench::fanout::Report::read_from(&fanout) {
                Ok(report) => {
                    report.render(&fanout)?;
                    println!("re-made the fan-out's tables and figure in {}", fanout.display());
                }
                Err(e) => println!("no fan-out tables re-made: {e}"),
            }
            Ok(())
        }
        Command::Run(args) => run(args),
        Command::Fanout(args) => {
            let root = driver::workspace_root();
            bench::node::ensure_ws(&root)?;
            guard::descriptors::raise_limit();
            let (server_core, pinning) = pin(args.no_pin);
            eprintln!("{pinning}");
            let setup = setup(&root, server_core, false)?;
            let mut config =
                if args.quick { bench::fanout::Config::quick() } else { bench::fanout::Config::full() };
            if let Some(runs) = args.runs {
                config.runs = runs.max(1);
            }
            if let Some(subscribers) = args.subscribers {
                config.subscribers = subscribers;
            }
            if let Some(n) = args.deaf_subscribers {
                config.deaf_subscribers = n;
            }
            if let Some(window) = args.window {
                config.window = usize::from(window);
            }
            let out = args.out.unwrap_or_else(|| {
                if args.quick { root.join(".bench-cache/quick") } else { bench::fanout::book_dir(&root) }
            });
            fanout(config, &setup, pinning, &out)
        }
        Command::Compression { quick, no_pin } => {
            let root = driver::workspace_root();
            let (server_core, pinning) = pin(no_pin);
            eprintln!("{pinning}");
            let setup = setup(&root, server_core, false)?;
            let out = if quick { root.join(".bench-cache/quick") } else { compression_dir() };
            compression(quick, &setup, &out)
        }
        Command::Load { url, connections, size, seconds } => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let measure = std::time::Duration::from_secs_f64(seconds);
            let round_trips = runtime.block_on(async {
                let streams = bench::client::connect_many(&url, connections).await?;
                let window = bench::client::window(std::time::Duration::from_secs(1), measure);
                bench::client::load(streams, bench::client::Script::binary(size), window).await
            })?;
            let us = |p| bench::stats::percentile(&round_trips, p).map_or(0.0, |ns| f64::from(ns) / 1000.0);
            println!(
                "{connections} connections × {size} B: {:.0} messages/s, round trip p50 {:.1} µs, p99 {:.1} µs",
                round_trips.len() as f64 / seconds,
                us(50.0),
                us(99.0)
            );
            Ok(())
        }
    }
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let root = driver::workspace_root();
    let quick = args.quick;
    let plan = Plan {
        runs: args.runs.unwrap_or(if quick { 1 } else { 5 }),
        warmup_s: args.warmup.unwrap_or(if quick { 0.5 } else { 1.0 }),
        measure_s: args.measure.unwrap_or(if quick { 1.5 } else { 3.0 }),
        connections: args
            .connections
            .unwrap_or_else(|| if quick { vec![1, 100] } else { vec![1, 100, 1000] }),
        sizes: args.sizes.unwrap_or_else(|| vec![32, 65536]),
        idle: args.idle.unwrap_or_else(|| if quick { vec![1000] } else { vec![5000, 10000] }),
        servers: args.servers.unwrap_or_else(|| servers::SERVERS.iter().map(|s| s.key.to_owned()).collect()),
        ordinary: args.ordinary.unwrap_or_else(|| if quick { vec![100] } else { vec![100, 1000] }),
    };
    let out =
        args.out.unwrap_or_else(|| if quick { root.join(".bench-cache/quick") } else { book_results() });
    bench::node::ensure_ws(&root)?;
    // Raised to the hard limit (children inherit it); `None` means there is no limit.
    let file_limit = guard::descriptors::raise_limit().unwrap_or(u64::MAX);
    // The client holds one descriptor per connection; each server is a process with its own limit.
    let needed = plan.idle.iter().copied().max().unwrap_or(0) + 256;
    if file_limit < needed as u64 {
        eprintln!(
            "warning: the open-file limit is {file_limit}; {needed} would let every idle test open all its \
             connections (raise it with `ulimit -n`)"
        );
    }
    // The transport comparison first: its servers are threads of this process, so it runs before
    // this process is pinned to one core. Its files go where the request–response chapter keeps
    // them (as `just compare-transports` writes them), or beside a quick run's.
    let transports = if args.no_transports {
        Vec::new()
    } else {
        let dir = if quick { out.clone() } else { bench::transports::chapter_dir(&root) };
        bench::transports::measure(quick, &dir)?
    };
    let (server_core, pinning) = pin(args.no_pin);
    eprintln!("{pinning}");
    let setup = setup(&root, server_core, !args.no_strace && bench::syscalls::strace_available())?;
    if !args.no_strace && !setup.strace {
        eprintln!("strace is not installed: system calls per message will not be counted");
    }
    let mut run = driver::run(&plan, &setup, pinning, file_limit)?;
    run.transports = transports;
    bench::write_results(&run, &out)?;
    println!("{}", bench::report::targets_table(&run));
    println!("results written to {}", out.display());
    if !args.no_compression {
        let dir = if quick { out.clone() } else { compression_dir() };
        compression(quick, &setup, &dir)?;
    }
    if !args.no_fanout {
        let config = if quick { bench::fanout::Config::quick() } else { bench::fanout::Config::full() };
        let dir = if quick { out.clone() } else { bench::fanout::book_dir(&root) };
        fanout(config, &setup, run.stamp.pinning.clone(), &dir)?;
    }
    Ok(())
}

/// The fan-out's measurements, written into `out`.
fn fanout(
    config: bench::fanout::Config,
    setup: &Setup,
    pinning: String,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let root = driver::workspace_root();
    let report = bench::fanout::measure(config, setup, bench::fanout::node_script(&root), pinning)?;
    report.write_to(out)?;
    for table in report.tables() {
        println!("{table}");
    }
    println!("fan-out results written to {}", out.display());
    Ok(())
}

/// Where the servers are and how they are started.
fn setup(root: &std::path::Path, server_core: Option<usize>, strace: bool) -> anyhow::Result<Setup> {
    let bin_dir = std::env::current_exe()?
        .parent()
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("the bench's own folder is unknown"))?;
    Ok(Setup {
        bin_dir,
        node_dir: bench::node::node_dir(root),
        node_script: servers::node_script(root),
        server_core,
        log_dir: root.join(".bench-cache/logs"),
        strace,
    })
}

/// Where the compression chapter keeps its measurements.
fn compression_dir() -> PathBuf {
    driver::workspace_root().join("book/src/compression/results")
}

/// The compression chapter's measurements, written into `out`.
fn compression(quick: bool, setup: &Setup, out: &std::path::Path) -> anyhow::Result<()> {
    use bench::compression::{Config, measure};
    let report = measure(if quick { Config::QUICK } else { Config::FULL }, setup)?;
    report.write_to(out)?;
    for table in report.tables() {
        println!("{table}");
    }
    println!("compression results written to {}", out.display());
    Ok(())
}

/// Pins this process (the client) to one core and returns the core for servers, with a sentence
/// saying what was done.
#[cfg(target_os = "linux")]
fn pin(no_pin: bool) -> (Option<usize>, String) {
    use bench::driver::CLIENT_CORE;
    use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
    if no_pin {
        return (None, "not pinned (--no-pin): client and server share every core".to_owned());
    }
    let Ok(allowed) = sched_getaffinity(None) else {
        return (None, "not pinned: the allowed cores could not be read".to_owned());
    };
    let cores: Vec<usize> = (0..CpuSet::MAX_CPU).filter(|&c| allowed.is_set(c)).collect();
    if cores.len() < 2 {
        return (None, "not pinned: only one core is available, so client and server share it".to_owned());
    }
    if !servers::taskset_available() {
        return (None, "not pinned: `taskset` (util-linux) is not installed".to_owned());
    }
    let client = if cores.contains(&CLIENT_CORE) { CLIENT_CORE } else { cores[0] };
    let server = cores.iter().copied().find(|&c| c != client).unwrap_or(client);
    let mut set = CpuSet::new();
    set.set(client);
    if sched_setaffinity(None, &set).is_err() {
        return (None, "not pinned: sched_setaffinity was refused".to_owned());
    }
    let others = cores.len() - 2;
    let rest = if others > 0 { format!("; {others} other cores left idle") } else { String::new() };
    (
        Some(server),
        format!("client on core {client}, server on core {server} (sched_setaffinity, taskset){rest}"),
    )
}

/// Elsewhere nothing is pinned: `sched_setaffinity` and `taskset` are Linux's (macOS has no way to
/// pin a process to a core).
#[cfg(not(target_os = "linux"))]
fn pin(no_pin: bool) -> (Option<usize>, String) {
    let why = if no_pin { "--no-pin" } else { "pinning to a core needs Linux" };
    (None, format!("not pinned ({why}): client and server share every core"))
}
