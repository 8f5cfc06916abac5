//! The client side: joining a room and reading what the server says, and a client that follows a
//! room across broken connections without losing a message or seeing one twice.
//!
//! [`follow`] is the heartbeat chapter's resume, with Redis stream ids instead of sequence
//! numbers: the client remembers the id of the last message it has, and after any break (the
//! server left with 1012, was too busy (1013), crashed, or the network dropped) it connects again,
//! through the proxy, to whichever server it gets, with `?after=ID`. It also keeps an *outbox*:
//! a message it sent counts as delivered only when it comes back from the stream, so a message
//! lost with a broken connection is sent again, with the same key (the server stores a key once).

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serve::backoff::Backoff;
use serve::client::{RFC_KEY, connect_over};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;

use crate::protocol::{Incoming, Join, StreamId, keyed, split_key};

/// What can go wrong for a client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Connecting or the handshake failed.
    #[error(transparent)]
    Connect(#[from] serve::Error),
    /// The WebSocket failed.
    #[error("WebSocket error: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// The server said something else than expected.
    #[error("unexpected: {0}")]
    Unexpected(String),
}

/// How a server's connection to a member ended, as the member saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// A close frame with this code and reason.
    Closed(u16, String),
    /// The TCP connection ended without a close frame (what a browser reports as 1006).
    Dropped,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Closed(code, reason) => write!(f, "close {code} {reason:?}"),
            Ended::Dropped => f.write_str("no close frame (1006)"),
        }
    }
}

/// What a member reads next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A message.
    Message(Incoming),
    /// The end of the connection.
    Ended(Ended),
}

/// A member of a room, connected.
pub struct Member<S> {
    ws: WebSocketStream<S>,
    streams: bool,
    /// The server's name, from the welcome.
    pub server: String,
    /// With Streams: where the member is, from the welcome.
    pub at: Option<StreamId>,
}

/// Joins a room over `stream` (a TCP connection to the server or the proxy; `host` is its
/// `Host`), with the RFC's fixed key so every handshake reads the same, and reads the welcome.
/// `streams` says whether the server numbers its messages.
pub async fn join<S>(stream: S, host: &str, join: &Join, streams: bool) -> Result<Member<S>, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ws = connect_over(stream, host, &join.target(), Some(RFC_KEY)).await?;
    let mut member = Member { ws, streams, server: String::new(), at: None };
    match member.next().await {
        Event::Message(Incoming::Welcome { server, at, .. }) => {
            member.server = server;
            member.at = at;
            Ok(member)
        }
        other => Err(ClientError::Unexpected(format!("expected a welcome, got {other:?}"))),
    }
}

impl<S> Member<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    /// Sends a text message.
    pub async fn say(&mut self, text: &str) -> Result<(), ClientError> {
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    /// The next message, or how the connection ended. After a close frame it reads on until the
    /// server closes TCP, so the close handshake completes.
    pub async fn next(&mut self) -> Event {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => return Event::Message(Incoming::parse(&text, self.streams)),
                Some(Ok(Message::Close(frame))) => {
                    while let Some(Ok(_)) = self.ws.next().await {}
                    let (code, reason) =
                        frame.map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.to_string()));
                    return Event::Ended(Ended::Closed(code, reason));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Event::Ended(Ended::Dropped),
            }
        }
    }

    /// The next message's text (a stream entry's body, or a plain message); an error if the
    /// connection ends first.
    pub async fn hear(&mut self) -> Result<String, ClientError> {
        match self.next().await {
            Event::Message(Incoming::Plain(text) | Incoming::Entry { body: text, .. }) => Ok(text),
            other => Err(ClientError::Unexpected(format!("expected a message, got {other:?}"))),
        }
    }

    /// Says goodbye (close 1000) and waits for the server to close.
    pub async fn leave(mut self) {
        let bye = CloseFrame { code: TCloseCode::Normal, reason: "bye".into() };
        let _ = self.ws.close(Some(bye)).await;
        while let Some(Ok(_)) = self.ws.next().await {}
    }

    /// The underlying WebSocket.
    pub fn websocket(&mut self) -> &mut WebSocketStream<S> {
        &mut self.ws
    }
}

/// A stream entry, as [`follow`] hands it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its id.
    pub id: StreamId,
    /// Its key (the sender's name for it).
    pub key: String,
    /// Its text.
    pub text: String,
}

/// What following took.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Followed {
    /// Connections that got as far as the welcome.
    pub connections: u32,
    /// Attempts that failed before the welcome (refused, server down, proxy's 502).
    pub failed_attempts: u32,
    /// How each connection ended, in order (the last one: our own goodbye, not listed).
    pub endings: Vec<Ended>,
    /// The servers, in order of the welcomes.
    pub servers: Vec<String>,
    /// Messages sent, resends included.
    pub sent: u32,
    /// Times the client went away on purpose ([`Next::Away`]).
    pub aways: u32,
}

/// What [`follow`] does after an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Go on.
    Continue,
    /// Stop: say goodbye and return.
    Stop,
    /// Drop the connection now, without a goodbye (a phone going into a tunnel), stay away this
    /// long, then come back with the last id.
    Away(Duration),
}

