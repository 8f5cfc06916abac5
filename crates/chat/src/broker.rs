//! How a message reaches the members of a room on the other servers: not at all, through Redis
//! pub/sub, or through a Redis stream.
//!
//! - [`Mode::Memory`]: each server broadcasts to its own members only. Two servers behind one
//!   proxy are two separate chat rooms that happen to share a name.
//! - [`Mode::PubSub`]: a server `PUBLISH`es each message to the room's channel, `room:NAME`, and
//!   broadcasts only what comes back from its own `SUBSCRIBE` to that channel, so every server,
//!   the sender's too, sees the same messages in the same order. Redis keeps nothing: a server
//!   that is not connected at the moment of the `PUBLISH` never gets the message
//!   (*at-most-once*).
//! - [`Mode::Streams`]: a server appends each message to the room's stream, `room:NAME`, where it
//!   gets an id and stays; each server follows the stream with `XREAD BLOCK … STREAMS room:NAME
//!   LAST-ID`, which after any break goes on from the last id it saw. A client does the same:
//!   it reconnects with the last id it has and gets what it missed.
//!
//! Every server talks to Redis over a connection for commands (`PUBLISH`, the append, reading a
//! range) and one for listening (pub/sub: the subscription; Streams: one reader per room), because
//! a connection that is subscribed, or blocked in `XREAD`, can do nothing else.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use redis::aio::ConnectionManager;
use redis::streams::{StreamRangeReply, StreamReadReply};
use redis::{AsyncCommands, IntoConnectionInfo, RedisResult};
use serve::backoff::Backoff;
use tokio::sync::{mpsc, oneshot, watch};

use crate::protocol::{StreamId, entry_text, redis_key, room_of, split_key};
use crate::room::{Delivery, Rooms};

/// How the servers share their rooms. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Each server on its own: a room is per process.
    Memory,
    /// Redis pub/sub between the servers: at-most-once.
    #[value(name = "pubsub")]
    PubSub,
    /// A Redis stream per room: clients resume after a break, nothing is lost.
    Streams,
}

impl Mode {
    /// Whether this mode needs Redis.
    pub fn needs_redis(self) -> bool {
        self != Mode::Memory
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Memory => "memory",
            Mode::PubSub => "pubsub",
            Mode::Streams => "streams",
        })
    }
}

// ANCHOR: append_script
/// The append, as one Lua script that Redis runs atomically: note the message's key (for a day),
/// and append the message to the stream only if the key was new. A client that resends a message
/// after a broken connection (it cannot know whether the first one arrived) resends the same key,
/// so the message is stored once. `SET … NX` answers nil for a key that exists; the script then
/// returns nil, and the server knows the message is already in the stream.
pub const APPEND_SCRIPT: &str = "if redis.call('SET', KEYS[2], 1, 'NX', 'EX', 86400) then \
                                 return redis.call('XADD', KEYS[1], '*', 'text', ARGV[1]) end";
// ANCHOR_END: append_script

/// How many entries one `XRANGE` or `XREAD` asks for at a time.
pub const PAGE: usize = 100;

/// How long joining a room may wait for Redis (the subscription, the stream's reader) before the
/// client is told to try again later.
pub const JOIN_PATIENCE: Duration = Duration::from_secs(5);

/// What went wrong talking to Redis.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Redis answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not get ready in time.
    #[error("the broker is not available ({0})")]
    Unavailable(&'static str),
    /// The client's message does not start with a key.
    #[error("a message must start with its key: \"KEY TEXT\"")]
    NoKey,
}

/// A `redis::Client` that does not announce itself. The `redis` crate sends `CLIENT SETINFO`
/// twice on every new connection; Redis 7.0 does not know that command (7.2 does) and answers
/// each with an error, which the crate ignores: two useless round trips in every transcript.
pub fn client(url: &str) -> RedisResult<redis::Client> {
    let info = url.into_connection_info()?;
    let settings = info.redis_settings().clone().set_skip_set_lib_name();
    redis::Client::open(info.set_redis_settings(settings))
}

/// The broker side of one server.
pub(crate) enum Broker {
    Memory,
    PubSub(PubSubBroker),
    Streams(Box<StreamsBroker>),
}

