//! `heartbeat-server`: the chapter's pinging echo server, standalone.

use std::time::Duration;

use clap::Parser;
use heartbeat::server::{DEFAULT_PORT, Shutdown, serve};
use heartbeat::{Heartbeat, Settings, config};
use tokio::net::TcpListener;

/// A WebSocket echo that pings every connection and drops the ones that stop answering.
///
/// It listens at ws://HOST:PORT/ws/heartbeat. Every INTERVAL seconds it pings each client; a
/// client that leaves MISSED pings in a row unanswered is dropped without a close frame (it could
/// not answer one). A client that sends no message (pings do not count) for --idle-timeout seconds is
/// closed with 1000. Ctrl-C
/// closes every connection with 1001 (going away) before the server exits.
///
/// Watch it through the Tap: `just tap 127.0.0.1:9005 127.0.0.1:9004`, then
/// `just heartbeat-client ws://127.0.0.1:9005/ws/heartbeat`.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; 0.0.0.0 lets other machines in the room connect.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Seconds between pings.
    #[arg(long, default_value_t = config::INTERVAL.as_secs_f64())]
    interval: f64,
    /// Unanswered pings in a row before a client is dropped.
    #[arg(long, default_value_t = config::MAX_MISSED)]
    missed: u32,
    #[command(flatten)]
    limits: guard::LimitArgs,
    #[command(flatten)]
    origins: guard::OriginArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    guard::logging::init("info");
    let args = Args::parse();
    let seconds =
        |s: f64, what: &str| Duration::try_from_secs_f64(s).map_err(|e| anyhow::anyhow!("--{what} {s}: {e}"));
    let heartbeat = Heartbeat::new(seconds(args.interval, "interval")?, args.missed);
    let limits = guard::Limits { origins: args.origins.origins(), ..args.limits.limits() };
    let settings = Settings { heartbeat, limits };
    let address = format!("{}:{}", args.host, args.port);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e} (choose another with --port)"))?;
    println!(
        "heartbeat server at ws://{}{}: a ping every {} s, dropped after {} missed",
        listener.local_addr()?,
        heartbeat::PATH,
        args.interval,
        args.missed
    );
    let shutdown = Shutdown::new();
    let server = tokio::spawn(serve(listener, settings.clone(), shutdown.clone()));
    tokio::signal::ctrl_c().await?;
    println!("shutting down: every connection gets close 1001");
    shutdown.trigger();
    // `serve` returns once every connection has finished its close handshake.
    server.await??;
    Ok(())
}
