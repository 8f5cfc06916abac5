//! Every way a WebSocket connection ends, each one run through the Tap and recorded together
//! with what each side's application saw. The chapter shows each recording; the tests in
//! `tests/heartbeat.rs` snapshot them.
//!
//! | ending | close code on the wire | what the applications see |
//! | --- | --- | --- |
//! | [`client_closes`] | 1000 from the client, echoed | both: 1000 |
//! | [`server_shuts_down`] | 1001 from the server, echoed | both: 1001 |
//! | [`protocol_error`] | 1002 from the server | both: 1002 |
//! | [`message_too_big`] | 1009 from the server | both: 1009 |
//! | [`connection_drops`] | none | the client: 1006, which never travels |
//! | [`idle_timeout`] | 1000 "idle" from the server | both: 1000 |
//! | [`dead_peer`] | none: the path is a blackhole | each side gives up on its own |
//!
//! The timed ones (idle, dead peer) run over in-memory pipes with tokio's clock, so a test that
//! pauses the clock gets exact times. Their timers would fire "early" over real sockets: a paused
//! clock jumps ahead whenever the runtime has nothing to do, and waiting on the operating system
//! for loopback bytes counts as nothing to do. In-memory pipes are never waited on that way.

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serve::ECHO_PATH;
use serve::client::{connect_over, describe};
use tap::{MemoryTap, Observer, Tap};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use wire::transcript::EventKind;
use wire::{CloseCode, ClosePayload, Event, Frame, FrameDecoder, OpCode, Render, Transcript};

use crate::Error;
use crate::config::{Heartbeat, Settings};
use crate::server::{Ending, Shutdown};
use crate::watchdog::{Seen, Watchdog, listen};

/// The key every recorded client sends, so the handshakes are the same on every run.
pub const KEY: &str = serve::client::RFC_KEY;

/// One ending, recorded.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Every byte both ways, decoded.
    pub transcript: Transcript,
    /// What the client's application saw, line by line.
    pub client: Vec<String>,
    /// What the server's application saw, line by line.
    pub server: Vec<String>,
}

impl Recorded {
    /// The transcript with its handshake condensed to two lines (the echo chapter shows it
    /// whole), then what each application saw: the snapshot the book includes.
    pub fn render(&self, style: &Render) -> String {
        let mut out = condensed(&self.transcript).render(style);
        out.push_str("\nWhat each application saw:\n");
        for (who, lines) in [("client", &self.client), ("server", &self.server)] {
            for line in lines {
                out.push_str(&format!("  {who}: {line}\n"));
            }
        }
        out
    }
}

/// The transcript with each HTTP head of the opening handshake shown as its first line only,
/// and the note about switching protocols left out.
pub fn condensed(transcript: &Transcript) -> Transcript {
    let mut out = Transcript::new();
    for event in &transcript.events {
        match &event.kind {
            EventKind::Head(head) => {
                let what = if event.dir == Some(wire::Direction::ClientToServer) {
                    "  (the upgrade request: its headers are in the echo chapter)"
                } else {
                    ""
                };
                out.push(Event::new(event.dir, EventKind::Note(format!("{}{what}", head.start))));
            }
            EventKind::Note(text) if text.starts_with("101 Switching Protocols") => {}
            _ => out.push(event.clone()),
        }
    }
    out
}

/// Runs `server` and `client` over TCP with a Tap between them. Each returns what its
/// application saw.
async fn over_tcp<SF, SFut, CF, CFut>(server: SF, client: CF) -> Result<Recorded, Error>
where
    SF: FnOnce(TcpStream) -> SFut + Send + 'static,
    SFut: Future<Output = Vec<String>> + Send + 'static,
    CF: FnOnce(TcpStream, String) -> CFut,
    CFut: Future<Output = Result<Vec<String>, Error>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let tap = Tap::bind("127.0.0.1:0", listener.local_addr()?).await?;
    let server_task = tokio::spawn(async move {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                server(stream).await
            }
            Err(e) => vec![format!("accept failed: {e}")],
        }
    });
    let stream = TcpStream::connect(tap.local_addr()).await?;
    stream.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let client_saw = client(stream, tap.local_addr().to_string()).await?;
    let server_saw =
        server_task.await.map_err(|e| Error::Unexpected(format!("the server task failed: {e}")))?;
    let transcript = connection.transcript().await;
    Ok(Recorded { transcript, client: client_saw, server: server_saw })
}