/// What publishing a message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    /// Broadcast in this process to this many members.
    Local(usize),
    /// `PUBLISH` answered: this many subscribed connections got it.
    Receivers(i64),
    /// Appended to the stream with this id.
    Appended(StreamId),
    /// Already in the stream (a resend): nothing appended.
    AlreadyThere,
}

impl Broker {
    /// Connects to Redis for `mode`: the commands connection first, then (pub/sub) the
    /// subscriber's, in that order, so a Tap in front of Redis numbers them the same every run.
    pub(crate) async fn connect(
        mode: Mode,
        url: Option<&str>,
        rooms: Arc<Rooms>,
        backoff: Backoff,
        seed: u64,
    ) -> Result<Broker, BrokerError> {
        let url = match (mode, url) {
            (Mode::Memory, _) => return Ok(Broker::Memory),
            (_, Some(url)) => url,
            (_, None) => return Err(BrokerError::Unavailable("no Redis URL given")),
        };
        let client = client(url)?;
        let commands = ConnectionManager::new(client.clone()).await?;
        match mode {
            Mode::Memory => Ok(Broker::Memory),
            Mode::PubSub => {
                let pubsub = client.get_async_pubsub().await?;
                let (control, requests) = mpsc::unbounded_channel();
                let rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                let task = tokio::spawn(subscriber(client, pubsub, rooms, requests, backoff, rng));
                Ok(Broker::PubSub(PubSubBroker { commands, control, _task: Tasks(Mutex::new(vec![task])) }))
            }
            Mode::Streams => {
                let readers = Mutex::new(HashMap::new());
                let tasks = Tasks(Mutex::new(Vec::new()));
                Ok(Broker::Streams(Box::new(StreamsBroker {
                    client,
                    commands,
                    readers,
                    rooms,
                    backoff,
                    seed,
                    tasks,
                })))
            }
        }
    }

    /// Makes sure this server hears `room`'s messages, and returns the position a new member of
    /// the room starts at: with Streams, `after` if the client came back with one, else the
    /// stream's latest id; otherwise `None`. The member must already be in the room
    /// ([`Rooms::join`]), so that nothing that arrives meanwhile slips past it.
    pub(crate) async fn join(
        &self,
        room: &str,
        after: Option<StreamId>,
    ) -> Result<Option<StreamId>, BrokerError> {
        match self {
            Broker::Memory => Ok(None),
            Broker::PubSub(broker) => broker.subscribe(room).await.map(|()| None),
            Broker::Streams(broker) => broker.join(room, after).await.map(Some),
        }
    }

    /// The entries of `room` after `after`, at most [`PAGE`] (Streams only; otherwise none).
    pub(crate) async fn range(&self, room: &str, after: StreamId) -> Result<Vec<Delivery>, BrokerError> {
        match self {
            Broker::Streams(broker) => broker.range(room, after).await,
            _ => Ok(Vec::new()),
        }
    }

    /// Sends a member's message to the room everywhere.
    pub(crate) async fn publish(
        &self,
        rooms: &Rooms,
        room: &str,
        body: &str,
    ) -> Result<Published, BrokerError> {
        match self {
            Broker::Memory => Ok(Published::Local(rooms.broadcast(room, &Delivery::plain(body)).queued)),
            Broker::PubSub(broker) => {
                let mut commands = broker.commands.clone();
                // ANCHOR: publish
                let receivers: i64 = commands.publish(redis_key(room), body).await?;
                // ANCHOR_END: publish
                Ok(Published::Receivers(receivers))
            }
            Broker::Streams(broker) => broker.append(room, body).await,
        }
    }
}

/// Background tasks that end with their owner: a server that goes (or crashes) takes its
/// subscriber or its readers, and their connections to Redis, with it.
struct Tasks(Mutex<Vec<tokio::task::JoinHandle<()>>>);

impl Tasks {
    fn push(&self, task: tokio::task::JoinHandle<()>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(task);
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in self.0.get_mut().unwrap_or_else(PoisonError::into_inner).iter() {
            task.abort();
        }
    }
}

/// Pub/sub: the commands connection, and the subscriber task's mailbox.
pub(crate) struct PubSubBroker {
    commands: ConnectionManager,
    control: mpsc::UnboundedSender<(String, oneshot::Sender<RedisResult<()>>)>,
    _task: Tasks,
}

