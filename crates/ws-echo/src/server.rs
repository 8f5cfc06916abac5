//! The async echo server on tokio-tungstenite: every text or binary message goes straight back.
//!
//! One task per connection; a semaphore caps how many run at once. What the server does with
//! each kind of message is the whole lesson of the chapter, so here it is in one place:
//! - text and binary: sent back unchanged, as the same kind;
//! - ping: nothing to do, tungstenite queues the pong and writes it on the next read;
//! - close: tungstenite queues the answering close frame; we keep reading so that it is written,
//!   and the next read reports the end (RFC 6455 §7.1.1: then the server closes TCP first);
//! - an error: answered with the close code it deserves (1002, 1007, 1009), see
//!   `serve::limits::close_code_for`, and the connection is failed (`serve::close::fail`);
//! - nothing for the idle timeout: close 1000 "idle"; a send the client does not take for the
//!   send timeout (it stopped reading): close 1013 and the connection is dropped (the limits are
//!   `guard`'s, shared by every server; the ways to close are `serve::close`'s).

use std::future::Future as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use guard::WhenFull;
use guard::limits::IDLE_CODE;
use serve::accept::handshake;
use serve::close::{cast_off, close, fail};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::Role;
use wire::CloseCode;

pub use serve::Ending;

use crate::{Limits, PATH, TungsteniteConfig};

/// The port the standalone echo server listens on by default (9001, as the Autobahn test suite's
/// examples use).
pub const DEFAULT_PORT: u16 = 9001;

/// Threads the standalone server runs connections on by default: one event loop, as in Node.
/// An echo spends most of its time in the kernel's TCP code; a second thread would add locking
/// and hand-overs between threads to every message and, on a small machine, take the core the
/// clients need. `ws-echo-server --threads N` uses tokio's multi-threaded runtime instead.
pub const DEFAULT_THREADS: usize = 1;

/// Serves the echo on `listener` at [`PATH`] until the listener fails. At most
/// `limits.max_connections` at once; the next client is told `503` before any upgrade.
pub async fn serve(listener: TcpListener, limits: Limits) -> std::io::Result<()> {
    let slots = guard::Slots::new(limits.max_connections);
    serve_with(listener, limits, slots).await
}

/// [`serve`], counting connections in `slots` (whose maximum applies), so a test can watch them
/// come and go.
pub async fn serve_with(listener: TcpListener, limits: Limits, slots: guard::Slots) -> std::io::Result<()> {
    let limits = Arc::new(limits);
    // The one accept loop every server shares: a task and a slot per connection, 503 past the
    // limit, and a pause instead of a busy loop when file descriptors run out.
    guard::accept::serve(listener, slots, WhenFull::Http503, |stream, peer| {
        let limits = limits.clone();
        async move { handle(stream, peer, &limits).await }
    })
    .await
}

// ANCHOR: handle
/// Handles one connection: the handshake, then the echo, logging how it ended.
///
/// An idle connection costs what its task holds while it waits, so two things are kept out of it:
/// - the handshake's buffers live in a boxed future, freed once the handshake is done, instead of
///   being part of every connection's task for its whole life;
/// - tungstenite allocates (and zeroes) its read buffer, `limits.read_buffer` bytes, when the
///   WebSocket is made, so the WebSocket is made when the client's first bytes arrive: a client
///   that has said nothing since its handshake costs a few hundred bytes, not a buffer.
pub async fn handle(stream: TcpStream, peer: SocketAddr, limits: &Limits) {
    let _ = stream.set_nodelay(true);
    let (stream, leftover) = match Box::pin(handshake(stream, PATH, limits)).await {
        Ok((stream, leftover, _accepted)) => (stream, leftover),
        Err(e) => {
            tracing::info!(%peer, "handshake refused: {e}");
            return;
        }
    };
    tracing::info!(%peer, "WebSocket open");
    if leftover.is_empty() {
        // Also ready when the peer closes or the connection fails; tungstenite then reports it.
        let _ = stream.readable().await;
    }
    let config = Some(limits.websocket_config());
    let ws = WebSocketStream::from_partially_read(stream, leftover, Role::Server, config).await;
    let ending = echo(ws, limits).await;
    tracing::info!(%peer, ?ending, "WebSocket closed");
}
// ANCHOR_END: handle