/// This chapter's server for one connection, at the echo's path, with `limits` and a heartbeat
/// too slow to ping during the exchange: the endings here are the same for any echo, and this
/// one closes, fails and casts off exactly as the echo chapter's does (`serve::close`).
async fn echo_server(stream: TcpStream, limits: serve::Limits) -> Vec<String> {
    let settings = Settings { heartbeat: Heartbeat::new(Duration::from_secs(3600), 2), limits };
    match serve::accept::accept(stream, ECHO_PATH, &settings.limits).await {
        Ok((ws, _)) => vec![echo_ending(&crate::server::run(ws, &settings, Shutdown::new().watcher()).await)],
        Err(e) => vec![format!("refused the handshake: {e}")],
    }
}

fn echo_ending(ending: &Ending) -> String {
    match ending {
        Ending::PeerClosed(Some(code)) => format!("the client closed with {code}; tungstenite answered it"),
        Ending::PeerClosed(None) => "the client closed with no code (1005); tungstenite answered it".into(),
        Ending::WeClosed(code, reason) => format!("read error {reason:?}: answered with close {code}"),
        Ending::Dropped(why) => format!("1006 abnormal closure: {why}"),
        ending @ Ending::Terminated { .. } => ending.to_string(),
    }
}

/// Reads one message, or says how the stream ended.
async fn next_message<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> String
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match ws.next().await {
        Some(Ok(message)) => describe(&message),
        Some(Err(e)) => format!("error: {e}"),
        None => "the end of the stream".into(),
    }
}

/// Reads until the stream ends, describing what arrives.
async fn read_to_end<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>, saw: &mut Vec<String>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        match ws.next().await {
            Some(Ok(message)) => saw.push(format!("got {}", describe(&message))),
            None | Some(Err(tungstenite::Error::ConnectionClosed)) => {
                saw.push("the stream ended: the connection is closed".into());
                return;
            }
            Some(Err(e)) => {
                saw.push(format!("read error: {e} (the application's 1006)"));
                return;
            }
        }
    }
}

// ANCHOR: client_closes
/// The client says goodbye with 1000 and waits for the server's answer and the end of TCP.
pub async fn client_closes() -> Result<Recorded, Error> {
    over_tcp(
        |stream| echo_server(stream, serve::Limits::default()),
        |stream, host| async move {
            let mut ws = connect_over(stream, &host, ECHO_PATH, Some(KEY)).await?;
            let mut saw = Vec::new();
            ws.send(Message::text("hello")).await?;
            saw.push(format!("got {}", next_message(&mut ws).await));
            saw.push("calls close(1000, \"bye\")".into());
            ws.close(Some(CloseFrame { code: TCloseCode::Normal, reason: "bye".into() })).await?;
            read_to_end(&mut ws, &mut saw).await;
            Ok(saw)
        },
    )
    .await
}
// ANCHOR_END: client_closes

/// The server shuts down while a client is connected: it sends 1001 and finishes the close
/// handshake before it drops the connection.
pub async fn server_shuts_down() -> Result<Recorded, Error> {
    let shutdown = Shutdown::new();
    let watcher = shutdown.watcher();
    over_tcp(
        move |stream| async move {
            let peer = stream.peer_addr().unwrap_or_else(|_| ([127, 0, 0, 1], 0).into());
            match crate::server::handle(stream, peer, &Settings::default(), watcher).await {
                Some(ending) => vec![ending.to_string()],
                None => vec!["refused the handshake".into()],
            }
        },
        |stream, host| async move {
            let mut ws = connect_over(stream, &host, crate::PATH, Some(KEY)).await?;
            let mut saw = Vec::new();
            ws.send(Message::text("hello")).await?;
            saw.push(format!("got {}", next_message(&mut ws).await));
            shutdown.trigger();
            read_to_end(&mut ws, &mut saw).await;
            Ok(saw)
        },
    )
    .await
}

