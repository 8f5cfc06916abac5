//! Reconnect and resume: a feed of numbered messages that a client follows across broken
//! connections, with no message lost and none twice.
//!
//! The protocol, on top of WebSocket:
//! 1. The client connects and sends one text message, `resume N`: the last sequence number it
//!    has (0 for none).
//! 2. The server sends every message after N from its [`ReplayBuffer`], then each new one as it
//!    is published, each as the text `"seq body"`.
//! 3. If the buffer no longer reaches back to N, the server closes with [`GAP_TOO_OLD`] (4410)
//!    and a reason that says what it still has.
//! 4. When the connection breaks, the client waits ([`Backoff`]) and starts again at step 1.
//!
//! This is what Server-Sent Events give a browser for free: each event carries an `id:`, and a
//! browser that reconnects sends the last one in a `Last-Event-ID` header. WebSocket has no such
//! thing; the application builds it, as here.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use wire::CloseCode;

use crate::backoff::Backoff;
use crate::replay::{GAP_TOO_OLD, Numbered, ReplayBuffer, ReplayError};

/// How long the server waits for the client's `resume N` before closing with 1008.
pub const RESUME_TIMEOUT: Duration = Duration::from_secs(10);

/// The published messages: the replay buffer, and a signal for connections waiting for more.
#[derive(Debug)]
pub struct Feed {
    buffer: Mutex<ReplayBuffer>,
    latest: watch::Sender<u64>,
}

impl Feed {
    /// A feed that keeps the last `capacity` messages for clients that come back.
    pub fn new(capacity: usize) -> Arc<Feed> {
        Arc::new(Feed { buffer: Mutex::new(ReplayBuffer::new(capacity)), latest: watch::Sender::new(0) })
    }

    /// Publishes a message to every connection, now and later; returns its number.
    pub fn publish(&self, body: impl Into<String>) -> u64 {
        let seq = self.buffer.lock().unwrap_or_else(PoisonError::into_inner).push(body);
        self.latest.send_replace(seq);
        seq
    }

    fn after(&self, last_seen: u64) -> Result<Vec<Numbered>, ReplayError> {
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner).after(last_seen)
    }
}

/// How a feed connection ended, as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedEnding {
    /// The client closed, or the connection dropped; `sent` messages went out.
    Ended {
        /// Messages sent on this connection.
        sent: u64,
    },
    /// We closed with this code and reason.
    WeClosed(CloseCode, String),
}

// ANCHOR: serve_feed
/// Serves the feed on one connection: wait for `resume N`, then replay and follow.
pub async fn serve_feed<S>(mut ws: WebSocketStream<S>, feed: &Feed) -> FeedEnding
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let first = tokio::time::timeout(RESUME_TIMEOUT, ws.next()).await;
    let resume = match first {
        Ok(Some(Ok(Message::Text(text)))) => text.strip_prefix("resume ").and_then(|n| n.parse::<u64>().ok()),
        _ => None,
    };
    let Some(mut cursor) = resume else {
        return close(ws, CloseCode::POLICY, "expected `resume N` first".into()).await;
    };
    let mut latest = feed.latest.subscribe();
    let mut sent = 0;
    loop {
        // Mark the current value seen *before* reading the buffer: a message published after
        // this line wakes `changed()` below, so none can slip between the two.
        latest.borrow_and_update();
        let messages = match feed.after(cursor) {
            Ok(messages) => messages,
            Err(e) => return close(ws, GAP_TOO_OLD, e.to_string()).await,
        };
        for message in &messages {
            // `feed` queues without flushing; one flush below sends the batch.
            if ws.feed(Message::text(message.to_wire())).await.is_err() {
                return FeedEnding::Ended { sent };
            }
            cursor = message.seq;
            sent += 1;
        }
        if ws.flush().await.is_err() {
            return FeedEnding::Ended { sent };
        }
        tokio::select! {
            // In a fixed order, so that a seeded test replays the same run every time.
            biased;
            changed = latest.changed() => if changed.is_err() { return FeedEnding::Ended { sent } },
            // Reading also sends tungstenite's queued pongs and close answers.
            message = ws.next() => match message {
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return FeedEnding::Ended { sent },
            },
        }
    }
}
// ANCHOR_END: serve_feed

async fn close<S>(mut ws: WebSocketStream<S>, code: CloseCode, reason: String) -> FeedEnding
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame { code: TCloseCode::from(code.0), reason: reason.clone().into() };
    let _ = ws.close(Some(frame)).await;
    let drain = async { while let Some(Ok(_)) = ws.next().await {} };
    let _ = tokio::time::timeout(guard::limits::CLOSE_TIMEOUT, drain).await;
    FeedEnding::WeClosed(code, reason)
}

