//! `ws-by-hand-server`: the by-hand WebSocket echo, standalone.

use clap::Parser;
use tokio::net::TcpListener;
use ws_by_hand::{PATH, server};

/// A WebSocket echo server written without a WebSocket library: a TCP stream and the wire codec.
///
/// It listens at ws://HOST:PORT/ws/echo and speaks plain RFC 6455, so any client works:
/// `ws-echo-client ws://127.0.0.1:9002/ws/echo hello`, Python's `python3 -m websockets`, or a
/// browser's console (`new WebSocket("ws://127.0.0.1:9002/ws/echo")`) on a page the server lets
/// in: this book under `cargo run` with `--allow-origin http://127.0.0.1:3000`. Put the Tap in
/// front (`just tap 127.0.0.1:9003 127.0.0.1:9002`) to see every byte, and break a rule to see
/// its close code.
///
/// With --deflate it also accepts permessage-deflate, the compression browsers offer
/// (RFC 7692): a browser's messages then arrive compressed (RSV1 set on their first frame) and
/// the echoes go back compressed. The Tap shows both.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; 0.0.0.0 lets other machines in the room connect.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = server::DEFAULT_PORT)]
    port: u16,
    #[command(flatten)]
    limits: guard::LimitArgs,
    #[command(flatten)]
    origins: guard::OriginArgs,
    #[command(flatten)]
    protocols: guard::ProtocolArgs,
    #[command(flatten)]
    deflate: ws_by_hand::compression::DeflateArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    guard::logging::init("info");
    let args = Args::parse();
    let limits = guard::Limits {
        origins: args.origins.origins(),
        protocols: args.protocols.protocols(),
        ..args.limits.limits()
    };
    let config = server::Config { limits, deflate: args.deflate.config() };
    let address = format!("{}:{}", args.host, args.port);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e} (choose another with --port)"))?;
    println!("by-hand WebSocket echo at ws://{}{PATH}", listener.local_addr()?);
    if let Some(deflate) = &config.deflate {
        println!("permessage-deflate accepted when offered: {deflate:?}");
    }
    server::serve(listener, config).await?;
    Ok(())
}
