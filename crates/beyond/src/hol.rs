//! Head-of-line blocking, simulated: one lost TCP segment holds up every stream behind it.
//!
//! On loopback nothing is ever lost, so this demo loses something on purpose, in virtual time.
//! Between the client and the Tap sits a [`Link`] that can hold back what the server sends: the
//! receiving TCP's behaviour after a lost segment, which delivers nothing that came after it until
//! the sender's retransmission fills the gap (here after [`RETRANSMISSION`], Linux's smallest
//! retransmission timeout). The Tap, on the server's side of the link, records each frame when the
//! server sends it; the client says when it got it.
//!
//! The same exchange runs twice: a picture download and a WebSocket on one HTTP/2 connection,
//! then on two connections. A segment of the picture is lost both times.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tap::{MemoryTap, Observer, PipeEnd};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use wire::{Event, Transcript};

use crate::client::Client;
use crate::demo::{AUTHORITY, Error};
use crate::server::{ECHO_PATH, Journal, PICTURE_BYTE, serve_connection};

/// How long the lost segment takes to arrive again: Linux's minimum retransmission timeout
/// (200 ms; RFC 6298 §2.4 asks for at least a second, and Linux uses less).
pub const RETRANSMISSION: Duration = Duration::from_millis(200);

/// What the client saw in one run.
#[derive(Debug)]
pub struct Run {
    /// How long the WebSocket's echo took to reach the client, from the moment it sent the
    /// message.
    pub echo_after: Duration,
    /// How long the picture took.
    pub picture_after: Duration,
    /// The Tap's transcript of the connection that carried the picture.
    pub transcript: Transcript,
}

/// A link between the client and the Tap whose server-to-client direction can lose a segment.
struct Link {
    /// Lose the next segment that carries picture data.
    armed: watch::Sender<bool>,
    /// A segment is lost and not yet sent again.
    held: watch::Sender<bool>,
}

/// Whether a segment carries picture data: the picture is bytes of `0xa5`.
fn carries_picture(segment: &[u8]) -> bool {
    segment.windows(64).any(|w| w.iter().all(|b| *b == PICTURE_BYTE))
}

impl Link {
    /// Joins `tap_end` (the client's end of a Tap's pipe) to a new stream for the client.
    fn new(tap_end: PipeEnd) -> (DuplexStream, Link) {
        let (client, link_end) = tokio::io::duplex(tap::proxy::PIPE_CAPACITY);
        let link = Link { armed: watch::Sender::new(false), held: watch::Sender::new(false) };
        let (armed, held) = (link.armed.clone(), link.held.clone());
        let (mut from_tap, mut to_tap) = tokio::io::split(tap_end);
        let (mut from_client, mut to_client) = tokio::io::split(link_end);
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut from_client, &mut to_tap).await;
            let _ = to_tap.shutdown().await;
        });
        tokio::spawn(async move {
            let mut buf = vec![0; 16 * 1024];
            loop {
                let n = match from_tap.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if *armed.borrow() && carries_picture(&buf[..n]) {
                    // This segment is lost. The sender's TCP sends it again after its timeout;
                    // until then the receiving TCP delivers nothing that came after it.
                    armed.send_replace(false);
                    held.send_replace(true);
                    let held = held.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(RETRANSMISSION).await;
                        held.send_replace(false);
                    });
                }
                let mut waiting = held.subscribe();
                let _ = waiting.wait_for(|held| !*held).await;
                if to_client.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            let _ = to_client.shutdown().await;
        });
        (client, link)
    }

    /// The next segment of the picture will be lost.
    fn lose_the_next_picture_segment(&self) {
        self.armed.send_replace(true);
    }

    /// Waits until a segment has been lost.
    async fn lost(&self) {
        let mut held = self.held.subscribe();
        let _ = held.wait_for(|held| *held).await;
    }
}

/// One HTTP/2 connection through a Tap (clock on) and a [`Link`].
async fn connect(observer: Option<Observer>) -> Result<(Client, Link, tap::TapConnection), Error> {
    let mut tap = MemoryTap::new().clock(true);
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event: &Event| observer(id, event));
    }
    let (client_end, server_end, connection) = tap.pipe();
    tokio::spawn(serve_connection(server_end, Journal::new()));
    let (client_io, link) = Link::new(client_end);
    let client = Client::handshake(client_io, AUTHORITY).await?;
    // A request first, so the server's SETTINGS (extended CONNECT allowed) have arrived.
    client.get("/hello.txt").await?;
    Ok((client, link, connection))
}

// ANCHOR: run
/// Runs the exchange with the WebSocket on the picture's connection (`shared`) or on its own.
/// A segment of the picture is lost; the client then sends a WebSocket message and times the
/// echo. Returns what the client saw and the transcript of the picture's connection.
pub async fn run(shared: bool, observer: Option<Observer>) -> Result<Run, Error> {
    let (mut pictures, link, connection) = connect(observer).await?;
    let (mut own, own_link, own_connection) = if shared {
        (None, None, None)
    } else {
        let (client, link, connection) = connect(None).await?;
        (Some(client), Some(link), Some(connection))
    };
    let ws_client = own.as_mut().unwrap_or(&mut pictures);
    let mut ws = ws_client.websocket(ECHO_PATH).await?;

    // The page downloads a picture; a segment of it is lost on the way.
    link.lose_the_next_picture_segment();
    let start = Instant::now();
    let picture = async {
        let reply = pictures.get("/picture").await;
        (reply, start.elapsed())
    };
    // Meanwhile the user sends a chat message, and the server echoes it.
    let echo = async {
        link.lost().await;
        let sent = Instant::now();
        ws.send(Message::text("are you there?")).await?;
        let answer = ws.next().await;
        Ok::<_, Error>((answer, sent.elapsed()))
    };
    let ((reply, picture_after), echoed) = tokio::join!(picture, echo);
    let (answer, echo_after) = echoed?;
    reply?;
    if !matches!(answer, Some(Ok(Message::Text(_)))) {
        return Err(format!("the echo did not come back: {answer:?}").into());
    }
    ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })).await?;
    while ws.next().await.is_some() {}
    ws.get_mut().shutdown().await?;
    drop(ws);
    if let Some(client) = own {
        client.close().await?;
    }
    pictures.close().await?;
    drop((link, own_link, own_connection));
    let transcript = connection.transcript().await;
    Ok(Run { echo_after, picture_after, transcript })
}
// ANCHOR_END: run
