//! The chat server: rooms by name at `/ws/chat/NAME`, every message broadcast to every member,
//! through a broker ([`Mode`]) to the members on other servers.
//!
//! Each connection is one task that does three things, whichever comes first:
//! - a message in the member's queue: write it, and everything else already queued, then flush
//!   once (a client that has fallen behind gets its backlog in a few big writes, not many
//!   small ones);
//! - a text frame from the client: publish it to the room, through the broker;
//! - a signal: the member was cut for being slow (close 1013, "try again later"), or the server
//!   is leaving (close 1012, "service restart").
//!
//! A server can go in two ways, for the tests and demos:
//! - [`Server::leave`]: a deploy. It stops accepting at once (so a proxy in front sends newcomers
//!   elsewhere), closes every connection with 1012, and waits for each close handshake.
//! - [`Server::crash`]: a process that dies. Every connection, to clients and to Redis, is
//!   dropped without a word: clients see the TCP connection end with no close frame (1006).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use guard::WhenFull;
use serve::backoff::Backoff;
use serve::{Limits, TungsteniteConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::Role;
use wire::CloseCode;
use wire::handshake::Rejection;
use wire::http::StartLine;

use crate::broker::{Broker, BrokerError, Mode, Published};
use crate::protocol::{Join, StreamId, welcome};
use crate::room::{Delivery, QUEUE, Rooms};

/// The port `chat-server` listens on by default.
pub const DEFAULT_PORT: u16 = 9006;

/// The close code for a server that is going away to come back soon (a deploy, a restart): 1012,
/// "service restart", registered with IANA after RFC 6455. A client should reconnect, and a proxy
/// in front sends it to a server that is still there.
pub const SERVICE_RESTART: CloseCode = CloseCode(1012);

/// The reason sent with [`SERVICE_RESTART`].
pub const DEPLOY_REASON: &str = "restarting for a deploy";

/// The close code for a member the broker cannot serve right now (Redis is down or restarting):
/// 1013, "try again later", the same as for a member too slow to keep up.
pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);

/// The most queued messages written before one flush: a backlog goes out in batches, and the
/// connection's other work (the client's messages, the signals) is looked at in between.
pub const BATCH: usize = 64;

/// How a server is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Its name, said in every welcome (`joined lobby on server A`).
    pub name: String,
    /// How it shares its rooms with other servers.
    pub mode: Mode,
    /// Redis's URL (pub/sub and Streams).
    pub redis: Option<String>,
    /// Each member's queue, in messages.
    pub queue: usize,
    /// The shared limits (message size, timeouts, connections).
    pub limits: Limits,
    /// How the broker's connections wait before reconnecting.
    pub backoff: Backoff,
    /// Seeds the backoff's jitter.
    pub seed: u64,
}

impl Config {
    /// A server called `name` in `mode`, with the default queue and limits.
    pub fn new(name: &str, mode: Mode, redis: Option<String>) -> Config {
        Config {
            name: name.to_owned(),
            mode,
            redis,
            queue: QUEUE,
            limits: Limits::default(),
            backoff: Backoff { base: Duration::from_millis(20), cap: Duration::from_secs(2) },
            seed: 1,
        }
    }
}

/// What every connection of a server shares.
struct Shared {
    name: String,
    rooms: Arc<Rooms>,
    broker: Broker,
    limits: Limits,
    streams: bool,
    leaving: watch::Receiver<bool>,
}

/// A running server. See the module docs.
pub struct Server {
    name: String,
    addr: SocketAddr,
    rooms: Arc<Rooms>,
    leave: watch::Sender<bool>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("name", &self.name).field("addr", &self.addr).finish()
    }
}

