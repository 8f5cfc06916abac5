//! The load client: many WebSocket connections, each sending one message and waiting for its echo.
//!
//! The opening handshake goes through tokio-tungstenite, like any client's. After it, each
//! connection sends a frame encoded once in advance and reads the echo straight off the socket:
//! the client is the measuring instrument and shares the machine with the server, so it must
//! spend less per message than what it measures. Per round trip it makes one `write` and,
//! usually, one `read` (tokio skips the `read` that would only say "nothing yet" after a short
//! read). The echo is checked byte for byte, so a server that answered wrongly would fail the run
//! rather than look fast.
//!
//! [`load_ordinary`] is the other client: the way most Rust programs talk WebSocket, a
//! tokio-tungstenite `WebSocketStream` in a task per connection that sends a `Message` and awaits
//! the next one. It spends more per round trip, and the echo chapter shows what that changes on
//! the server's side.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wire::frame::{Frame, OpCode};

/// Why the load could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The opening handshake failed.
    #[error("handshake with {url} failed: {source}")]
    Handshake {
        /// Where.
        url: String,
        /// What tungstenite said.
        source: tungstenite::Error,
    },
    /// The server sent something other than the echo.
    #[error("wrong echo: {0}")]
    WrongEcho(String),
    /// The URL is not `ws://host:port/path`.
    #[error("bad URL {0:?}")]
    Url(String),
}

/// How many handshakes are in flight at once while connecting. A listen backlog holds 128–1024
/// pending connections; more SYNs at once would be dropped and retried a second later.
pub const CONNECT_CONCURRENCY: usize = 64;

/// Opens `n` WebSocket connections to `url` and returns their TCP streams, handshakes done.
pub async fn connect_many(url: &str, n: usize) -> Result<Vec<TcpStream>, LoadError> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    stream::iter(0..n).map(|_| connect(url)).buffer_unordered(CONNECT_CONCURRENCY).try_collect().await
}

/// Opens one WebSocket connection and hands back its TCP stream after the handshake.
pub async fn connect(url: &str) -> Result<TcpStream, LoadError> {
    // The server sends nothing after `101` unless asked, so tungstenite holds no unread bytes.
    Ok(connect_ordinary(url).await?.into_inner())
}

/// Extra room in the read buffer beyond the expected echo: a read that fills less than the buffer
/// tells tokio the socket is drained, which saves a `read` that would only return "would block".
const READ_SLACK: usize = 64;

/// One message to send over and over: the masked frame, and the echo to expect.
#[derive(Clone, Debug)]
pub struct Script {
    /// The client's frame, masked (RFC 6455 §5.3), encoded once.
    pub frame: Vec<u8>,
    /// The server's unmasked frame carrying the same payload.
    pub echo: Vec<u8>,
}

impl Script {
    /// A binary message of `size` bytes. The mask key is fixed: a real client must pick a fresh
    /// one per frame (§5.3), but a load generator reuses one frame so as not to measure itself.
    pub fn binary(size: usize) -> Script {
        let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let frame = Frame::new(OpCode::Binary, payload.clone()).masked([0x37, 0xfa, 0x21, 0x3d]).encode();
        let echo = Frame::new(OpCode::Binary, payload).encode();
        Script { frame, echo }
    }
}

/// What one connection measured: round-trip times inside the window, in nanoseconds.
#[derive(Debug, Default)]
pub struct Measured {
    /// Round trips that started and ended inside the window, in nanoseconds.
    pub round_trips_ns: Vec<u32>,
}

/// The time plan of a load: round trips run from the start to `end`; only those inside
/// `[window_start, window_end]` are counted.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// When counting starts (after the warm-up).
    pub start: Instant,
    /// When counting stops.
    pub end: Instant,
}

/// Sends `script` and waits for its echo, again and again, until the window has passed.
pub async fn round_trips(
    mut stream: TcpStream,
    script: &Script,
    window: Window,
) -> Result<Measured, LoadError> {
    let mut measured = Measured::default();
    // Room for more than the echo, so that a complete echo is a short read (see the module doc).
    let mut buf = vec![0u8; script.echo.len() + READ_SLACK];
    loop {
        let sent = Instant::now();
        if sent >= window.end {
            break;
        }
        stream.write_all(&script.frame).await?;
        let mut have = 0;
        while have < script.echo.len() {
            let n = stream.read(&mut buf[have..]).await?;
            if n == 0 {
                return Err(LoadError::WrongEcho("the server closed the connection".into()));
            }
            have += n;
        }
        let back = Instant::now();
        if buf[..have] != script.echo[..] {
            return Err(LoadError::WrongEcho(format!(
                "{have} bytes that differ from the {} expected",
                script.echo.len()
            )));
        }
        if sent >= window.start && back <= window.end {
            let ns = back.duration_since(sent).as_nanos();
            measured.round_trips_ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
        }
    }
    Ok(measured)
}