// ANCHOR: echo
/// Echoes messages until the connection ends.
pub async fn echo<S>(mut ws: WebSocketStream<S>, limits: &Limits) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut peer_close = None;
    let mut idle = IdleTimer::new(limits.idle_timeout);
    loop {
        let message = match next_or_idle(&mut ws, &mut idle).await {
            // No frame for the idle timeout: close 1000 "idle".
            Err(Idle) => return Box::pin(close(ws, IDLE_CODE, limits.idle_reason(), limits)).await,
            // The stream ends after the close handshake (or when the peer is gone).
            Ok(None) => {
                return match peer_close {
                    Some(code) => Ending::PeerClosed(code),
                    None => Ending::Dropped("the connection ended".into()),
                };
            }
            Ok(Some(Ok(message))) => message,
            // Boxed: the closing path is rare, so its state stays out of every connection's task.
            Ok(Some(Err(e))) => return Box::pin(fail(ws, &e, limits)).await,
        };
        let answer = match message {
            Message::Text(text) => Message::Text(text),
            Message::Binary(data) => Message::Binary(data),
            // tungstenite answers pings itself; the pong goes out on the next read.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            Message::Close(frame) => {
                peer_close = Some(frame.map(|f| CloseCode(u16::from(f.code))));
                continue;
            }
        };
        // A client that stopped reading makes this send wait; not for ever (guard's SEND_TIMEOUT).
        match send_within(&mut ws, answer, limits.send_timeout).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Box::pin(fail(ws, &e, limits)).await,
            Err(_stalled) => return Box::pin(cast_off(ws, limits)).await,
        }
    }
}
// ANCHOR_END: echo

/// The idle timeout ran out before the next frame.
struct Idle;

/// The idle timeout, kept cheap: one timer for the connection's whole life, moved on only when it
/// fires, rather than a new timer for every frame (registering and removing a timer per message
/// was a measurable part of the echo's CPU time; see the Measurements chapter).
struct IdleTimer {
    limit: Option<Duration>,
    last_frame: Instant,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl IdleTimer {
    fn new(limit: Option<Duration>) -> IdleTimer {
        IdleTimer { limit, last_frame: Instant::now(), timer: limit.map(|d| Box::pin(tokio::time::sleep(d))) }
    }

    /// A frame arrived: the connection is not idle.
    fn touch(&mut self) {
        if self.limit.is_some() {
            self.last_frame = Instant::now();
        }
    }

    /// Waits until no frame has arrived for the limit (for ever, without a limit).
    async fn expired(&mut self) {
        let (Some(limit), Some(timer)) = (self.limit, self.timer.as_mut()) else {
            return std::future::pending().await;
        };
        loop {
            timer.as_mut().await;
            let due = self.last_frame + limit;
            if Instant::now() >= due {
                return;
            }
            timer.as_mut().reset(due);
        }
    }
}

/// The next frame, as `ws.next()`, or [`Idle`] when none arrives within the idle timeout. Any
/// frame counts, a ping too: a client that pings is there.
async fn next_or_idle<S>(
    ws: &mut WebSocketStream<S>,
    idle: &mut IdleTimer,
) -> Result<Option<Result<Message, tungstenite::Error>>, Idle>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let next = tokio::select! {
        biased;
        next = ws.next() => next,
        () = idle.expired() => return Err(Idle),
    };
    idle.touch();
    Ok(next)
}

/// Sends `message`, giving up after `limit` if the peer does not take it. The timer is only
/// started when the first try cannot finish at once, which is rare: a send usually just copies
/// the frame into the socket's buffer.
async fn send_within<S>(
    ws: &mut WebSocketStream<S>,
    message: Message,
    limit: Duration,
) -> Result<Result<(), tungstenite::Error>, tokio::time::error::Elapsed>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut send = std::pin::pin!(ws.send(message));
    match std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await {
        Poll::Ready(done) => Ok(done),
        Poll::Pending => tokio::time::timeout(limit, send).await,
    }
}
