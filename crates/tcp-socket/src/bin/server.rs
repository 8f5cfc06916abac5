//! `tcp-echo-server`: the chapter's TCP echo, standalone.

use clap::Parser;
use tcp_socket::echo::{DEFAULT_PORT, EchoLimits, Framing, serve_with};
use tcp_socket::framing::MAX_LINE;
use tokio::net::TcpListener;

/// A TCP echo server: whatever arrives goes back.
///
/// With `--framing raw` (the default) it echoes each read as it comes, with no idea of messages:
/// try it with `nc 127.0.0.1 7007` and type. With `--framing lines` it echoes whole lines; with
/// `--framing length-prefixed` it expects each message after a 4-byte big-endian length, which
/// `tcp-echo-client --framing length-prefixed` sends. Put the Tap in front to see the bytes:
/// `just tap 127.0.0.1:7008 127.0.0.1:7007`.
///
/// Its limits are those that mean something on a bare TCP connection: `--max-line` bounds a line
/// (`--framing lines`), `--max-message` a length-prefixed message, and the raw echo has no
/// messages to bound. There is no request head and no close handshake, so none of the HTTP or
/// WebSocket servers' `--max-head`, `--max-body`, `--handshake-timeout` or `--close-timeout`.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; 0.0.0.0 lets other machines in the room connect.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// How messages are delimited.
    #[arg(long, value_enum, default_value_t = Framing::Raw)]
    framing: Framing,
    /// Longest line accepted with `--framing lines`, in bytes, not counting the newline. A line
    /// reader must hold everything up to the newline, so a longer line is answered with one line
    /// "error: …" and the connection is closed.
    #[arg(long, value_name = "BYTES", default_value_t = MAX_LINE, help_heading = guard::args::HEADING)]
    max_line: usize,
    #[command(flatten)]
    limits: guard::ConnectionArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    guard::logging::init("info");
    let args = Args::parse();
    let address = format!("{}:{}", args.host, args.port);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e} (choose another with --port)"))?;
    println!("{} TCP echo at {}", args.framing, listener.local_addr()?);
    let limits = EchoLimits { shared: args.limits.limits(), max_line: args.max_line };
    let slots = guard::Slots::new(limits.shared.max_connections);
    serve_with(listener, args.framing, limits, slots).await?;
    Ok(())
}