impl PubSubBroker {
    async fn subscribe(&self, room: &str) -> Result<(), BrokerError> {
        let (done, confirmed) = oneshot::channel();
        self.control.send((redis_key(room), done)).map_err(|_| BrokerError::Unavailable("no subscriber"))?;
        match tokio::time::timeout(JOIN_PATIENCE, confirmed).await {
            Ok(Ok(result)) => Ok(result?),
            _ => Err(BrokerError::Unavailable("no subscription")),
        }
    }
}

// ANCHOR: subscriber
/// The subscriber: subscribes to each room's channel when asked (once per channel), broadcasts
/// every message that arrives, and when the connection breaks connects again and subscribes to
/// every channel again. Whatever was published in between is gone: nobody kept it.
async fn subscriber(
    client: redis::Client,
    first: redis::aio::PubSub,
    rooms: Arc<Rooms>,
    mut requests: mpsc::UnboundedReceiver<(String, oneshot::Sender<RedisResult<()>>)>,
    backoff: Backoff,
    mut rng: Xoshiro256PlusPlus,
) {
    let mut channels = BTreeSet::new();
    let mut connection = Some(first);
    let mut attempt = 0;
    loop {
        let pubsub = match connection.take() {
            Some(pubsub) => pubsub,
            None => {
                if attempt > 0 {
                    tokio::time::sleep(backoff.delay(attempt - 1, &mut rng)).await;
                }
                attempt += 1;
                let Ok(mut pubsub) = client.get_async_pubsub().await else { continue };
                if !channels.is_empty()
                    && pubsub.subscribe(channels.iter().collect::<Vec<_>>()).await.is_err()
                {
                    continue;
                }
                tracing::info!("subscribed again to {channels:?}: what was published meanwhile is lost");
                pubsub
            }
        };
        attempt = 1;
        let (mut sink, mut messages) = pubsub.split();
        loop {
            tokio::select! {
                request = requests.recv() => {
                    let Some((channel, done)) = request else { return };
                    let result = if channels.contains(&channel) { Ok(()) } else { sink.subscribe(&channel).await };
                    let failed = result.is_err();
                    if !failed {
                        channels.insert(channel);
                    }
                    let _ = done.send(result);
                    if failed {
                        break;
                    }
                }
                message = messages.next() => {
                    let Some(message) = message else { break };
                    let (Some(room), Ok(text)) = (room_of(message.get_channel_name()), message.get_payload::<String>())
                    else { continue };
                    rooms.broadcast(room, &Delivery::plain(text));
                }
            }
        }
        tracing::warn!("the subscriber's connection to Redis ended; connecting again");
    }
}
// ANCHOR_END: subscriber

/// Streams: the commands connection, and one reader per room, started with the room's first
/// member.
pub(crate) struct StreamsBroker {
    client: redis::Client,
    commands: ConnectionManager,
    /// Per room: whether its reader has its starting point yet.
    readers: Mutex<HashMap<String, watch::Receiver<bool>>>,
    rooms: Arc<Rooms>,
    backoff: Backoff,
    seed: u64,
    tasks: Tasks,
}

impl StreamsBroker {
    async fn join(&self, room: &str, after: Option<StreamId>) -> Result<StreamId, BrokerError> {
        let mut ready = {
            let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
            readers
                .entry(room.to_owned())
                .or_insert_with(|| {
                    let (ready, waiting) = watch::channel(false);
                    let rng = Xoshiro256PlusPlus::seed_from_u64(self.seed ^ readers_seed(room));
                    let reader = reader(
                        self.client.clone(),
                        room.to_owned(),
                        self.rooms.clone(),
                        ready,
                        self.backoff,
                        rng,
                    );
                    self.tasks.push(tokio::spawn(reader));
                    waiting
                })
                .clone()
        };
        // The reader must have its starting point before the member's own reads, so that every
        // entry is either before the member's position or delivered by the reader.
        match tokio::time::timeout(JOIN_PATIENCE, ready.wait_for(|ready| *ready)).await {
            Ok(Ok(_)) => {}
            _ => return Err(BrokerError::Unavailable("the room's reader is not connected")),
        }
        match after {
            Some(after) => Ok(after),
            None => latest(&mut self.commands.clone(), &redis_key(room)).await,
        }
    }

