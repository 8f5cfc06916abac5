//! The pinging echo server: the echo chapter's server with a heartbeat, an idle timeout and a
//! graceful shutdown.
//!
//! One task per connection runs [`run`], a `select!` over four things that can happen next:
//! - a message arrives: text and binary are echoed; a pong proves the client alive; a ping needs
//!   nothing (tungstenite queues the pong and writes it on our next read); a close is answered by
//!   tungstenite, and we keep reading so the answer is written;
//! - the heartbeat ticks: ping, or give up on a client that missed too many pongs, *terminating*
//!   the connection: dropping it without a close frame, since a dead peer cannot answer one;
//! - the idle timeout passes with no message: close 1000 "idle";
//! - the server shuts down: close 1001 "going away".

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use wire::CloseCode;

use crate::config::{IDLE_CODE, SHUTDOWN_CODE, Settings};
use crate::liveness::{Beat, Liveness};

/// The port the standalone heartbeat server listens on by default.
pub const DEFAULT_PORT: u16 = 9004;

/// How a connection ended, as the server's application saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The client sent a close frame with this code (`None`: an empty close frame, reported as
    /// 1005), and the close handshake completed.
    PeerClosed(Option<CloseCode>),
    /// We closed with this code and reason: idle, shutting down, or a broken rule or limit.
    WeClosed(CloseCode, String),
    /// We gave up on a client that left `missed` pings unanswered, and dropped the connection
    /// without a close frame.
    Terminated {
        /// Unanswered pings.
        missed: u32,
    },
    /// The connection ended without a close frame from the client: the application's 1006.
    Dropped(String),
}

impl From<serve::Ending> for Ending {
    fn from(ending: serve::Ending) -> Self {
        match ending {
            serve::Ending::PeerClosed(code) => Ending::PeerClosed(code),
            serve::Ending::WeClosed(code, reason) => Ending::WeClosed(code, reason),
            serve::Ending::Dropped(why) => Ending::Dropped(why),
        }
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::PeerClosed(Some(code)) => write!(f, "the client closed with {code}"),
            Ending::PeerClosed(None) => write!(f, "the client closed with no code (reported as 1005)"),
            Ending::WeClosed(code, reason) => write!(f, "the server closed with {code} {reason:?}"),
            Ending::Terminated { missed } => write!(
                f,
                "the server gave up after {missed} unanswered pings and dropped the connection, no close frame"
            ),
            Ending::Dropped(why) => {
                write!(f, "the connection dropped with no close frame (1006 abnormal closure): {why}")
            }
        }
    }
}

/// Tells every connection of a server to close with 1001. Dropping it does nothing.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    /// A switch, off.
    pub fn new() -> Shutdown {
        Shutdown(watch::Sender::new(false))
    }

    /// Starts the shutdown: every connection sends close 1001 and finishes its close handshake.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// What a connection watches.
    pub fn watcher(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

/// Serves the pinging echo on `listener` at [`crate::PATH`] until the listener fails, or until
/// `shutdown` is triggered: then each connection closes with 1001, and this returns once every
/// close handshake is over (each bounded by the close timeout).
pub async fn serve(listener: TcpListener, settings: Settings, shutdown: Shutdown) -> std::io::Result<()> {
    let settings = Arc::new(settings);
    let slots = guard::Slots::new(settings.limits.max_connections);
    let mut stopping = shutdown.watcher();
    // Each connection watches the same switch and says goodbye; `serve_until` then waits for
    // them all.
    let stop = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    guard::accept::serve_until(listener, slots, guard::WhenFull::Http503, stop, |stream, peer| {
        let settings = settings.clone();
        let watcher = shutdown.watcher();
        async move {
            handle(stream, peer, &settings, watcher).await;
        }
    })
    .await
}

/// Handles one connection: the handshake, then [`run`], logging how it ended.
pub async fn handle<S>(
    stream: S,
    peer: SocketAddr,
    settings: &Settings,
    shutdown: watch::Receiver<bool>,
) -> Option<Ending>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match serve::accept::accept(stream, crate::PATH, &settings.limits).await {
        Ok((ws, _)) => {
            tracing::info!(%peer, "WebSocket open");
            let ending = run(ws, settings, shutdown).await;
            tracing::info!(%peer, %ending, "WebSocket closed");
            Some(ending)
        }
        Err(e) => {
            tracing::info!(%peer, "handshake refused: {e}");
            None
        }
    }
}