/// Handles one connection on the feed's path: the handshake, then [`serve_feed`].
pub async fn handle<S>(stream: S, feed: &Feed, limits: &serve::Limits) -> Option<FeedEnding>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (ws, _) = serve::accept::accept(stream, crate::FEED_PATH, limits).await.ok()?;
    Some(serve_feed(ws, feed).await)
}

/// Why following the feed stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The server cannot replay from where the client is: it must start over some other way.
    #[error("the gap is too old to replay: {0}")]
    GapTooOld(String),
    /// The server sent a message out of order: a bug, and the test that catches it.
    #[error("expected message {expected}, got {got:?}")]
    OutOfOrder {
        /// The number that should have come next.
        expected: u64,
        /// What came instead.
        got: String,
    },
    /// The server closed with some other code.
    #[error("the server closed with {0}")]
    Closed(String),
}

/// What following took: how many connections, and each wait before a reconnect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Followed {
    /// Connections that completed the handshake.
    pub connections: u32,
    /// Attempts that failed before the handshake.
    pub failed_attempts: u32,
    /// Every wait before a new attempt, in order.
    pub waits: Vec<Duration>,
}

// ANCHOR: follow
/// Follows the feed from after `last_seen` until message `until`, reconnecting after every
/// break. `connect` opens a new stream to the server (any transport); `deliver` gets each
/// message exactly once, in order.
pub async fn follow<C, Fut, S, R>(
    mut connect: C,
    backoff: Backoff,
    rng: &mut R,
    mut last_seen: u64,
    until: u64,
    mut deliver: impl FnMut(&Numbered),
) -> Result<Followed, FollowError>
where
    C: FnMut() -> Fut,
    Fut: Future<Output = std::io::Result<S>>,
    S: AsyncRead + AsyncWrite + Unpin,
    R: Rng,
{
    let mut followed = Followed::default();
    // Failed attempts in a row; 0 means "connect at once".
    let mut attempt = 0;
    loop {
        if attempt > 0 {
            let wait = backoff.delay(attempt - 1, rng);
            followed.waits.push(wait);
            tokio::time::sleep(wait).await;
        }
        let Some(mut ws) = open(&mut connect, last_seen).await else {
            followed.failed_attempts += 1;
            attempt += 1;
            continue;
        };
        followed.connections += 1;
        // A new connection: the next break starts the backoff from the bottom again.
        attempt = 1;
        while let Some(Ok(message)) = ws.next().await {
            match message {
                Message::Text(text) => {
                    let Some(message) = Numbered::from_wire(&text).filter(|m| m.seq == last_seen + 1) else {
                        return Err(FollowError::OutOfOrder {
                            expected: last_seen + 1,
                            got: text.to_string(),
                        });
                    };
                    deliver(&message);
                    last_seen = message.seq;
                    if last_seen >= until {
                        let bye = CloseFrame { code: TCloseCode::Normal, reason: "done".into() };
                        let _ = ws.close(Some(bye)).await;
                        while let Some(Ok(_)) = ws.next().await {}
                        return Ok(followed);
                    }
                }
                Message::Close(frame) => {
                    // Keep reading: that writes tungstenite's answering close frame, and ends
                    // when the server closes TCP (RFC 6455 §7.1.1).
                    while let Some(Ok(_)) = ws.next().await {}
                    let Some(frame) = frame else { return Err(FollowError::Closed("no code (1005)".into())) };
                    let code = CloseCode(u16::from(frame.code));
                    if code == GAP_TOO_OLD {
                        return Err(FollowError::GapTooOld(frame.reason.to_string()));
                    }
                    // A server going away (1001) is worth coming back to; anything else is final.
                    if code != CloseCode::GOING_AWAY {
                        return Err(FollowError::Closed(code.to_string()));
                    }
                }
                _ => {}
            }
        }
        // The connection broke (no close frame, or a 1001): go round again, after a wait.
    }
}
// ANCHOR_END: follow

/// Connects, does the handshake and sends `resume N`; `None` if any of it failed.
async fn open<C, Fut, S>(connect: &mut C, last_seen: u64) -> Option<WebSocketStream<S>>
where
    C: FnMut() -> Fut,
    Fut: Future<Output = std::io::Result<S>>,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let stream = connect().await.ok()?;
    let key = Some(crate::endings::KEY);
    let mut ws = serve::client::connect_over(stream, "feed.local", crate::FEED_PATH, key).await.ok()?;
    ws.send(Message::text(format!("resume {last_seen}"))).await.ok()?;
    Some(ws)
}

