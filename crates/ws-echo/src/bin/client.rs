//! `ws-echo-client`: talk to any WebSocket echo from the terminal.

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serve::client::{connect, describe, refusal};
use tap::outln;
use tokio::io::{AsyncBufReadExt, BufReader};
use tungstenite::Message;

/// Connects to a WebSocket echo, sends messages, and prints what comes back.
///
/// With MESSAGES, sends each as a text message and waits for its echo; without, reads lines from
/// standard input and sends each one (end with Ctrl-D, which closes the connection with 1000).
/// Point it at `cargo run`'s echo (the default URL), at `ws-echo-server`
/// (ws://127.0.0.1:9001/ws/echo), or through the Tap to watch the bytes.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Where to connect.
    #[arg(default_value = "ws://127.0.0.1:3000/ws/echo")]
    url: String,
    /// Messages to send; none means read lines from standard input.
    messages: Vec<String>,
    /// Send this Sec-WebSocket-Key instead of a random one (24 characters of base64), so the
    /// handshake is the same on every run. The RFC's example is dGhlIHNhbXBsZSBub25jZQ==.
    #[arg(long)]
    key: Option<String>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    guard::logging::init("warn");
    let result =
        tokio::runtime::Runtime::new().map_err(anyhow::Error::from).and_then(|rt| rt.block_on(talk(args)));
    tap::out::exit_code(result)
}

async fn talk(args: Args) -> anyhow::Result<()> {
    let mut ws = match connect(&args.url, args.key.as_deref()).await {
        Ok(ws) => ws,
        // A refused handshake: say what the server said, not only its status.
        Err(e) => match refusal(&e) {
            Some(line) => anyhow::bail!("{line}"),
            None => return Err(e.into()),
        },
    };
    outln!("connected to {}", args.url);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut given = args.messages.into_iter();
    let interactive = given.len() == 0;
    loop {
        let next = if interactive { lines.next_line().await? } else { given.next() };
        let Some(text) = next else { break };
        tap::out::check()?;
        outln!("→ text {text:?}");
        ws.send(Message::text(text)).await?;
        match ws.next().await {
            Some(Ok(answer)) => outln!("← {}", describe(&answer)),
            Some(Err(e)) => anyhow::bail!("the connection failed: {e}"),
            None => anyhow::bail!("the server closed the connection"),
        }
    }
    let bye = tungstenite::protocol::CloseFrame {
        code: tungstenite::protocol::frame::coding::CloseCode::Normal,
        reason: "bye".into(),
    };
    ws.close(Some(bye)).await?;
    while let Some(message) = ws.next().await {
        if let Ok(message) = message {
            outln!("← {}", describe(&message));
        }
    }
    outln!("closed");
    Ok(())
}