    // ANCHOR: range
    /// Up to [`PAGE`] entries after `after`: `XRANGE room:NAME (AFTER + COUNT 100` (the `(`
    /// makes the start exclusive).
    async fn range(&self, room: &str, after: StreamId) -> Result<Vec<Delivery>, BrokerError> {
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(redis_key(room))
            .arg(format!("({after}"))
            .arg("+")
            .arg("COUNT")
            .arg(PAGE)
            .query_async(&mut self.commands.clone())
            .await?;
        Ok(reply.ids.iter().filter_map(delivery).collect())
    }
    // ANCHOR_END: range

    // ANCHOR: append
    async fn append(&self, room: &str, body: &str) -> Result<Published, BrokerError> {
        let (key, _text) = split_key(body).ok_or(BrokerError::NoKey)?;
        let id: Option<String> = redis::cmd("EVAL")
            .arg(APPEND_SCRIPT)
            .arg(2)
            .arg(redis_key(room))
            .arg(format!("sent:{room}:{key}"))
            .arg(body)
            .query_async(&mut self.commands.clone())
            .await?;
        Ok(match id.and_then(|id| id.parse().ok()) {
            Some(id) => Published::Appended(id),
            None => Published::AlreadyThere,
        })
    }
    // ANCHOR_END: append
}

/// A seed per room, so each reader's backoff has its own sequence.
fn readers_seed(room: &str) -> u64 {
    room.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The latest id in the stream `key` (`0-0` if it is empty or missing):
/// `XREVRANGE key + - COUNT 1`.
async fn latest(
    connection: &mut impl redis::aio::ConnectionLike,
    key: &str,
) -> Result<StreamId, BrokerError> {
    let reply: StreamRangeReply = redis::cmd("XREVRANGE")
        .arg(key)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(connection)
        .await?;
    Ok(reply.ids.first().and_then(|entry| entry.id.parse().ok()).unwrap_or(StreamId::ZERO))
}

/// A stream entry as a delivery to the room's members: `"ID BODY"`.
fn delivery(entry: &redis::streams::StreamId) -> Option<Delivery> {
    let id: StreamId = entry.id.parse().ok()?;
    let body: String = entry.get("text")?;
    Some(Delivery { id: Some(id), text: entry_text(id, &body).into() })
}

// ANCHOR: reader
/// A room's reader on one server: from the stream's latest id, `XREAD BLOCK 0 … STREAMS room:NAME
/// LAST` again and again, broadcasting each entry to the room's members here. When the
/// connection breaks it connects again and goes on from the last id it saw, so it misses nothing
/// that Redis still has.
async fn reader(
    client: redis::Client,
    room: String,
    rooms: Arc<Rooms>,
    ready: watch::Sender<bool>,
    backoff: Backoff,
    mut rng: Xoshiro256PlusPlus,
) {
    let key = redis_key(&room);
    // `XREAD BLOCK 0` waits as long as it takes: no response timeout on this connection.
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    let mut last = None;
    let mut attempt = 0;
    loop {
        if attempt > 0 {
            tokio::time::sleep(backoff.delay(attempt - 1, &mut rng)).await;
        }
        attempt += 1;
        let Ok(mut connection) = client.get_multiplexed_async_connection_with_config(&config).await else {
            continue;
        };
        let mut position = match last {
            Some(id) => id,
            None => match latest(&mut connection, &key).await {
                Ok(id) => id,
                Err(_) => continue,
            },
        };
        last = Some(position);
        ready.send_replace(true);
        attempt = 1;
        loop {
            let read: RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
                .arg("BLOCK")
                .arg(0)
                .arg("COUNT")
                .arg(PAGE)
                .arg("STREAMS")
                .arg(&key)
                .arg(position.to_string())
                .query_async(&mut connection)
                .await;
            let Ok(reply) = read else { break };
            for entry in reply.iter().flat_map(|r| &r.keys).flat_map(|k| &k.ids) {
                if let Some(delivery) = delivery(entry) {
                    position = delivery.id.unwrap_or(position);
                    rooms.broadcast(&room, &delivery);
                }
            }
            last = Some(position);
        }
        tracing::warn!("the reader of {key} lost its connection to Redis; going on from {position}");
    }
}
// ANCHOR_END: reader