/// A client following the feed through a Tap per connection, recorded: what
/// [`cut_and_resume`] and [`gap_too_old`] return, and what the chapter shows.
#[derive(Debug)]
pub struct Resumed {
    /// Each connection's transcript, in order, with the Tap's clock counting from the start of
    /// the whole run.
    pub transcripts: Vec<wire::Transcript>,
    /// What the client's application received, each with its time (`[0.100 s] 2 message 2`).
    pub received: Vec<String>,
    /// How following ended.
    pub result: Result<Followed, FollowError>,
}

impl Resumed {
    /// Every connection's transcript (handshake condensed), then what the client received and
    /// how it ended: the snapshot the book includes.
    pub fn render(&self, style: &wire::Render) -> String {
        let mut out = String::new();
        for (n, transcript) in self.transcripts.iter().enumerate() {
            out.push_str(&format!("Connection {}:\n", n + 1));
            out.push_str(&crate::endings::condensed(transcript).render(style));
            out.push('\n');
        }
        out.push_str("What the client's application received:\n");
        for line in &self.received {
            out.push_str(&format!("  {line}\n"));
        }
        match &self.result {
            Ok(followed) => {
                let waits: Vec<String> =
                    followed.waits.iter().map(|w| format!("{} ms", w.as_millis())).collect();
                out.push_str(&format!("  done; waited {} before reconnecting\n", waits.join(", ")));
            }
            Err(e) => out.push_str(&format!("  stopped: {e}\n")),
        }
        out
    }
}

/// The seed of the backoff's random generator in the recorded runs, so the wait before a
/// reconnect is the same every time.
pub const RECORDED_SEED: u64 = 6455;

/// Follows `feed` from after `start_after` until message `until`, each connection over an
/// in-memory pipe through its own Tap with the clock on; with `cut_at`, the Tap cuts the first
/// connection at that time. Run it on a paused tokio clock for exact times.
pub async fn recorded(feed: Arc<Feed>, start_after: u64, until: u64, cut_at: Option<Duration>) -> Resumed {
    use rand::SeedableRng;

    let connections: Arc<Mutex<Vec<tap::TapConnection>>> = Arc::default();
    let started = tokio::time::Instant::now();
    let connect = {
        let connections = connections.clone();
        let feed = feed.clone();
        move || {
            // The clock each Tap shows counts from the start of the whole run.
            let tap = tap::MemoryTap::new().clock_from(started);
            let (client, server, connection) = tap.pipe();
            let mut list = connections.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(at) = cut_at
                && list.is_empty()
            {
                let control = connection.control();
                tokio::spawn(async move {
                    tokio::time::sleep_until(started + at).await;
                    control.cut();
                });
            }
            list.push(connection);
            let feed = feed.clone();
            tokio::spawn(async move { handle(server, &feed, &serve::Limits::default()).await });
            async move { Ok(client) }
        }
    };
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(RECORDED_SEED);
    let mut received = Vec::new();
    let result = follow(connect, Backoff::default(), &mut rng, start_after, until, |m| {
        received.push(format!("{} {}", crate::endings::clock(started.elapsed()), m.to_wire()));
    })
    .await;
    let taps = std::mem::take(&mut *connections.lock().unwrap_or_else(PoisonError::into_inner));
    let mut transcripts = Vec::with_capacity(taps.len());
    for connection in taps {
        transcripts.push(connection.transcript().await);
    }
    Resumed { transcripts, received, result }
}

/// A message is published every 100 ms; the Tap cuts the connection at 250 ms, after message 3;
/// the client reconnects, sends `resume 3`, and gets 4, 5 and 6, none lost and none twice.
pub async fn cut_and_resume() -> Resumed {
    let feed = Feed::new(16);
    let publisher = {
        let feed = feed.clone();
        tokio::spawn(async move {
            for n in 1..=6 {
                feed.publish(format!("message {n}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let resumed = recorded(feed, 0, 6, Some(Duration::from_millis(250))).await;
    // The publisher is done by the time message 6 has arrived; waiting makes sure of it.
    let _ = publisher.await;
    resumed
}

/// A client that comes back after message 4 to a feed that keeps only the last 3 of 10
/// messages: the server closes with 4410 and says what it still has.
pub async fn gap_too_old() -> Resumed {
    let feed = Feed::new(3);
    for n in 1..=10 {
        feed.publish(format!("message {n}"));
    }
    recorded(feed, 4, 10, None).await
}
