//! `heartbeat-client`: connect, answer pings, and notice a server that goes silent.

use std::time::Duration;

use clap::Parser;
use heartbeat::watchdog::{Seen, Watchdog, listen};
use heartbeat::{Heartbeat, config};

/// Connects to a pinging server and prints every ping as it arrives (tungstenite answers each
/// one by itself). If the server is silent for MISSED intervals and a half, the client gives up
/// and drops the connection, as it would after a pulled cable.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Where to connect.
    #[arg(default_value = "ws://127.0.0.1:9004/ws/heartbeat")]
    url: String,
    /// The server's ping interval, in seconds (the watchdog's unit).
    #[arg(long, default_value_t = config::INTERVAL.as_secs_f64())]
    interval: f64,
    /// Missed intervals before the client gives up.
    #[arg(long, default_value_t = config::MAX_MISSED)]
    missed: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    guard::logging::init("warn");
    let args = Args::parse();
    let interval =
        Duration::try_from_secs_f64(args.interval).map_err(|e| anyhow::anyhow!("--interval: {e}"))?;
    let watchdog = Watchdog::for_heartbeat(&Heartbeat::new(interval, args.missed));
    let ws = serve::client::connect(&args.url, None).await?;
    tap::outln!("connected to {}; silence of {} s ends it", args.url, watchdog.silence.as_secs_f64());
    let listening = listen(ws, watchdog, None, |seen: Seen| {
        tap::outln!("{} {}", heartbeat::endings::clock(seen.at), seen.what);
    });
    tokio::select! {
        ending = listening => tap::outln!("{ending}"),
        // Nobody reads any more (`just heartbeat-client | head`): stop quietly.
        () = tap::out::closed() => {}
    }
    Ok(())
}
