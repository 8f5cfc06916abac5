//! The chapter's exchanges with the by-hand server, recorded through the Tap.
//!
//! `just ws-by-hand` prints them live; `tests/ws_by_hand.rs` snapshots them; the book includes
//! the snapshots.

use tap::demo::{Demo, DemoFuture, Flag, Flags, LEGEND, heading, live};
use tap::{Observer, Tap, TapConnection, outln};
use tokio::net::{TcpListener, TcpStream};
use wire::close::ClosePayload;
use wire::deflate::{ClientWindowOffer, DeflateAgreement, DeflateConfig, DeflateOffer, PerMessageDeflate};
use wire::frame::{Frame, OpCode};
use wire::{CloseCode, Transcript};

use crate::client::{Client, ClientError, fresh_mask};
use crate::server::Config;
use crate::{Limits, PATH, RFC_KEY, THREE_MESSAGES};

/// What a demo recorded.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Every byte both ways, decoded.
    pub transcript: Transcript,
    /// The frames the client received, in order.
    pub received: Vec<Frame>,
}

/// The connection a demo runs on: the client, the Tap's recording of it, and the server's task.
type Setup = (Client<TcpStream>, TapConnection, tokio::task::JoinHandle<std::io::Result<()>>);

/// A by-hand server on a free port with a Tap in front, and a client connected through it.
async fn setup(observer: Option<Observer>) -> Result<Setup, ClientError> {
    setup_with(observer, Config::from(Limits::default()), None).await
}

/// [`setup`] with a server [`Config`], the client offering `extensions`.
async fn setup_with(
    observer: Option<Observer>,
    config: Config,
    extensions: Option<&str>,
) -> Result<Setup, ClientError> {
    let server = TcpListener::bind("127.0.0.1:0").await?;
    let server_addr = server.local_addr()?;
    let server_task = tokio::spawn(crate::server::serve(server, config));
    let mut tap = Tap::bind("127.0.0.1:0", server_addr).await?;
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event| observer(id, event));
    }
    let stream = TcpStream::connect(tap.local_addr()).await?;
    stream.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let host = tap.local_addr().to_string();
    let client = Client::handshake_offering(stream, &host, PATH, RFC_KEY, extensions).await?;
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

/// What Chromium offers in every handshake (RFC 7692 §7.1.2.2: "I can limit my window if you
/// ask"); the compression demo's client offers the same.
pub const BROWSER_OFFER: &str = "permessage-deflate; client_max_window_bits";

/// The messages the compression demo sends: the RFC's "Hello" twice (RFC 7692 §7.2.3.2), then
/// two messages of the request–response chapter's feed, as its WebSocket sends them.
pub const DEFLATE_MESSAGES: [&str; 4] =
    ["Hello", "Hello", r#"{"id":1,"text":"message 1"}"#, r#"{"id":2,"text":"message 2"}"#];

// ANCHOR: deflate_session
/// permessage-deflate, frame by frame: the client offers what a browser offers, the by-hand
/// server (`--deflate`, and `--deflate-no-context-takeover` if `no_context_takeover`) accepts,
/// and both compress every message: RSV1 on the frame, the `00 00 ff ff` tail cut off.
pub async fn deflate_session(
    observer: Option<Observer>,
    no_context_takeover: bool,
) -> Result<Recording, ClientError> {
    let deflate =
        DeflateConfig { server_no_context_takeover: no_context_takeover, ..DeflateConfig::default() };
    let config = Config { limits: Limits::default(), deflate: Some(deflate) };
    let (mut client, connection, server) = setup_with(observer, config, Some(BROWSER_OFFER)).await?;
    // The client's half of what the 101 agreed: its own compressor, and an inflater for the echoes.
    let mut deflate = PerMessageDeflate::client(&agreement(client.extensions())?);
    let mut received = Vec::new();
    for message in DEFLATE_MESSAGES {
        let frame = deflate.compressor.compress_frame(OpCode::Text, message.as_bytes());
        client.send(&frame.masked(fresh_mask())).await?;
        if let Some(echo) = client.next_frame().await? {
            // What the application gets: the echo inflated.
            let text = deflate.decompressor.decompress(&echo.payload, 1 << 20).unwrap_or_default();
            received.push(Frame::new(echo.opcode, text));
        }
    }
    let done = ClosePayload { code: CloseCode::NORMAL, reason: "done".into() };
    client.send(&Frame::close(Some(&done)).masked(fresh_mask())).await?;
    received.extend(client.read_to_end().await?);
    client.shutdown().await?;
    let transcript = connection.transcript().await;
    server.abort();
    Ok(Recording { transcript, received })
}
// ANCHOR_END: deflate_session

/// What the server's `Sec-WebSocket-Extensions` agreed to, checked against the browser's offer
/// (RFC 7692 §7.1).
fn agreement(response: Option<&str>) -> Result<DeflateAgreement, ClientError> {
    let refused = |why: String| ClientError::Refused(format!("no permessage-deflate: {why}"));
    let response = response.ok_or_else(|| refused("the 101 accepted no extension".into()))?;
    let extension = wire::deflate::header::parse(response)
        .map_err(|e| refused(e.to_string()))?
        .into_iter()
        .next()
        .ok_or_else(|| refused("an empty Sec-WebSocket-Extensions".into()))?;
    let offer =
        DeflateOffer { client_max_window_bits: ClientWindowOffer::Supported, ..DeflateOffer::default() };
    DeflateAgreement::from_response(&extension, &offer).map_err(|e| refused(e.to_string()))
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
pub const DEMOS: &[Demo] = &[
    Demo {
        name: "ws-by-hand",
        chapter: "Socket versus WebSocket",
        about: "a WebSocket server built from a TCP stream and the codec; a client that forgets to mask",
        flags: &[],
        run: by_hand_demo,
    },
    Demo {
        name: "ws-deflate",
        chapter: "Compression",
        about: "permessage-deflate by hand: the offer, the 101 that accepts it, compressed frames (RSV1, no tail)",
        flags: &[Flag {
            name: "no-context-takeover",
            help: "For `ws-deflate`: the server forgets each message before the next (server_no_context_takeover)",
        }],
        run: deflate_demo,
    },
];

fn deflate_demo(flags: Flags) -> DemoFuture {
    Box::pin(async move {
        let forget = flags.has("no-context-takeover");
        outln!("{LEGEND}");
        if forget {
            heading("permessage-deflate, the server forgetting each message (server_no_context_takeover)");
        } else {
            heading(
                "permessage-deflate: the browser's offer, the by-hand server accepting, compressed frames",
            );
        }
        let recording = deflate_session(Some(live()), forget).await?;
        outln!();
        outln!("What the client's application got back, inflated:");
        for frame in &recording.received {
            outln!("  {}", describe(frame));
        }
        Ok(())
    })
}

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
