//! The by-hand echo server: a task per connection, each a loop of reads, [`Session::receive`] and
//! writes.
//!
//! ```text
//!  read bytes ─▶ Session::receive ─▶ Deliver(message) ─▶ write the echo
//!                                 ├▶ Send(frame)       ─▶ write it (pong, close)
//!                                 ├▶ CloseTcp          ─▶ shut down TCP, done
//!                                 └▶ Linger            ─▶ shut down TCP, read and drop, done
//! ```
//!
//! A client that breaks a rule gets a close frame that says which, and then nothing of what it
//! sends is processed, not even its answering close frame (RFC 6455 §7.1.7): the server closes its
//! sending side at once and reads and drops the rest until the client closes, for at most
//! `limits.close_timeout` (a lingering close). When the server closes a healthy connection itself
//! (1000 "idle" after `limits.idle_timeout`), it starts the close handshake instead, and waits at
//! most `limits.close_timeout` for the answer: a peer that never answers must not hold the
//! connection forever. A client that stops reading (a write waits `limits.send_timeout`) is closed
//! with 1013.
//!
//! With a [`DeflateConfig`] in its [`Config`] (`ws-by-hand-server --deflate`), the server accepts
//! permessage-deflate (RFC 7692) from clients that offer it, and echoes compressed.

use std::net::SocketAddr;
use std::sync::Arc;

use guard::limits::{IDLE_CODE, SLOW_READER_CODE};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use wire::close::ClosePayload;
use wire::deflate::{DeflateAgreement, DeflateConfig};
use wire::frame::Frame;

use crate::handshake::{HandshakeError, Upgraded, handshake};
use crate::session::{Action, Ending, Session};
use crate::{Limits, PATH};

/// The port the standalone by-hand server listens on by default (the tungstenite echo's is 9001).
pub const DEFAULT_PORT: u16 = 9002;

/// How a connection ended, for the log and the tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The connection closed in order (see [`Ending`]): the close handshake ran, or we failed the
    /// connection and the peer then closed TCP.
    Closed(Ending),
    /// We sent a close frame and the peer did not answer it (or, after a failure, did not close
    /// TCP) within the close timeout.
    CloseTimedOut(Ending),
    /// The peer's TCP connection ended without a close handshake (the application's 1006).
    Dropped,
    /// The client stopped reading: a write made no progress for the send timeout, so we sent
    /// close 1013 (if it went out) and closed TCP.
    CastOff,
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

/// How the server runs: its limits, and the compression it accepts.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The named limits every Duplex server shares.
    pub limits: Limits,
    /// permessage-deflate (RFC 7692): what the server is willing to agree to, or `None` to
    /// decline every extension (the default, and the by-hand chapter's server).
    pub deflate: Option<DeflateConfig>,
}

impl From<Limits> for Config {
    /// The limits, and no compression.
    fn from(limits: Limits) -> Config {
        Config { limits, deflate: None }
    }
}

/// Serves the echo on `listener` at [`PATH`] until the listener fails. At most
/// `limits.max_connections` at once; the next client is told `503` before any upgrade. Pass
/// [`Limits`] alone for a server without compression, or a [`Config`].
pub async fn serve(listener: TcpListener, config: impl Into<Config>) -> std::io::Result<()> {
    let config = config.into();
    let slots = guard::Slots::new(config.limits.max_connections);
    serve_with(listener, config, slots).await
}

/// [`serve`], counting connections in `slots` (whose maximum applies).
pub async fn serve_with(
    listener: TcpListener,
    config: impl Into<Config>,
    slots: guard::Slots,
) -> std::io::Result<()> {
    let config = Arc::new(config.into());
    // The accept loop every server shares (`guard::accept`): a task and a slot per connection,
    // 503 past the limit, a pause instead of a busy loop when file descriptors run out.
    guard::accept::serve(listener, slots, guard::WhenFull::Http503, |stream, peer| {
        let config = config.clone();
        async move { handle(stream, peer, &config).await }
    })
    .await
}

/// Handles one TCP connection and logs how it ended.
pub async fn handle(stream: TcpStream, peer: SocketAddr, config: &Config) {
    let _ = stream.set_nodelay(true);
    match run_with(stream, config).await {
        Ok(outcome) => tracing::info!(%peer, ?outcome, "WebSocket closed"),
        Err(e) => tracing::info!(%peer, "connection ended: {e}"),
    }
}

/// The handshake, then the echo, on any byte stream (a `TcpStream`, or an in-memory pipe in
/// tests), without compression.
pub async fn run<S>(stream: S, limits: &Limits) -> Result<Outcome, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    run_with(stream, &Config::from(limits.clone())).await
}

/// [`run`] with a [`Config`]: permessage-deflate too, if it has a [`DeflateConfig`].
pub async fn run_with<S>(mut stream: S, config: &Config) -> Result<Outcome, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Upgraded { deflate, leftover, .. } =
        handshake(&mut stream, PATH, &config.limits, config.deflate.as_ref()).await?;
    echo(stream, leftover, &config.limits, deflate.as_ref()).await
}