/// Why following stopped short.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// An entry came out of order, or twice: what the test exists to catch.
    #[error("after {last}, got {got}: out of order or twice")]
    OutOfOrder {
        /// The last id received.
        last: StreamId,
        /// The id that came next.
        got: StreamId,
    },
    /// The server refused for good (a close code that does not invite a retry).
    #[error("the server closed with {0} {1:?}")]
    Refused(u16, String),
    /// A frame that is not a stream entry.
    #[error("not a stream entry: {0:?}")]
    Unexpected(Incoming),
}

/// Whether a close code asks the client to come back: 1001 going away, 1011 server error, 1012
/// service restart, 1013 try again later (also: too slow; come back and catch up).
pub fn worth_coming_back(code: u16) -> bool {
    matches!(code, 1001 | 1011 | 1012 | 1013)
}

/// Where and how [`follow`] follows.
#[derive(Clone, Debug)]
pub struct Follow<'a> {
    /// The `Host` to send (the proxy's address).
    pub host: &'a str,
    /// The room.
    pub room: &'a str,
    /// Where to start: after this id, or (`None`) from the present.
    pub after: Option<StreamId>,
    /// How long to wait before each new attempt.
    pub backoff: Backoff,
}

// ANCHOR: follow
/// Follows a room from the present (or from `plan.after`) until `done` says so, reconnecting
/// after every break with `?after=LAST`, and sends each message of `outbox` (`(key, text)`) in
/// turn, each only once the previous one has come back from the stream. `connect` opens a new
/// connection (to the proxy); `next` sees every entry exactly once, in the stream's order, and
/// says what to do next.
pub async fn follow<C, Fut, S, R>(
    mut connect: C,
    plan: Follow<'_>,
    rng: &mut R,
    mut outbox: VecDeque<(String, String)>,
    mut next: impl FnMut(&Entry) -> Next,
) -> Result<Followed, FollowError>
where
    C: FnMut() -> Fut,
    Fut: Future<Output = std::io::Result<S>>,
    S: AsyncRead + AsyncWrite + Unpin,
    R: Rng,
{
    let Follow { host, room, mut after, backoff } = plan;
    let mut followed = Followed::default();
    let mut attempt = 0;
    loop {
        if attempt > 0 {
            tokio::time::sleep(backoff.delay(attempt - 1, rng)).await;
        }
        attempt += 1;
        let joining = Join { room: room.to_owned(), after };
        let member = match connect().await {
            Ok(stream) => join(stream, host, &joining, true).await.ok(),
            Err(_) => None,
        };
        let Some(mut member) = member else {
            followed.failed_attempts += 1;
            continue;
        };
        followed.connections += 1;
        followed.servers.push(member.server.clone());
        after = after.or(member.at);
        // A new connection: the next break starts the backoff from the bottom again.
        attempt = 1;
        // Whatever was in flight may have been lost with the old connection: send it (again).
        if let Some((key, text)) = outbox.front() {
            followed.sent += 1;
            if member.say(&keyed(key, text)).await.is_err() {
                continue;
            }
        }
        let ending = loop {
            let entry = match member.next().await {
                Event::Message(Incoming::Entry { id, body }) => {
                    let (key, text) = split_key(&body).unwrap_or(("", body.as_str()));
                    Entry { id, key: key.to_owned(), text: text.to_owned() }
                }
                Event::Message(other) => return Err(FollowError::Unexpected(other)),
                Event::Ended(ending) => break Some(ending),
            };
            let last = after.unwrap_or(StreamId::ZERO);
            if entry.id <= last {
                return Err(FollowError::OutOfOrder { last, got: entry.id });
            }
            after = Some(entry.id);
            match next(&entry) {
                Next::Continue => {}
                Next::Stop => {
                    member.leave().await;
                    return Ok(followed);
                }
                Next::Away(pause) => {
                    drop(member);
                    followed.aways += 1;
                    tokio::time::sleep(pause).await;
                    break None;
                }
            }
            if outbox.front().is_some_and(|(key, _)| *key == entry.key) {
                outbox.pop_front();
                if let Some((key, text)) = outbox.front() {
                    followed.sent += 1;
                    if member.say(&keyed(key, text)).await.is_err() {
                        break Some(Ended::Dropped);
                    }
                }
            }
        };
        // Back from a planned absence: connect again at once.
        let Some(ending) = ending else {
            attempt = 0;
            continue;
        };
        if let Ended::Closed(code, reason) = &ending
            && !worth_coming_back(*code)
        {
            return Err(FollowError::Refused(*code, reason.clone()));
        }
        // A deploy (1012) is planned: the other servers are up, so come back at once.
        if matches!(ending, Ended::Closed(1012, _)) {
            attempt = 0;
        }
        followed.endings.push(ending);
    }
}
// ANCHOR_END: follow

/// A `connect` for [`follow`]: a new TCP connection to `addr`, with Nagle off.
pub fn tcp(
    addr: std::net::SocketAddr,
) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = std::io::Result<tokio::net::TcpStream>> + Send>> {
    move || {
        Box::pin(async move {
            let stream = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
                .await
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
            stream.set_nodelay(true)?;
            Ok(stream)
        })
    }
}