/// A raw client breaks a rule: its frame is not masked (RFC 6455 §5.1). The server answers 1002.
pub async fn protocol_error() -> Result<Recorded, Error> {
    over_tcp(
        |stream| echo_server(stream, serve::Limits::default()),
        |mut stream, host| async move {
            let mut saw = Vec::new();
            stream.write_all(wire::handshake::client_request(&host, ECHO_PATH, KEY).as_bytes()).await?;
            let mut frames = FrameDecoder::new(125);
            read_head(&mut stream, &mut frames).await?;
            saw.push("sends an unmasked text frame, by hand".into());
            stream.write_all(&Frame::text("Hello").encode()).await?;
            let close = read_frame(&mut stream, &mut frames).await?;
            let payload = ClosePayload::parse(&close.payload).ok().flatten();
            saw.push(match &payload {
                Some(p) => format!("got close {} {:?}", p.code, p.reason),
                None => "got a close frame without a code".into(),
            });
            // Answer with the same code (RFC 6455 §5.5.1), masked this time.
            let answer =
                ClosePayload { code: payload.map_or(CloseCode::NORMAL, |p| p.code), reason: String::new() };
            stream.write_all(&Frame::close(Some(&answer)).masked([0x0f, 0x1e, 0x2d, 0x3c]).encode()).await?;
            saw.push(format!("answers close {}", answer.code.0));
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await?;
            saw.push("the server closed TCP".into());
            Ok(saw)
        },
    )
    .await
}

/// Reads the `101` response head; what follows it stays in `frames`.
async fn read_head(stream: &mut TcpStream, frames: &mut FrameDecoder) -> Result<(), Error> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(Error::Unexpected("the server closed during the handshake".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            frames.push(&buf[end + 4..]);
            return Ok(());
        }
    }
}

/// Reads the next frame.
async fn read_frame(stream: &mut TcpStream, frames: &mut FrameDecoder) -> Result<Frame, Error> {
    let mut chunk = [0u8; 1024];
    loop {
        match frames.next_frame() {
            Ok(Some((frame, _))) if frame.opcode == OpCode::Close || !frame.opcode.is_control() => {
                return Ok(frame);
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(Error::Unexpected("the server closed without a close frame".into()));
                }
                frames.push(&chunk[..n]);
            }
            Err(e) => return Err(Error::Unexpected(e.to_string())),
        }
    }
}

/// The largest message the server in [`message_too_big`] accepts: small, so the transcript
/// shows the whole message that broke it.
pub const SMALL_LIMIT: usize = 16;

/// The client sends a message larger than the server accepts. The server answers 1009.
pub async fn message_too_big() -> Result<Recorded, Error> {
    let limits = serve::Limits { max_message: SMALL_LIMIT, ..Default::default() };
    over_tcp(
        move |stream| echo_server(stream, limits),
        |stream, host| async move {
            let mut ws = connect_over(stream, &host, ECHO_PATH, Some(KEY)).await?;
            let mut saw = Vec::new();
            let text = "this message is longer than sixteen bytes";
            saw.push(format!("sends a text of {} bytes", text.len()));
            ws.send(Message::text(text)).await?;
            read_to_end(&mut ws, &mut saw).await;
            Ok(saw)
        },
    )
    .await
}

/// The server's program goes away mid-conversation (a crash, a `kill -9`, a deploy that does
/// not say goodbye): its TCP connection closes with no close frame. The client's application
/// sees 1006, a code no frame carried.
pub async fn connection_drops() -> Result<Recorded, Error> {
    over_tcp(
        |stream| async move {
            let limits = serve::Limits::default();
            let Ok((mut ws, _)) = serve::accept::accept(stream, ECHO_PATH, &limits).await else {
                return vec!["refused the handshake".into()];
            };
            if let Some(Ok(message)) = ws.next().await {
                let _ = ws.send(message).await;
            }
            drop(ws);
            vec!["echoed one message, then its program ended without a close frame".into()]
        },
        |stream, host| async move {
            let mut ws = connect_over(stream, &host, ECHO_PATH, Some(KEY)).await?;
            let mut saw = Vec::new();
            ws.send(Message::text("hello")).await?;
            saw.push(format!("got {}", next_message(&mut ws).await));
            read_to_end(&mut ws, &mut saw).await;
            Ok(saw)
        },
    )
    .await
}