// ANCHOR: run
/// Echoes messages and keeps the connection honest until it ends.
pub async fn run<S>(
    mut ws: WebSocketStream<S>,
    settings: &Settings,
    mut shutdown: watch::Receiver<bool>,
) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let interval = settings.heartbeat.interval;
    let mut liveness = Liveness::new(settings.heartbeat.max_missed);
    // The first tick one interval from now, not at once (tokio's `interval` ticks at once).
    let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
    // After a stall (a slow send), carry on one interval later rather than pinging in a burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_message = Instant::now();
    let mut peer_closed: Option<Option<CloseCode>> = None;
    let mut may_shut_down = true;
    loop {
        let idle_at = settings.limits.idle_timeout.map(|t| last_message + t);
        let open = peer_closed.is_none();
        tokio::select! {
            // In this order, not at random (select!'s default): a pong that arrived by the time
            // the tick fires is counted first, and a run with a paused clock is repeatable.
            biased;
            message = ws.next() => match message {
                // The stream ends after the close handshake, or when the peer is gone.
                None => return match peer_closed {
                    Some(code) => Ending::PeerClosed(code),
                    None => Ending::Dropped("the stream ended".into()),
                },
                Some(Err(e)) => return fail(ws, &e, settings).await,
                Some(Ok(Message::Pong(_))) => liveness.pong(),
                // tungstenite has queued the pong; our next read or write sends it.
                Some(Ok(Message::Ping(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(frame))) => {
                    peer_closed = Some(frame.map(|f| CloseCode(u16::from(f.code))));
                }
                Some(Ok(message)) => {
                    last_message = Instant::now();
                    // A client that stopped reading: give up after the send timeout (1013).
                    match tokio::time::timeout(settings.limits.send_timeout, ws.send(message)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return fail(ws, &e, settings).await,
                        Err(_stalled) => return cast_off(ws, settings).await,
                    }
                }
            },
            _ = ticks.tick(), if open => match liveness.tick() {
                Beat::Ping(n) => {
                    let ping = ws.send(Message::Ping(n.to_string().into()));
                    match tokio::time::timeout(settings.limits.send_timeout, ping).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return fail(ws, &e, settings).await,
                        Err(_stalled) => return cast_off(ws, settings).await,
                    }
                }
                // Like Node's `ws.terminate()`: no close frame, since nobody would answer it.
                Beat::GiveUp { missed } => return Ending::Terminated { missed },
            },
            _ = sleep_until_some(idle_at), if open => {
                return close(ws, IDLE_CODE, settings.limits.idle_reason(), settings).await;
            }
            // (`is_ok()` at once: the borrow `wait_for` returns must not be held across an await.)
            stop = async { shutdown.wait_for(|stop| *stop).await.is_ok() }, if open && may_shut_down => match stop {
                true => return close(ws, SHUTDOWN_CODE, "server shutting down".into(), settings).await,
                // The switch is gone without being pulled: nobody can shut us down any more.
                false => may_shut_down = false,
            },
        }
    }
}
// ANCHOR_END: run

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Fails the connection for a tungstenite error (`serve::close::fail`: the close code the error
/// deserves, then a lingering close), or reports it as dropped when nobody is left to tell.
async fn fail<S>(ws: WebSocketStream<S>, error: &tungstenite::Error, settings: &Settings) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    serve::close::fail(ws, error, &settings.limits).await.into()
}

/// Gives up on a client that stopped reading: close 1013, then the connection is dropped.
async fn cast_off<S>(ws: WebSocketStream<S>, settings: &Settings) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    serve::close::cast_off(ws, &settings.limits).await.into()
}

/// The close handshake (`serve::close::close`): our close frame, then the client's answer and the
/// end of the stream, for at most the close timeout; then the server closes TCP first.
pub async fn close<S>(ws: WebSocketStream<S>, code: CloseCode, reason: String, settings: &Settings) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    serve::close::close(ws, code, reason, &settings.limits).await.into()
}
