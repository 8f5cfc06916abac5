//! The by-hand echo server: a task per connection, each a loop of reads, [`Session::receive`] and
//! writes.
//!
//! ```text
//!  read bytes ─▶ Session::receive ─▶ Deliver(message) ─▶ write the echo
//!                                 ├▶ Send(frame)       ─▶ write it (pong, close)
//!                                 └▶ CloseTcp          ─▶ shut down TCP, done
//! ```
//!
//! Once the server has sent a close frame of its own, it waits at most `limits.close_timeout` for
//! the peer's answer, then closes TCP anyway: a peer that never answers must not hold the
//! connection forever.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use wire::frame::Frame;

use crate::handshake::{HandshakeError, handshake, refuse};
use crate::session::{Action, Ending, Message, Session};
use crate::{Limits, PATH};

/// The port the standalone by-hand server listens on by default (the tungstenite echo's is 9001).
pub const DEFAULT_PORT: u16 = 9002;

/// How a connection ended, for the log and the tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The close handshake ran (see [`Ending`]).
    Closed(Ending),
    /// We sent a close frame and the peer did not answer within the close timeout.
    CloseTimedOut(Ending),
    /// The peer's TCP connection ended without a close handshake (the application's 1006).
    Dropped,
}

/// Why a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The handshake failed (an HTTP error was sent if there was anyone to send it to).
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// A socket error after the handshake.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves the echo on `listener` at [`PATH`] until the listener fails. At most
/// `limits.max_connections` at once; the next client is told `503` before any upgrade.
pub async fn serve(listener: TcpListener, limits: Limits) -> std::io::Result<()> {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: refuse this one, keep serving the rest.
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        let limits = limits.clone();
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                tokio::spawn(async move {
                    handle(stream, peer, &limits).await;
                    drop(slot);
                });
            }
            Err(_) => {
                tokio::spawn(async move {
                    let mut stream = stream;
                    let message = format!(
                        "the server is at its limit of {} connections; try again soon",
                        limits.max_connections
                    );
                    let _: Result<(), _> = refuse(&mut stream, 503, message).await;
                });
            }
        }
    }
}

/// Handles one TCP connection and logs how it ended.
pub async fn handle(stream: TcpStream, peer: SocketAddr, limits: &Limits) {
    let _ = stream.set_nodelay(true);
    match run(stream, limits).await {
        Ok(outcome) => tracing::info!(%peer, ?outcome, "WebSocket closed"),
        Err(e) => tracing::info!(%peer, "connection ended: {e}"),
    }
}

/// The handshake, then the echo, on any byte stream (a `TcpStream`, or an in-memory pipe in tests).
pub async fn run<S>(mut stream: S, limits: &Limits) -> Result<Outcome, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (_accepted, leftover) = handshake(&mut stream, PATH, limits).await?;
    echo(stream, leftover, limits).await
}

// ANCHOR: echo
/// Echoes every message until the close handshake is done. `first` holds bytes that arrived with
/// the handshake.
pub async fn echo<S>(mut stream: S, first: Vec<u8>, limits: &Limits) -> Result<Outcome, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = Session::new(limits.max_message);
    let mut buf = vec![0u8; limits.read_buffer];
    let mut actions = session.receive(&first);
    let mut close_deadline = None;
    loop {
        for action in actions {
            match action {
                // The echo itself: the message goes back as one frame of the same kind, unmasked.
                Action::Deliver(Message::Text(text)) => send(&mut stream, &Frame::text(&text)).await?,
                Action::Deliver(Message::Binary(data)) => send(&mut stream, &Frame::binary(data)).await?,
                Action::Send(frame) => send(&mut stream, &frame).await?,
                Action::CloseTcp(ending) => {
                    // RFC 6455 §7.1.1: the server closes the TCP connection first.
                    stream.shutdown().await?;
                    return Ok(Outcome::Closed(ending));
                }
            }
        }
        if session.is_closing() && close_deadline.is_none() {
            close_deadline = Some(tokio::time::Instant::now() + limits.close_timeout);
        }
        let n = match close_deadline {
            None => stream.read(&mut buf).await?,
            Some(deadline) => match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
                Ok(read) => read?,
                Err(_elapsed) => {
                    // The peer never answered our close frame: close TCP without it.
                    let _ = stream.shutdown().await;
                    return Ok(Outcome::CloseTimedOut(session_ending(&session)));
                }
            },
        };
        if n == 0 {
            return Ok(Outcome::Dropped);
        }
        actions = session.receive(&buf[..n]);
    }
}
// ANCHOR_END: echo

async fn send<S>(stream: &mut S, frame: &Frame) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    stream.write_all(&frame.encode()).await?;
    stream.flush().await
}

fn session_ending(session: &Session) -> Ending {
    session.our_close().unwrap_or(Ending::PeerClosed(None))
}
