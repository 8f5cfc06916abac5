//! `tcp-echo-client`: send messages to a TCP echo and print what comes back.

use clap::Parser;
use tcp_socket::echo::{DEFAULT_PORT, Framing, exchange};
use tokio::net::TcpStream;

/// Connects to a TCP echo, sends each MESSAGE (one at a time, waiting for its echo), and prints
/// the echoes.
///
/// The framing must match the server's: a length-prefixed server reads the first four bytes of
/// a raw message as a length, and waits for that many bytes. Try it, through the Tap, to see why
/// both ends must agree on where messages end.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Where to connect, host:port.
    #[arg(long, default_value_t = format!("127.0.0.1:{DEFAULT_PORT}"))]
    server: String,
    /// How messages are delimited.
    #[arg(long, value_enum, default_value_t = Framing::Raw)]
    framing: Framing,
    /// The messages to send.
    #[arg(default_values_t = tcp_socket::THREE_MESSAGES.map(String::from))]
    messages: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    guard::logging::init("warn");
    let args = Args::parse();
    let stream = TcpStream::connect(&args.server)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", args.server))?;
    let messages: Vec<&str> = args.messages.iter().map(String::as_str).collect();
    for (sent, echo) in messages.iter().zip(exchange(stream, args.framing, &messages).await?) {
        tap::outln!("sent {sent:?}  got back {echo:?}");
    }
    Ok(())
}