/// Runs the pinging server and a client with a watchdog over in-memory pipes, with the Tap's
/// clock on. `blackhole_after`: when the path starts dropping every byte.
/// `goodbye_after`: when the client closes with 1000.
pub async fn timed(
    settings: Settings,
    watchdog: Watchdog,
    blackhole_after: Option<Duration>,
    goodbye_after: Option<Duration>,
    observer: Option<Observer>,
) -> Result<Recorded, Error> {
    let mut tap = MemoryTap::new().clock(true);
    if let Some(after) = blackhole_after {
        // The Tap throws its own switch, and notes the moment in the transcript.
        tap = tap.blackhole_after(after);
    }
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event| observer(id, event));
    }
    let (client, server, connection) = tap.pipe();
    let (client_saw, server_saw) =
        exchange(client, server, "memory", settings, watchdog, goodbye_after).await?;
    let transcript = connection.transcript().await;
    Ok(Recorded { transcript, client: client_saw, server: server_saw })
}

/// The heartbeat exchange between a pinging server and a watching client, on any two streams
/// (the ends of a Tap, which may be set to become a blackhole). Returns what each application
/// saw, with times.
pub async fn exchange<C, S>(
    client: C,
    server: S,
    host: &str,
    settings: Settings,
    watchdog: Watchdog,
    goodbye_after: Option<Duration>,
) -> Result<(Vec<String>, Vec<String>), Error>
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let start = tokio::time::Instant::now();
    let stamp = move |what: String| format!("{} {what}", clock(start.elapsed()));
    let server_task = tokio::spawn(async move {
        let shutdown = Shutdown::new();
        let peer = ([127, 0, 0, 1], 0).into();
        let ending = crate::server::handle(server, peer, &settings, shutdown.watcher()).await;
        let ending = ending.map_or_else(|| "refused the handshake".to_owned(), |e: Ending| e.to_string());
        vec![stamp(ending)]
    });
    let ws = connect_over(client, host, crate::PATH, Some(KEY)).await?;
    let mut saw = Vec::new();
    let ending = listen(ws, watchdog, goodbye_after, |seen: Seen| {
        saw.push(format!("{} {}", clock(seen.at), seen.what))
    })
    .await;
    saw.push(stamp(ending.to_string()));
    let server_saw =
        server_task.await.map_err(|e| Error::Unexpected(format!("the server task failed: {e}")))?;
    Ok((saw, server_saw))
}

/// `1.5 s` → `[1.500 s]`.
pub fn clock(at: Duration) -> String {
    format!("[{}.{:03} s]", at.as_secs(), at.subsec_millis())
}

/// The server closes a connection that carried no message for its idle timeout, although its
/// pings were answered: liveness is not activity.
pub async fn idle_timeout() -> Result<Recorded, Error> {
    let heartbeat = Heartbeat::new(Duration::from_secs(1), 2);
    let settings = Settings {
        heartbeat,
        limits: serve::Limits { idle_timeout: Some(Duration::from_millis(2500)), ..Default::default() },
    };
    timed(settings, Watchdog::for_heartbeat(&heartbeat), None, None, None).await
}

/// The path goes silent (the Tap's blackhole) 2.5 intervals in: the server's pings go
/// unanswered and it drops the connection `max_missed` intervals after the first lost one; the
/// client's watchdog, hearing nothing, gives up on its own.
pub async fn dead_peer(heartbeat: Heartbeat, observer: Option<Observer>) -> Result<Recorded, Error> {
    let settings = Settings { heartbeat, limits: crate::config::no_idle() };
    let blackhole_after = heartbeat.interval * 5 / 2;
    timed(settings, Watchdog::for_heartbeat(&heartbeat), Some(blackhole_after), None, observer).await
}

/// A healthy connection: pings answered every interval until the client says goodbye.
pub async fn healthy(
    heartbeat: Heartbeat,
    pings: u32,
    observer: Option<Observer>,
) -> Result<Recorded, Error> {
    let settings = Settings { heartbeat, limits: crate::config::no_idle() };
    let goodbye = heartbeat.interval * pings + heartbeat.interval / 2;
    timed(settings, Watchdog::for_heartbeat(&heartbeat), None, Some(goodbye), observer).await
}
