//! `chat-server`: the chapter's chat server, standalone.

use chat::Mode;
use chat::server::{Config, DEFAULT_PORT, Server};
use clap::Parser;
use tokio::net::TcpListener;

/// A chat server: rooms at ws://HOST:PORT/ws/chat/NAME, every message sent to every member.
///
/// Run two of them and put them behind a proxy (the book's nginx configuration is
/// crates/chat/conf/nginx.conf). With `--mode memory` each keeps its rooms to itself; with
/// `--mode pubsub` or `--mode streams` they share them through Redis (`--redis URL`). With
/// streams, clients send `KEY TEXT` (the key names the message, so a resend is stored once),
/// get `ID KEY TEXT`, and come back with `?after=ID`. Ctrl-C closes every connection with 1012
/// (service restart), as a deploy would.
///
/// Try: `just chat-server --port 9006 --name A --mode pubsub --redis redis://127.0.0.1:6379/`,
/// the same with `--port 9011 --name B`, then a client on each: in a browser's console,
/// `ws = new WebSocket("ws://127.0.0.1:9006/ws/chat/lobby"); ws.onmessage = e => console.log(e.data)`
/// and `ws.send("hi")`.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; 0.0.0.0 lets other machines in the room connect.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// This server's name, said in every welcome.
    #[arg(long, default_value = "A")]
    name: String,
    /// How servers share their rooms.
    #[arg(long, value_enum, default_value_t = Mode::Memory)]
    mode: Mode,
    /// Redis's URL, for --mode pubsub and streams.
    #[arg(long)]
    redis: Option<String>,
    /// Messages a member may be behind before it is cut with 1013.
    #[arg(long, default_value_t = chat::room::QUEUE)]
    queue: usize,
    #[command(flatten)]
    limits: guard::LimitArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    guard::logging::init("info");
    let args = Args::parse();
    if args.mode.needs_redis() && args.redis.is_none() {
        anyhow::bail!("--mode {} needs --redis URL (e.g. redis://127.0.0.1:6379/)", args.mode);
    }
    let address = format!("{}:{}", args.host, args.port);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e} (choose another with --port)"))?;
    let mut config = Config::new(&args.name, args.mode, args.redis);
    config.queue = args.queue;
    config.limits = args.limits.limits();
    let server = Server::start(listener, config).await?;
    println!(
        "chat server {} at ws://{}/ws/chat/NAME, rooms shared by: {}",
        server.name(),
        server.addr(),
        args.mode
    );
    tokio::signal::ctrl_c().await?;
    println!("leaving: every connection gets close 1012 (service restart)");
    server.leave().await;
    Ok(())
}