/// One message and its echo on `stream`, without timing (the idle test uses it).
pub async fn round_trip(stream: &mut TcpStream, script: &Script) -> Result<(), LoadError> {
    stream.write_all(&script.frame).await?;
    let mut buf = vec![0u8; script.echo.len()];
    stream.read_exact(&mut buf).await?;
    if buf != script.echo {
        return Err(LoadError::WrongEcho("the echo differs from the message".into()));
    }
    Ok(())
}

/// Runs `round_trips` on every stream at once and gathers the samples, sorted.
pub async fn load(streams: Vec<TcpStream>, script: Script, window: Window) -> Result<Vec<u32>, LoadError> {
    let script = std::sync::Arc::new(script);
    let mut tasks = tokio::task::JoinSet::new();
    for stream in streams {
        let script = script.clone();
        tasks.spawn(async move { round_trips(stream, &script, window).await });
    }
    gather(tasks).await
}

/// Opens `n` connections with tokio-tungstenite and keeps them as `WebSocketStream`s, the way an
/// ordinary client does.
pub async fn connect_many_ordinary(url: &str, n: usize) -> Result<Vec<Ordinary>, LoadError> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    stream::iter(0..n)
        .map(|_| connect_ordinary(url))
        .buffer_unordered(CONNECT_CONCURRENCY)
        .try_collect()
        .await
}

/// One connection of the ordinary client.
pub type Ordinary = tokio_tungstenite::WebSocketStream<TcpStream>;

/// Opens one WebSocket connection with tokio-tungstenite (the handshake, then the stream as
/// tungstenite keeps it).
async fn connect_ordinary(url: &str) -> Result<Ordinary, LoadError> {
    let authority = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| LoadError::Url(url.to_owned()))?;
    let stream = TcpStream::connect(authority).await?;
    stream.set_nodelay(true)?;
    let (ws, _response) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|source| LoadError::Handshake { url: url.to_owned(), source })?;
    Ok(ws)
}

/// The ordinary client's round trips on one connection: `send` a binary message (tungstenite
/// frames it and masks it with a fresh random key, RFC 6455 §5.3, then flushes), then wait for
/// the next message and check it is the same bytes.
pub async fn ordinary_round_trips(
    mut ws: Ordinary,
    payload: tungstenite::Bytes,
    window: Window,
) -> Result<Measured, LoadError> {
    use futures_util::{SinkExt, StreamExt};
    use tungstenite::Message;
    let mut measured = Measured::default();
    let failed = |e: tungstenite::Error| LoadError::WrongEcho(format!("the connection failed: {e}"));
    loop {
        let sent = Instant::now();
        if sent >= window.end {
            break;
        }
        ws.send(Message::Binary(payload.clone())).await.map_err(failed)?;
        let echo = match ws.next().await {
            Some(Ok(Message::Binary(echo))) => echo,
            Some(Ok(other)) => {
                return Err(LoadError::WrongEcho(format!("a message that is not the echo: {other:?}")));
            }
            Some(Err(e)) => return Err(failed(e)),
            None => return Err(LoadError::WrongEcho("the server closed the connection".into())),
        };
        let back = Instant::now();
        if echo != payload {
            return Err(LoadError::WrongEcho(format!(
                "{} bytes that differ from the {} sent",
                echo.len(),
                payload.len()
            )));
        }
        if sent >= window.start && back <= window.end {
            let ns = back.duration_since(sent).as_nanos();
            measured.round_trips_ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
        }
    }
    Ok(measured)
}

/// Runs [`ordinary_round_trips`] on every connection at once, a task each, with a binary payload
/// of `size` bytes, and gathers the samples, sorted.
pub async fn load_ordinary(
    connections: Vec<Ordinary>,
    size: usize,
    window: Window,
) -> Result<Vec<u32>, LoadError> {
    let payload: tungstenite::Bytes = (0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into();
    let mut tasks = tokio::task::JoinSet::new();
    for ws in connections {
        tasks.spawn(ordinary_round_trips(ws, payload.clone(), window));
    }
    gather(tasks).await
}

/// Waits for every connection's task and returns all their round trips, sorted.
async fn gather(mut tasks: tokio::task::JoinSet<Result<Measured, LoadError>>) -> Result<Vec<u32>, LoadError> {
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let measured =
            joined.map_err(|e| LoadError::WrongEcho(format!("a connection's task failed: {e}")))??;
        all.extend(measured.round_trips_ns);
    }
    all.sort_unstable();
    Ok(all)
}

/// A window that starts after `warmup` and lasts `measure`, from now.
pub fn window(warmup: Duration, measure: Duration) -> Window {
    let start = Instant::now() + warmup;
    Window { start, end: start + measure }
}
