//! `ws-echo-server`: the chapter's async echo server, standalone.

use clap::Parser;
use tokio::net::TcpListener;

/// A WebSocket echo server: every text or binary message comes straight back.
///
/// It listens at ws://HOST:PORT/ws/echo. Try it with `ws-echo-client`, a browser's console on a
/// page it lets in (`new WebSocket("ws://127.0.0.1:9001/ws/echo")` on this book under `cargo
/// run`, with `--allow-origin http://127.0.0.1:3000`), or put the Tap in front of it
/// (`just tap 127.0.0.1:9002 127.0.0.1:9001`) to see every byte. A plain
/// `curl -i http://127.0.0.1:9001/ws/echo` shows how it answers a request that is not an upgrade.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; 0.0.0.0 lets other machines in the room connect.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = ws_echo::server::DEFAULT_PORT)]
    port: u16,
    /// Threads that run connections. 1, the default, is one event loop like Node's: no work
    /// moves between threads, so nothing is locked or handed over per message. More threads
    /// (tokio's multi-threaded runtime) pay off when one core is not enough.
    #[arg(long, default_value_t = ws_echo::server::DEFAULT_THREADS)]
    threads: usize,
    /// Use the blocking server (a thread per connection) instead of the async one.
    #[arg(long)]
    blocking: bool,
    #[command(flatten)]
    limits: guard::LimitArgs,
    #[command(flatten)]
    origins: guard::OriginArgs,
    #[command(flatten)]
    protocols: guard::ProtocolArgs,
}

fn main() -> anyhow::Result<()> {
    guard::logging::init("info");
    let args = Args::parse();
    let limits = guard::Limits {
        origins: args.origins.origins(),
        protocols: args.protocols.protocols(),
        ..args.limits.limits()
    };
    let address = format!("{}:{}", args.host, args.port);
    if args.blocking {
        let listener = std::net::TcpListener::bind(&address)
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e} (choose another with --port)"))?;
        println!("blocking echo server at ws://{}{}", listener.local_addr()?, ws_echo::PATH);
        ws_echo::blocking::serve(listener, limits)?;
        return Ok(());
    }
    // ANCHOR: runtime
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()?
    };
    // ANCHOR_END: runtime
    runtime.block_on(async {
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e} (choose another with --port)"))?;
        println!("echo server at ws://{}{}", listener.local_addr()?, ws_echo::PATH);
        ws_echo::server::serve(listener, limits).await?;
        Ok(())
    })
}