// ANCHOR: echo
/// Echoes every message until the close handshake is done. `first` holds bytes that arrived with
/// the handshake; `deflate`, the compression the handshake agreed on, if any.
pub async fn echo<S>(
    mut stream: S,
    first: Vec<u8>,
    limits: &Limits,
    deflate: Option<&DeflateAgreement>,
) -> Result<Outcome, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = match deflate {
        Some(agreement) => Session::with_deflate(limits.max_message, agreement),
        None => Session::new(limits.max_message),
    };
    let mut buf = vec![0u8; limits.read_buffer];
    let mut actions = session.receive(&first);
    let mut close_deadline = None;
    loop {
        for action in actions {
            let frame = match action {
                // The echo itself: the message goes back as one frame of the same kind, unmasked
                // (and compressed, if the handshake agreed on permessage-deflate).
                Action::Deliver(message) => session.frame_for(&message),
                Action::Send(frame) => frame,
                Action::CloseTcp(ending) => {
                    // RFC 6455 §7.1.1: the server closes the TCP connection first.
                    stream.shutdown().await?;
                    return Ok(Outcome::Closed(ending));
                }
                // RFC 6455 §7.1.7: we failed the connection; nothing more is processed.
                Action::Linger(ending) => return Ok(linger(&mut stream, &mut buf, limits, ending).await),
            };
            // A client that stopped reading makes the write wait: not longer than the send timeout.
            if let Sent::Stalled = send(&mut stream, &frame, limits).await? {
                return Ok(cast_off(&mut stream, limits).await);
            }
        }
        if session.is_closing() && close_deadline.is_none() {
            close_deadline = Some(Instant::now() + limits.close_timeout);
        }
        // While open, the next bytes may take up to the idle timeout; while closing, the close timeout.
        let deadline = close_deadline.or_else(|| limits.idle_timeout.map(|idle| Instant::now() + idle));
        let read = match deadline {
            None => Ok(stream.read(&mut buf).await),
            Some(deadline) => tokio::time::timeout_at(deadline, stream.read(&mut buf)).await,
        };
        let n = match read {
            Ok(read) => read?,
            Err(_elapsed) if session.is_closing() => {
                // The peer never answered our close frame: close TCP without it.
                let _ = stream.shutdown().await;
                return Ok(Outcome::CloseTimedOut(session_ending(&session)));
            }
            Err(_elapsed) => {
                // Nothing from the client for the idle timeout: close 1000 "idle".
                actions = session.close(IDLE_CODE, limits.idle_reason());
                continue;
            }
        };
        if n == 0 {
            return Ok(Outcome::Dropped);
        }
        actions = session.receive(&buf[..n]);
    }
}
// ANCHOR_END: echo

/// Whether a frame went out.
enum Sent {
    /// Written and flushed.
    Done,
    /// The write made no progress for the send timeout.
    Stalled,
}

async fn send<S>(stream: &mut S, frame: &Frame, limits: &Limits) -> std::io::Result<Sent>
where
    S: AsyncWrite + Unpin,
{
    let write = async {
        stream.write_all(&frame.encode()).await?;
        stream.flush().await
    };
    match tokio::time::timeout(limits.send_timeout, write).await {
        Ok(written) => written.map(|()| Sent::Done),
        Err(_stalled) => Ok(Sent::Stalled),
    }
}

// ANCHOR: linger
/// The end of a failed connection: our close frame is sent, so close our sending side (FIN), then
/// read and drop what the peer still sends until it closes, within the close timeout. Nothing is
/// processed (RFC 6455 §7.1.7), not even a close frame. Dropping the socket at once instead, with
/// the peer's bytes unread, would make the kernel send a reset, which can destroy our close frame
/// before the peer reads it (RFC 1122 §4.2.2.13; HTTP servers linger for the same reason, RFC 9112
/// §9.6).
async fn linger<S>(stream: &mut S, buf: &mut [u8], limits: &Limits, ending: Ending) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = stream.shutdown().await;
    let drain = async {
        // Until the end of the stream, or an error (the peer reset the connection): done either way.
        while let Ok(1..) = stream.read(buf).await {}
    };
    match tokio::time::timeout(limits.close_timeout, drain).await {
        Ok(()) => Outcome::Closed(ending),
        Err(_elapsed) => Outcome::CloseTimedOut(ending),
    }
}
// ANCHOR_END: linger

/// Gives up on a client that stopped reading: close 1013 if the frame still goes out within the
/// close timeout, then TCP is closed.
async fn cast_off<S>(stream: &mut S, limits: &Limits) -> Outcome
where
    S: AsyncWrite + Unpin,
{
    let payload = ClosePayload { code: SLOW_READER_CODE, reason: limits.slow_reader_reason() };
    let write = async {
        let _ = stream.write_all(&Frame::close(Some(&payload)).encode()).await;
        let _ = stream.shutdown().await;
    };
    let _ = tokio::time::timeout(limits.close_timeout, write).await;
    Outcome::CastOff
}

fn session_ending(session: &Session) -> Ending {
    session.our_close().unwrap_or(Ending::PeerClosed(None))
}
