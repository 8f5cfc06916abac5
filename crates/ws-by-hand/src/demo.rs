//! The chapter's exchanges with the by-hand server, recorded through the Tap.
//!
//! `just ws-by-hand` prints them live; `tests/ws_by_hand.rs` snapshots them; the book includes
//! the snapshots.

use tap::demo::{Demo, DemoFuture, Flags, LEGEND, heading, live};
use tap::{Observer, Tap, TapConnection, outln};
use tokio::net::{TcpListener, TcpStream};
use wire::close::ClosePayload;
use wire::frame::{Frame, OpCode};
use wire::{CloseCode, Transcript};

use crate::client::{Client, ClientError, fresh_mask};
use crate::{Limits, PATH, RFC_KEY, THREE_MESSAGES};

/// What a demo recorded.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Every byte both ways, decoded.
    pub transcript: Transcript,
    /// The frames the client received, in order.
    pub received: Vec<Frame>,
}

/// A by-hand server on a free port with a Tap in front, and a client connected through it.
async fn setup(
    observer: Option<Observer>,
) -> Result<(Client<TcpStream>, TapConnection, tokio::task::JoinHandle<std::io::Result<()>>), ClientError> {
    let server = TcpListener::bind("127.0.0.1:0").await?;
    let server_addr = server.local_addr()?;
    let server_task = tokio::spawn(crate::server::serve(server, Limits::default()));
    let mut tap = Tap::bind("127.0.0.1:0", server_addr).await?;
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event| observer(id, event));
    }
    let stream = TcpStream::connect(tap.local_addr()).await?;
    stream.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let host = tap.local_addr().to_string();
    let client = Client::handshake(stream, &host, PATH, RFC_KEY).await?;
    Ok((client, connection, server_task))
}

// ANCHOR: three_messages
/// The chapter's three messages over WebSocket, each waiting for its echo, then the close handshake.
pub async fn three_messages(observer: Option<Observer>) -> Result<Recording, ClientError> {
    let (mut client, connection, server) = setup(observer).await?;
    let mut received = Vec::new();
    for message in THREE_MESSAGES {
        client.send_text(message).await?;
        received.extend(client.next_frame().await?);
    }
    let done = ClosePayload { code: CloseCode::NORMAL, reason: "done".into() };
    client.send(&Frame::close(Some(&done)).masked(fresh_mask())).await?;
    // The server answers with its close frame and closes TCP; then we close our side.
    received.extend(client.read_to_end().await?);
    client.shutdown().await?;
    let transcript = connection.transcript().await;
    server.abort();
    Ok(Recording { transcript, received })
}
// ANCHOR_END: three_messages

/// The echo chapter's session (a text, a binary message, a ping, the close handshake), sent by
/// this crate's own client: the same frames tungstenite's client sends, built from the codec.
pub async fn echo_session(observer: Option<Observer>) -> Result<Recording, ClientError> {
    let (mut client, connection, server) = setup(observer).await?;
    let mut received = Vec::new();
    for frame in [
        Frame::text("Hello, WebSocket!"),
        Frame::new(OpCode::Binary, vec![0xde, 0xad, 0xbe, 0xef]),
        Frame::new(OpCode::Ping, b"are you there?".to_vec()),
    ] {
        client.send(&frame.masked(fresh_mask())).await?;
        received.extend(client.next_frame().await?);
    }
    let done = ClosePayload { code: CloseCode::NORMAL, reason: "done".into() };
    client.send(&Frame::close(Some(&done)).masked(fresh_mask())).await?;
    received.extend(client.read_to_end().await?);
    client.shutdown().await?;
    let transcript = connection.transcript().await;
    server.abort();
    Ok(Recording { transcript, received })
}

/// A frame in words, for the demo's summary.
pub fn describe(frame: &Frame) -> String {
    match frame.opcode {
        OpCode::Text => format!("text {:?}", String::from_utf8_lossy(&frame.payload)),
        OpCode::Ping => format!("ping {:?}", String::from_utf8_lossy(&frame.payload)),
        OpCode::Pong => format!("pong {:?}", String::from_utf8_lossy(&frame.payload)),
        OpCode::Close => match ClosePayload::parse(&frame.payload) {
            Ok(Some(close)) => format!("close {} {:?}", close.code, close.reason),
            Ok(None) => "close (no code: 1005)".into(),
            Err(e) => format!("a broken close frame: {e}"),
        },
        OpCode::Binary => format!("binary {:02x?}", frame.payload),
        other => format!("{other:?} frame, {} bytes", frame.payload.len()),
    }
}

/// A client breaks the first rule: it sends a text frame without a mask. The server fails the
/// connection: close 1002, then its FIN at once, and from then on it processes nothing the client
/// sends (RFC 6455 §7.1.7). The client still answers the close, as a well-behaved client does; the
/// server reads the answer and drops it.
pub async fn unmasked_frame(observer: Option<Observer>) -> Result<Recording, ClientError> {
    let (mut client, connection, server) = setup(observer).await?;
    client.send(&Frame::text("hello")).await?;
    let mut received = Vec::new();
    let close = client.next_frame().await?;
    // The server's FIN follows its close frame at once. The client reads it before it answers, so
    // that the transcript shows the two in the same order on every run.
    received.extend(client.read_to_end().await?);
    if let Some(close) = close {
        if close.opcode == OpCode::Close {
            // Answer with the same code, as a well-behaved client does (RFC 6455 §5.5.1).
            let answer = Frame::new(OpCode::Close, close.payload.clone()).masked(fresh_mask());
            client.send(&answer).await?;
        }
        received.insert(0, close);
    }
    client.shutdown().await?;
    let transcript = connection.transcript().await;
    server.abort();
    Ok(Recording { transcript, received })
}

/// The chapter's demos, for `ws-by-hand-demo` and `duplex demo`.
pub const DEMOS: &[Demo] = &[Demo {
    name: "ws-by-hand",
    chapter: "Socket versus WebSocket",
    about: "a WebSocket server built from a TCP stream and the codec; a client that forgets to mask",
    flags: &[],
    run: by_hand_demo,
}];

fn by_hand_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{LEGEND}");
        heading("The echo chapter's session, by hand on both sides: no WebSocket library anywhere");
        let recording = echo_session(Some(live())).await?;
        outln!();
        outln!("What the client got back, frame by frame:");
        for frame in &recording.received {
            outln!("  {}", describe(frame));
        }
        heading("A client that forgets to mask its frame (RFC 6455 §5.1)");
        unmasked_frame(Some(live())).await?;
        Ok(())
    })
}
