//! `robustness-server NAME [--nofile N] [--log LEVEL]`: one of Duplex's servers, alone in a
//! process, for the robustness suite (`tests/robustness.rs`), which measures the process's memory
//! from `/proc` (on Linux), and the descriptor suite (`tests/descriptors.rs`), which runs it with
//! few file descriptors.
//!
//! It listens on `127.0.0.1:0`, prints the address on the first line of stdout, and serves with
//! the default limits until its stdin is closed (so it ends with the test that started it, even
//! a test that failed). `--nofile N` lowers the process's limit on file descriptors to N (soft
//! and hard, so nothing can raise it again) before anything is opened; `--log LEVEL` logs to
//! stderr as the server binaries do (off by default).

use std::io::{Read, Write};
use std::sync::Arc;

use anyhow::Context;

/// The servers this binary can run, by the names the suite uses.
const NAMES: &str = "ws-echo, ws-echo-blocking, ws-by-hand, heartbeat, book, feed, one-port, tcp-raw, tcp-lines, \
                     tcp-length-prefixed, tap, tls-front";

fn main() -> anyhow::Result<()> {
    // Up to 500 clients at once: more descriptors than some systems allow by default (macOS: 256).
    // `--nofile` lowers the limit again, after this.
    guard::descriptors::raise_limit();
    let mut args = std::env::args().skip(1);
    let name = args.next().with_context(|| format!("which server? one of: {NAMES}"))?;
    let mut upstream = None;
    while let Some(flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--nofile" => limit_descriptors(value.parse().context("--nofile takes a number")?)?,
            "--log" => guard::logging::init(&value),
            "--upstream" => upstream = Some(value.parse().context("--upstream takes host:port")?),
            other => {
                anyhow::bail!("unknown flag {other}; the flags are --nofile N, --log LEVEL, --upstream ADDR")
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let site = tempfile::tempdir()?;
    std::fs::write(site.path().join("index.html"), "<!doctype html><title>Duplex</title><p>the book\n")?;
    let addr = runtime.block_on(start(&name, site.path(), upstream))?;
    println!("{addr}");
    std::io::stdout().flush()?;
    // Serve until the test closes our stdin (or dies, which closes it too).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(runtime);
    Ok(())
}

/// Lowers the limit on open files to `n`, soft and hard.
fn limit_descriptors(n: u64) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, setrlimit};
        setrlimit(Resource::Nofile, Rlimit { current: Some(n), maximum: Some(n) })?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        anyhow::bail!("--nofile {n}: this system has no per-process limit on descriptors to lower")
    }
}

/// The token the suite's clients send as `Authorization: Bearer`, to be let in by one-port.
const ONE_PORT_TOKEN: &str = "robustness-token";

async fn start(
    name: &str,
    site: &std::path::Path,
    upstream: Option<std::net::SocketAddr>,
) -> anyhow::Result<std::net::SocketAddr> {
    let limits = guard::Limits::default();
    let tokio_listener = || async { tokio::net::TcpListener::bind("127.0.0.1:0").await };
    let addr = match name {
        "ws-echo" => {
            let listener = tokio_listener().await?;
            let addr = listener.local_addr()?;
            tokio::spawn(ws_echo::server::serve(listener, limits));
            addr
        }
        "ws-echo-blocking" => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            let addr = listener.local_addr()?;
            std::thread::spawn(move || ws_echo::blocking::serve(listener, limits));
            addr
        }
        "ws-by-hand" => {
            let listener = tokio_listener().await?;
            let addr = listener.local_addr()?;
            tokio::spawn(ws_by_hand::server::serve(listener, limits));
            addr
        }
        "heartbeat" => {
            let listener = tokio_listener().await?;
            let addr = listener.local_addr()?;
            let settings = heartbeat::Settings::default();
            tokio::spawn(heartbeat::server::serve(listener, settings, heartbeat::server::Shutdown::new()));
            addr
        }
        "book" => {
            let config = duplex::server::Config { site: site.to_path_buf(), limits };
            let running = duplex::server::start("127.0.0.1", 0, config)?;
            let addr = running.addr();
            // It serves on its own threads until the process ends.
            std::mem::forget(running);
            addr
        }
        "one-port" => {
            use one_port::admission::{Admission, Sessions};
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            let addr = listener.local_addr()?;
            let sessions = Sessions::new();
            // The suite's well-behaved clients sign in with this bearer token.
            sessions.insert(ONE_PORT_TOKEN, "robust");
            let admission = Admission::new(sessions).allow_loopback("http", addr.port());
            let running = one_port::server::start(listener, one_port::server::Config::new(admission))?;
            std::mem::forget(running);
            addr
        }
        "feed" => {
            let feed = Arc::new(http_polling::Feed::new(http_polling::limits::HISTORY));
            let service = http_polling::Service::new(feed, http_polling::Limits::default());
            let running = http_polling::server::start(std::net::TcpListener::bind("127.0.0.1:0")?, service)?;
            let addr = running.addr();
            std::mem::forget(running);
            addr
        }
        "tcp-raw" | "tcp-lines" | "tcp-length-prefixed" => {
            use tcp_socket::echo::Framing;
            let framing = match name {
                "tcp-raw" => Framing::Raw,
                "tcp-lines" => Framing::Lines,
                _ => Framing::LengthPrefixed,
            };
            let listener = tokio_listener().await?;
            let addr = listener.local_addr()?;
            let slots = guard::Slots::new(limits.max_connections);
            tokio::spawn(tcp_socket::echo::serve_with(listener, framing, limits, slots));
            addr
        }
        "tap" => {
            // The Tap in front of `--upstream` (a server in another process: in this one, the
            // server would wait for descriptors the Tap's half-open relays hold): two
            // descriptors per connection.
            let upstream = upstream.context("the tap needs --upstream HOST:PORT")?;
            let tap = tap::Tap::bind("127.0.0.1:0", upstream).await?;
            let addr = tap.local_addr();
            tokio::spawn(tap.run());
            addr
        }
        "tls-front" => {
            // One-port's TLS front (wss://) in front of a raw TCP echo.
            let echo = tokio_listener().await?;
            let upstream = echo.local_addr()?;
            let slots = guard::Slots::new(limits.max_connections);
            tokio::spawn(tcp_socket::echo::serve_with(echo, tcp_socket::echo::Framing::Raw, limits, slots));
            let cert = one_port::tls::LocalCert::generate()?;
            let listener = tokio_listener().await?;
            let addr = listener.local_addr()?;
            tokio::spawn(one_port::tls::terminate(listener, cert.server_config()?, upstream));
            addr
        }
        other => anyhow::bail!("no server called {other:?}; one of: {NAMES}"),
    };
    Ok(addr)
}
