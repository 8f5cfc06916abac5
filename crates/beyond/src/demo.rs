//! The chapter's exchange, recorded: a page, a WebSocket and another request on one HTTP/2
//! connection, through the Tap.
//!
//! Client and server run in this process over in-memory pipes with the Tap between them
//! ([`tap::MemoryTap`]), so the transcript is the same on every run: `just h2-websocket` prints
//! it live, `tests/beyond.rs` freezes it, and the book includes that snapshot.

use futures_util::{SinkExt, StreamExt};
use tap::demo::{Demo, DemoFuture, Flags, live};
use tap::{MemoryTap, Observer, outln};
use tokio::io::AsyncWriteExt;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use wire::{Event, Transcript};

use crate::client::Client;
use crate::server::{ECHO_PATH, Journal, serve_connection};

/// The `:authority` of the demo's requests: a name reserved for tests (RFC 6761 §6.2), since
/// the connection is a pair of in-memory pipes, not a socket with an address.
pub const AUTHORITY: &str = "duplex.test";

/// Why the demo failed.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the client saw, step by step, and what the Tap recorded.
#[derive(Debug)]
pub struct Recording {
    /// One line per step, from the client's side.
    pub steps: Vec<String>,
    /// The server's journal.
    pub server: Vec<String>,
    /// Every frame on the wire.
    pub transcript: Transcript,
}

// ANCHOR: run
/// Runs the exchange: `GET /`, a WebSocket by extended CONNECT, a message and its echo,
/// `GET /hello.txt` while the WebSocket is open, a second message, the close handshake, and
/// the end of the connection. `observer` sees each event as it happens.
pub async fn run(observer: Option<Observer>) -> Result<Recording, Error> {
    let mut tap = MemoryTap::new();
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event: &Event| observer(id, event));
    }
    let (client_io, server_io, connection) = tap.pipe();
    let journal = Journal::new();
    let server = tokio::spawn(serve_connection(server_io, journal.clone()));
    let mut steps = Vec::new();

    let mut client = Client::handshake(client_io, AUTHORITY).await?;
    let page = client.get("/").await?;
    steps.push(format!(
        "GET / on stream {}: {}, {} bytes of page",
        page.stream,
        page.status,
        page.body.len()
    ));
    steps.push(format!("the server allows extended CONNECT: {}", client.extended_connect_allowed()));

    let mut ws = client.websocket(ECHO_PATH).await?;
    let id = ws.get_ref().id();
    steps.push(format!("WebSocket open on stream {id}"));
    ws.send(Message::text("hello")).await?;
    steps.push(format!("sent \"hello\", got back {}", describe(ws.next().await)));

    // Another request while the WebSocket is open: a new stream on the same connection.
    let hello = client.get("/hello.txt").await?;
    steps.push(format!(
        "GET /hello.txt on stream {} while the WebSocket is open: {} {:?}",
        hello.stream,
        hello.status,
        String::from_utf8_lossy(&hello.body)
    ));
    ws.send(Message::text("still here")).await?;
    steps.push(format!("sent \"still here\", got back {}", describe(ws.next().await)));

    ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })).await?;
    while let Some(message) = ws.next().await {
        steps.push(format!("while closing: {}", describe(Some(message))));
    }
    steps.push("close handshake done".to_owned());
    ws.get_mut().shutdown().await?;
    // The stream's handles go, then the connection's: the client's h2 then ends the connection.
    drop(ws);
    client.close().await?;
    server.await.map_err(|e| format!("the server task failed: {e}"))??;
    let transcript = connection.transcript().await;
    Ok(Recording { steps, server: journal.lines(), transcript })
}
// ANCHOR_END: run

fn describe(message: Option<Result<Message, tungstenite::Error>>) -> String {
    match message {
        Some(Ok(Message::Text(text))) => format!("{:?}", text.as_str()),
        Some(Ok(Message::Close(Some(frame)))) => {
            format!("close {} {:?}", u16::from(frame.code), frame.reason.as_str())
        }
        Some(Ok(other)) => format!("{other:?}"),
        Some(Err(e)) => format!("error: {e}"),
        None => "nothing: the stream ended".to_owned(),
    }
}

/// The key to an HTTP/2 transcript's notation.
pub const LEGEND: &str = "\
How to read this: each line is one thing the Tap saw on the wire, in order.
  C→S  the client sent it to the server      S→C  the server sent it to the client
  ───  about the connection as a whole
  SETTINGS stream 0: …   one HTTP/2 frame (RFC 9113 §4.1): its type, its stream (0 is the
        connection itself), its flags, and what it says
  00 00 06 | 04 | 00 | 00 00 00 00 | …   the frame's 9-byte header: length | type | flags |
        stream, then its payload
  :method: CONNECT   [literal, name static 2, …]   a header field, decoded from HPACK (RFC 7541),
        and how it was sent: an index into the static or dynamic table, or a literal
  ↳ frame FIN text masked len=5 \"hello\"   a WebSocket frame inside a DATA frame (RFC 8441)
";

/// The chapter's demos, for `beyond-demo` and `duplex demo`.
pub const DEMOS: &[Demo] = &[
    Demo {
        name: "h2-websocket",
        chapter: "After HTTP/1.1",
        about: "a page, a WebSocket (extended CONNECT) and another request on one HTTP/2 connection, every frame shown",
        flags: &[],
        run: h2_websocket_demo,
    },
    Demo {
        name: "h2-head-of-line",
        chapter: "After HTTP/1.1",
        about: "a lost segment of a picture holds up the WebSocket on the same HTTP/2 connection, not one on its own (simulated, virtual time)",
        flags: &[],
        run: head_of_line_demo,
    },
];

fn head_of_line_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{LEGEND}");
        outln!("  ─── ⏱ 0.200 s   the time since the connection opened, noted whenever it has moved on");
        outln!();
        tap::demo::heading("One connection: the picture and the WebSocket share it");
        let shared = crate::hol::run(true, Some(live())).await?;
        tap::demo::heading("Two connections: the WebSocket has its own");
        let apart = crate::hol::run(false, None).await?;
        outln!("A segment the server sent was lost; TCP resent it after {:?}.", crate::hol::RETRANSMISSION);
        outln!(
            "  one connection:  the echo took {:?}, the picture {:?}",
            shared.echo_after,
            shared.picture_after
        );
        outln!(
            "  two connections: the echo took {:?}, the picture {:?}",
            apart.echo_after,
            apart.picture_after
        );
        Ok(())
    })
}

fn h2_websocket_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{LEGEND}");
        let recording = run(Some(live())).await?;
        outln!();
        outln!("What the client saw, step by step:");
        for step in recording.steps {
            outln!("  {step}");
        }
        outln!("What the server did:");
        for line in recording.server {
            outln!("  {line}");
        }
        Ok(())
    })
}