impl Server {
    /// Connects to the broker, then serves on `listener` until [`leave`](Server::leave) or
    /// [`crash`](Server::crash).
    pub async fn start(listener: TcpListener, config: Config) -> Result<Server, BrokerError> {
        let addr = listener.local_addr().map_err(|e| BrokerError::Redis(e.into()))?;
        let rooms = Rooms::new(config.queue);
        let broker =
            Broker::connect(config.mode, config.redis.as_deref(), rooms.clone(), config.backoff, config.seed)
                .await?;
        let (leave, leaving) = watch::channel(false);
        let shared = Arc::new(Shared {
            name: config.name.clone(),
            rooms: rooms.clone(),
            broker,
            limits: config.limits.clone(),
            streams: config.mode == Mode::Streams,
            leaving: leaving.clone(),
        });
        let slots = guard::Slots::new(config.limits.max_connections);
        let mut stop = leaving;
        let stop = async move {
            let _ = stop.wait_for(|leaving| *leaving).await;
        };
        let task = tokio::spawn(guard::accept::serve_until(listener, slots, WhenFull::Http503, stop, {
            move |stream, _peer| {
                let shared = shared.clone();
                async move { session(stream, shared).await }
            }
        }));
        Ok(Server { name: config.name, addr, rooms, leave, task: Some(task) })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its rooms (to count members, or wait for a slow one to be cut).
    pub fn rooms(&self) -> &Arc<Rooms> {
        &self.rooms
    }

    /// A deploy: stop accepting, close every connection with 1012, wait for the close
    /// handshakes, then let go of Redis.
    pub async fn leave(mut self) {
        self.leave.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// A crash: every connection, to clients and to Redis, dropped at once without a close frame.
    /// Returns when the listening port is free again.
    pub async fn crash(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    /// A server that is dropped stops, as [`Server::crash`] would (without waiting).
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Reads the upgrade request, checks it (path, room, `after`, then the shared checks), and
/// answers `101` or an HTTP error.
async fn accept(mut stream: TcpStream, limits: &Limits) -> Option<(WebSocketStream<TcpStream>, Join)> {
    let (head, leftover) = guard::head::read_request(&mut stream, limits).await.ok()?;
    let StartLine::Request { target, .. } = &head.start else { return None };
    let join = match Join::parse(target) {
        Ok(join) => join,
        Err((status, message)) => {
            let _: Result<(), _> = guard::refuse::send_rejection(
                &mut stream,
                Rejection { status, message, headers: Vec::new() },
            )
            .await;
            return None;
        }
    };
    let path = target.split('?').next().unwrap_or_default();
    let accepted = match guard::upgrade::judge_origin(&head, path, &limits.origins) {
        Ok(accepted) => accepted,
        Err(rejection) => {
            let _: Result<(), _> = guard::refuse::send_rejection(&mut stream, rejection).await;
            return None;
        }
    };
    tokio::io::AsyncWriteExt::write_all(&mut stream, accepted.response().as_bytes()).await.ok()?;
    let config = limits.websocket_config();
    let ws = WebSocketStream::from_partially_read(stream, leftover, Role::Server, Some(config)).await;
    Some((ws, join))
}

/// Whether `delivery` is new to a member that has everything up to `sent`.
fn fresh(delivery: &Delivery, sent: Option<StreamId>) -> bool {
    match (delivery.id, sent) {
        (Some(id), Some(sent)) => id > sent,
        _ => true,
    }
}

// ANCHOR: session
/// One member, from the handshake to the end. See the module docs.
async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let Some((mut ws, join)) = accept(stream, &shared.limits).await else { return };
    let limits = &shared.limits;
    // Join the room first, so that nothing broadcast from now on can pass this member by; then
    // ask the broker where the member starts.
    let mut member = shared.rooms.join(&join.room);
    let mut sent = match shared.broker.join(&join.room, join.after).await {
        Ok(at) => at,
        Err(e) => {
            serve::close::close(ws, TRY_AGAIN_LATER, short(&e.to_string()), limits).await;
            return;
        }
    };
    if ws.send(Message::text(welcome(&join.room, &shared.name, sent))).await.is_err() {
        return;
    }
    // With Streams, a member that came back first gets what it missed, page by page.
    if let Some(mut after) = join.after {
        loop {
            let page = match shared.broker.range(&join.room, after).await {
                Ok(page) => page,
                Err(e) => {
                    serve::close::close(ws, TRY_AGAIN_LATER, short(&e.to_string()), limits).await;
                    return;
                }
            };
            for delivery in &page {
                if ws.feed(Message::Text(delivery.text.clone())).await.is_err() {
                    return;
                }
                after = delivery.id.unwrap_or(after);
            }
            if ws.flush().await.is_err() {
                return;
            }
            sent = Some(after);
            if page.len() < crate::broker::PAGE {
                break;
            }
        }
    }
    let mut leaving = shared.leaving.clone();
    let mut cut_pending = true;
    loop {
        tokio::select! {
            biased;
            () = left(&mut leaving) => {
                serve::close::close(ws, SERVICE_RESTART, DEPLOY_REASON.into(), limits).await;
                return;
            }
            cut = &mut member.cut, if cut_pending => {
                cut_pending = false;
                if cut.is_ok() {
                    cut_off(ws, shared.rooms.queue(), limits).await;
                    return;
                }
            }
            delivery = member.queue.recv() => {
                let Some(delivery) = delivery else { return };
                let write = write_batch(&mut ws, delivery, &mut member.queue, &mut sent);
                let mut leaving_now = shared.leaving.clone();
                // A client that stopped reading leaves this write waiting: being cut, or the
                // server leaving, ends the wait.
                let interrupted = tokio::select! {
                    biased;
                    cut = &mut member.cut, if cut_pending => Some(cut.is_ok()),
                    () = left(&mut leaving_now) => Some(false),
                    written = write => if written.is_err() { return } else { None },
                };
                match interrupted {
                    Some(true) => {
                        cut_off(ws, shared.rooms.queue(), limits).await;
                        return;
                    }
                    // The member left normally, or the server is leaving: the loop sees to it.
                    Some(false) => cut_pending = false,
                    None => {}
                }
            }
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Err(code) = publish(&shared, &join.room, text.as_str()).await {
                        serve::close::close(ws, code.0, code.1, limits).await;
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) => {
                    // tungstenite has queued its answering close frame; reading on sends it, and
                    // ends when the client closes TCP.
                    while let Some(Ok(_)) = ws.next().await {}
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    serve::close::fail(ws, &e, limits).await;
                    return;
                }
                None => return,
            },
        }
    }
}
// ANCHOR_END: session

/// Gives up on a member whose queue filled up: close 1013, "try again later", with the reason, if
/// the frame still goes out within the close timeout (behind whatever the member has not read
/// yet); then the connection is dropped. A member that comes back resumes where it was (with
/// Streams), or starts again from the present.
async fn cut_off(mut ws: WebSocketStream<TcpStream>, queue: usize, limits: &Limits) {
    let frame = serve::close::frame(guard::limits::SLOW_READER_CODE, &crate::room::cut_reason(queue));
    let _ = tokio::time::timeout(limits.close_timeout, ws.close(Some(frame))).await;
}

/// Completes when the server is leaving.
async fn left(leaving: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it before anything else awaits.
    let _ = leaving.wait_for(|leaving| *leaving).await;
}

/// Writes `first` and whatever else is queued (at most [`BATCH`] messages), then flushes once.
/// Entries the member already has (`sent`) are skipped.
async fn write_batch(
    ws: &mut WebSocketStream<TcpStream>,
    first: Delivery,
    queue: &mut tokio::sync::mpsc::Receiver<Delivery>,
    sent: &mut Option<StreamId>,
) -> Result<(), tungstenite::Error> {
    let mut next = Some(first);
    let mut written = 0;
    while let Some(delivery) = next {
        if fresh(&delivery, *sent) {
            ws.feed(Message::Text(delivery.text)).await?;
            if delivery.id.is_some() {
                *sent = delivery.id;
            }
            written += 1;
        }
        next = if written < BATCH { queue.try_recv().ok() } else { None };
    }
    ws.flush().await
}

/// A close frame's reason is at most 123 bytes (RFC 6455 §5.5).
fn short(text: &str) -> String {
    let mut cut = text.len().min(123);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}

/// How many times an append to the stream is tried before the member is told to try again later:
/// a broker that has just restarted answers within a few tries.
pub const APPEND_TRIES: u32 = 4;

/// Publishes a member's message; on failure, the close code and reason the member gets, if any.
async fn publish(shared: &Shared, room: &str, body: &str) -> Result<(), (CloseCode, String)> {
    let mut wait = Duration::from_millis(50);
    for attempt in 1..=APPEND_TRIES {
        match shared.broker.publish(&shared.rooms, room, body).await {
            Ok(
                Published::Local(_)
                | Published::Receivers(_)
                | Published::Appended(_)
                | Published::AlreadyThere,
            ) => {
                return Ok(());
            }
            Err(BrokerError::NoKey) => return Err((CloseCode::POLICY, BrokerError::NoKey.to_string())),
            // Pub/sub is at-most-once: a message that could not be published is lost, as it
            // would be if it had been published while the other servers were away.
            Err(e) if !shared.streams => {
                tracing::warn!("a message to {room} is lost: {e}");
                return Ok(());
            }
            Err(e) if attempt == APPEND_TRIES => {
                return Err((TRY_AGAIN_LATER, short(&format!("{e}; send it again after reconnecting"))));
            }
            Err(_) => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
    Ok(())
}
