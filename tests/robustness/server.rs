//! `robustness-server NAME`: one of Duplex's servers, alone in a process, for the robustness
//! suite (`tests/robustness.rs`), which measures the process's memory from `/proc`.
//!
//! It listens on `127.0.0.1:0`, prints the address on the first line of stdout, and serves with
//! the default limits until its stdin is closed (so it ends with the test that started it, even
//! a test that failed).

use std::io::{Read, Write};
use std::sync::Arc;

use anyhow::Context;

/// The servers this binary can run, by the names the suite uses.
const NAMES: &str =
    "ws-echo, ws-echo-blocking, ws-by-hand, heartbeat, book, feed, tcp-raw, tcp-lines, tcp-length-prefixed";

fn main() -> anyhow::Result<()> {
    let name = std::env::args().nth(1).with_context(|| format!("which server? one of: {NAMES}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let site = tempfile::tempdir()?;
    std::fs::write(site.path().join("index.html"), "<!doctype html><title>Duplex</title><p>the book\n")?;
    let addr = runtime.block_on(start(&name, site.path()))?;
    println!("{addr}");
    std::io::stdout().flush()?;
    // Serve until the test closes our stdin (or dies, which closes it too).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(runtime);
    Ok(())
}

/// The token the suite's clients send as `Authorization: Bearer`, to be let in by one-port.
const ONE_PORT_TOKEN: &str = "robustness-token";

async fn start(name: &str, site: &std::path::Path) -> anyhow::Result<std::net::SocketAddr> {
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
        other => anyhow::bail!("no server called {other:?}; one of: {NAMES}"),
    };
    Ok(addr)
}
