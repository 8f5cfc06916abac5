//! The chapter's demos: real nginx, real Redis, two servers, and a Tap on every connection.
//!
//! - `just chat`: two servers behind nginx with their rooms in memory (a message never crosses
//!   to the other server), then the same with Redis pub/sub between them (it does, and here are
//!   the bytes).
//! - `just chat-gap`: a server's connection to Redis breaks for a moment. With pub/sub the
//!   messages of that moment are gone; with a Redis stream the server goes on from its last id
//!   and nothing is lost.
//! - `just chat-deploy`: a server leaves with 1012; its client comes back through nginx to the
//!   other server with the id of the last message it has, and gets what it missed.
//! - `just chat-slow`: a client that stops reading is cut with 1013, and the room goes on, in one
//!   process and across two.
//!
//! Each story function records into a [`Story`] (printed live by the demos, snapshotted by the
//! tests), waiting at every step for what must have happened, so the recording is the same on
//! every run.

use std::net::SocketAddr;

use tap::demo::{Demo, DemoError, DemoFuture, Flags};
use tap::outln;
use tokio::net::{TcpListener, TcpStream};
use wire::Render;
use wire::decode::Mode as Decode;

use crate::broker::Mode;
use crate::client::{self, Ended, Event, Member};
use crate::nginx::Nginx;
use crate::protocol::{Join, StreamId};
use crate::redis_server::{Persistence, RedisServer};
use crate::server::{Config, Server};
use crate::story::{Story, StoryTap};

/// The room every demo uses.
pub const ROOM: &str = "lobby";

/// How the stories are written in the book and the snapshots: no hex (the bytes are text here),
/// long previews (a Redis command with its script is a few hundred bytes), ports, dates and
/// stream ids redacted.
pub fn snapshot_style() -> Render {
    Render { preview: 600, ..Render::snapshot().without_hex() }
}

/// The key to the chat demos' transcripts.
pub const LEGEND: &str = "\
How to read this: each line is one thing a Tap saw on the wire, labelled with its connection.
  alice, bob, carol   a client's connection to nginx (C = the client, S = nginx, and behind it
                      whichever chat server nginx chose)
  A:cmd, B:cmd        a chat server's connection to Redis for commands (C = the chat server,
                      S = Redis): PUBLISH, or the append to a stream and reading from it
  A:sub, B:sub        a chat server's subscriber connection: SUBSCRIBE, then Redis pushes
  A:read, B:read      a chat server's reader of a room's stream: XREAD BLOCK, again and again
  \"*3\\r\\n$7\\r\\nPUBLISH…\"   Redis's protocol (RESP) is text: *3 = an array of 3, $7 = a string of 7
                      bytes, :2 = the number 2; each part ends with \\r\\n
  ━━                  a step: the demo waited here until everything it expects had happened
";

/// Two chat servers behind nginx, Redis between them if the mode needs it, and a Tap on every
/// connection, recorded into a [`Story`].
pub struct Cluster {
    /// The story every Tap records into.
    pub story: Story,
    // Fields are dropped in this order: the servers go first, Redis last, so nobody is left
    // reconnecting to a broker that has gone.
    /// The servers, `A` and `B` (`None` once gone).
    pub servers: Vec<Option<Server>>,
    /// nginx in front of the servers.
    pub nginx: Nginx,
    client_taps: Vec<(String, StoryTap)>,
    /// Each server's Tap in front of Redis.
    pub redis_taps: Vec<StoryTap>,
    /// Redis, if the mode uses it.
    pub redis: Option<RedisServer>,
    listeners: Vec<SocketAddr>,
    mode: Mode,
}

/// The servers' names.
pub const NAMES: [&str; 2] = ["A", "B"];

impl Cluster {
    /// Starts Redis (for pub/sub and Streams), servers A and B each with a Tap in front of Redis,
    /// and nginx in front of both.
    pub async fn start(story: &Story, mode: Mode, persistence: Persistence) -> Result<Cluster, DemoError> {
        let redis = if mode.needs_redis() { Some(RedisServer::start(persistence).await?) } else { None };
        let mut servers = Vec::new();
        let mut listeners = Vec::new();
        let mut redis_taps = Vec::new();
        for name in NAMES {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            listeners.push(listener.local_addr()?);
            let url = match &redis {
                Some(redis) => {
                    let listen = if mode == Mode::Streams { "read" } else { "sub" };
                    let labels = [format!("{name}:cmd"), format!("{name}:{listen}")];
                    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
                    let tap = story.tap(redis.addr(), Decode::Raw, &labels).await?;
                    let url = format!("redis://{}/", tap.addr());
                    redis_taps.push(tap);
                    Some(url)
                }
                None => None,
            };
            servers.push(Some(Server::start(listener, Config::new(name, mode, url)).await?));
        }
        let nginx = Nginx::start(&listeners).await?;
        Ok(Cluster {
            story: story.clone(),
            redis,
            servers,
            listeners,
            redis_taps,
            client_taps: Vec::new(),
            nginx,
            mode,
        })
    }

    /// A client called `name` joins the room through nginx, with a Tap of its own labelled `name`.
    pub async fn join(
        &mut self,
        name: &str,
        after: Option<StreamId>,
    ) -> Result<Member<TcpStream>, DemoError> {
        let tap = match self.client_taps.iter().position(|(n, _)| n == name) {
            Some(i) => &self.client_taps[i].1,
            None => {
                let tap = self.story.tap(self.nginx.addr(), Decode::Auto, &[name]).await?;
                self.client_taps.push((name.to_owned(), tap));
                &self.client_taps.last().ok_or("no tap")?.1
            }
        };
        let stream = TcpStream::connect(tap.addr()).await?;
        stream.set_nodelay(true)?;
        let join = Join { room: ROOM.to_owned(), after };
        Ok(client::join(stream, &tap.addr().to_string(), &join, self.mode == Mode::Streams).await?)
    }

    /// Server `name`'s Tap in front of Redis.
    pub fn redis_tap(&self, name: &str) -> Result<&StoryTap, DemoError> {
        let i = NAMES.iter().position(|n| *n == name).ok_or("no such server")?;
        Ok(self.redis_taps.get(i).ok_or("no Redis tap")?)
    }

    /// Takes server `name` out, to make it leave or crash.
    pub fn take_server(&mut self, name: &str) -> Result<Server, DemoError> {
        let i = NAMES.iter().position(|n| *n == name).ok_or("no such server")?;
        Ok(self.servers[i].take().ok_or("the server is already gone")?)
    }

    /// The address server `name` listens on (the same after a restart).
    pub fn listen_addr(&self, name: &str) -> Result<SocketAddr, DemoError> {
        let i = NAMES.iter().position(|n| *n == name).ok_or("no such server")?;
        Ok(self.listeners[i])
    }
}

/// Expects `member` to hear `text` next.
async fn hears(member: &mut Member<TcpStream>, text: &str) -> Result<(), DemoError> {
    let heard =
        tokio::time::timeout(crate::story::PATIENCE, member.hear()).await.map_err(|_| "nothing heard")??;
    if heard == text { Ok(()) } else { Err(format!("expected {text:?}, heard {heard:?}").into()) }
}

// ANCHOR: in_memory
/// Two servers, rooms in memory: alice and carol (on A) hear each other, bob (on B) hears only
/// himself.
pub async fn in_memory(story: &Story) -> Result<(), DemoError> {
    story.order(&["alice", "bob", "carol"]);
    story.step(
        "Servers A and B keep their rooms in memory; nginx sends each new connection to the next server",
    );
    let mut cluster = Cluster::start(story, Mode::Memory, Persistence::None).await?;
    story.step("alice joins the lobby: nginx sends her to A");
    let mut alice = cluster.join("alice", None).await?;
    story.step("bob joins the lobby: nginx sends him to B");
    let mut bob = cluster.join("bob", None).await?;
    story.step("carol joins the lobby: nginx sends her to A");
    let mut carol = cluster.join("carol", None).await?;
    story.step("alice says \"hello, everyone\": A sends it to its members, alice and carol");
    alice.say("hello, everyone").await?;
    hears(&mut alice, "hello, everyone").await?;
    hears(&mut carol, "hello, everyone").await?;
    story.step("bob says \"anyone here?\": B sends it to its only member, bob");
    bob.say("anyone here?").await?;
    hears(&mut bob, "anyone here?").await?;
    story.step("everyone leaves: bob never heard alice, and alice and carol never heard bob");
    for member in [alice, bob, carol] {
        member.leave().await;
    }
    settle(&cluster, &["alice", "bob", "carol"]).await?;
    story.finish();
    Ok(())
}
// ANCHOR_END: in_memory

/// Waits until every client connection of the story is over.
async fn settle(cluster: &Cluster, labels: &[&str]) -> Result<(), DemoError> {
    for label in labels {
        cluster.story.wait_for(label, "the connection is over", 1).await?;
    }
    Ok(())
}

// ANCHOR: pubsub
/// Two servers with Redis pub/sub between them: every message goes through Redis, to both.
pub async fn pubsub(story: &Story) -> Result<(), DemoError> {
    story.order(&["alice", "bob", "carol", "A:cmd", "A:sub", "B:cmd", "B:sub"]);
    story.step("Servers A and B start: each opens a connection to Redis for commands, and one to listen");
    let mut cluster = Cluster::start(story, Mode::PubSub, Persistence::None).await?;
    for label in ["A:cmd", "A:sub", "B:cmd", "B:sub"] {
        story.wait_for(label, "TCP connection opened", 1).await?;
    }
    story.step("alice joins the lobby through nginx, on A: A subscribes to the room's channel first");
    let mut alice = cluster.join("alice", None).await?;
    story.step("bob joins through nginx, on B: B subscribes too");
    let mut bob = cluster.join("bob", None).await?;
    story.step("carol joins through nginx, on A: A is subscribed already");
    let mut carol = cluster.join("carol", None).await?;
    story.order(&["alice", "A:cmd", "A:sub", "B:sub", "carol", "bob", "B:cmd"]);
    story.step(
        "alice says \"hello, everyone\": A publishes it; Redis pushes it to both servers; each sends it on",
    );
    alice.say("hello, everyone").await?;
    for member in [&mut alice, &mut carol, &mut bob] {
        hears(member, "hello, everyone").await?;
    }
    story.wait_for("A:cmd", ":2\\r\\n", 1).await?;
    story.order(&["bob", "B:cmd", "A:sub", "B:sub", "alice", "carol", "A:cmd"]);
    story.step("bob answers \"hi from B\": the same way back");
    bob.say("hi from B").await?;
    for member in [&mut bob, &mut alice, &mut carol] {
        hears(member, "hi from B").await?;
    }
    story.wait_for("B:cmd", ":2\\r\\n", 1).await?;
    story.order(&["alice", "bob", "carol"]);
    story.step("everyone leaves");
    for member in [alice, bob, carol] {
        member.leave().await;
    }
    settle(&cluster, &["alice", "bob", "carol"]).await?;
    story.finish();
    Ok(())
}
// ANCHOR_END: pubsub

/// A break in B's connection to Redis, with pub/sub (`streams` false: the message sent during
/// the break never reaches bob) or with a stream (`streams` true: it does, late).
pub async fn gap(story: &Story, streams: bool) -> Result<(), DemoError> {
    let (mode, listen) = if streams { (Mode::Streams, "read") } else { (Mode::PubSub, "sub") };
    let a_listen = format!("A:{listen}");
    let b_listen = format!("B:{listen}");
    let key = |n: u32, text: &str| if streams { format!("alice-{n} {text}") } else { text.to_owned() };
    story.order(&["alice", "A:cmd", &a_listen, &b_listen, "bob", "B:cmd"]);
    story.step("Servers A and B start");
    let mut cluster = Cluster::start(story, mode, Persistence::None).await?;
    for label in ["A:cmd", "B:cmd"] {
        story.wait_for(label, "TCP connection opened", 1).await?;
    }
    story.step("alice joins through nginx, on A");
    let mut alice = cluster.join("alice", None).await?;
    story.wait_for(&a_listen, if streams { "XREAD" } else { "$9\\r\\nsubscribe" }, 1).await?;
    story.step("bob joins through nginx, on B");
    let mut bob = cluster.join("bob", None).await?;
    story.wait_for(&b_listen, if streams { "XREAD" } else { "$9\\r\\nsubscribe" }, 1).await?;
    let said = |story: &Story, n: u32, text: &str| {
        story.step(&format!("alice says {:?}", key(n, text)));
    };
    said(story, 1, "one");
    alice.say(&key(1, "one")).await?;
    hears(&mut alice, &key(1, "one")).await?;
    hears(&mut bob, &key(1, "one")).await?;
    settle_listeners(story, streams, &[&a_listen, &b_listen]).await?;
    let control = cluster.redis_tap("B")?.control(2).await.ok_or("B's second connection to Redis")?;
    story.step(&format!(
        "The network between B and Redis fails: the Tap on {b_listen} passes nothing on, and closes nothing"
    ));
    story.note(&format!("alice says {:?}", key(2, "two")));
    control.set_blackhole(true);
    alice.say(&key(2, "two")).await?;
    hears(&mut alice, &key(2, "two")).await?;
    story.wait_for(&b_listen, "blackhole", 1).await?;
    if streams {
        story.wait_for(&a_listen, "XREAD", 1).await?;
    } else {
        story.wait_for("A:cmd", ":2\\r\\n", 1).await?;
    }
    story.step(&format!(
        "The Tap cuts {b_listen}: B notices, connects again, and {}",
        if streams { "reads on from the last id it saw" } else { "subscribes again" }
    ));
    control.cut();
    if streams {
        hears(&mut bob, &key(2, "two")).await?;
        story.wait_for(&b_listen, "XREAD", 2).await?;
    } else {
        story.wait_for(&b_listen, "$9\\r\\nsubscribe", 1).await?;
    }
    said(story, 3, "three");
    alice.say(&key(3, "three")).await?;
    hears(&mut alice, &key(3, "three")).await?;
    hears(&mut bob, &key(3, "three")).await?;
    settle_listeners(story, streams, &[&a_listen, &b_listen]).await?;
    story.order(&["alice", "bob"]);
    story.step(if streams {
        "alice and bob leave: bob heard all three messages, \"two\" late"
    } else {
        "alice and bob leave: bob heard \"one\" and \"three\"; \"two\" is gone for him"
    });
    alice.leave().await;
    bob.leave().await;
    settle(&cluster, &["alice", "bob"]).await?;
    story.finish();
    Ok(())
}

/// With Streams, waits until each reader has asked for more (its next `XREAD`), so that the
/// step holds the whole exchange.
async fn settle_listeners(story: &Story, streams: bool, labels: &[&str]) -> Result<(), DemoError> {
    if streams {
        for label in labels {
            story.wait_for(label, "XREAD", 1).await?;
        }
    }
    Ok(())
}

// ANCHOR: deploy
/// A deploy: A leaves with 1012; alice comes back through nginx, lands on B, and resumes.
pub async fn deploy(story: &Story) -> Result<(), DemoError> {
    story.order(&["alice", "bob", "A:cmd", "A:read", "B:cmd", "B:read"]);
    story.step("Servers A and B start, with a Redis stream per room");
    let mut cluster = Cluster::start(story, Mode::Streams, Persistence::None).await?;
    for label in ["A:cmd", "B:cmd"] {
        story.wait_for(label, "TCP connection opened", 1).await?;
    }
    story.step("alice joins through nginx, on A");
    let mut alice = cluster.join("alice", None).await?;
    story.wait_for("A:read", "XREAD", 1).await?;
    story.step("bob joins through nginx, on B");
    let mut bob = cluster.join("bob", None).await?;
    story.wait_for("B:read", "XREAD", 1).await?;
    story.step("bob says \"bob-1 one\"");
    bob.say("bob-1 one").await?;
    hears(&mut bob, "bob-1 one").await?;
    let last = match alice.next().await {
        Event::Message(crate::protocol::Incoming::Entry { id, .. }) => id,
        other => return Err(format!("alice expected bob-1, got {other:?}").into()),
    };
    settle_listeners(story, true, &["A:read", "B:read"]).await?;
    story.step(
        "A leaves (a deploy): it stops accepting and closes each connection with 1012, service restart",
    );
    let a = cluster.take_server("A")?;
    let (ending, ()) = tokio::join!(alice.next(), a.leave());
    if ending != Event::Ended(Ended::Closed(1012, crate::server::DEPLOY_REASON.into())) {
        return Err(format!("alice expected 1012, got {ending:?}").into());
    }
    // The server closed TCP first (RFC 6455 §7.1.1); alice's side closes as she lets go.
    drop(alice);
    for label in ["alice", "A:cmd", "A:read"] {
        story.wait_for(label, "the connection is over", 1).await?;
    }
    story.step("bob says \"bob-2 two\" while alice is away");
    bob.say("bob-2 two").await?;
    hears(&mut bob, "bob-2 two").await?;
    story.wait_for("B:read", "XREAD", 1).await?;
    story.order(&["alice", "B:cmd", "bob", "B:read"]);
    story.step("alice comes back through nginx with the last id she has: A is gone, so nginx sends her to B");
    let mut alice = cluster.join("alice", Some(last)).await?;
    hears(&mut alice, "bob-2 two").await?;
    story.order(&["bob", "B:cmd", "B:read", "alice"]);
    story.step("bob says \"bob-3 three\": both hear it");
    bob.say("bob-3 three").await?;
    hears(&mut bob, "bob-3 three").await?;
    hears(&mut alice, "bob-3 three").await?;
    story.wait_for("B:read", "XREAD", 1).await?;
    story.order(&["alice", "bob"]);
    story.step("alice and bob leave: alice missed nothing");
    alice.leave().await;
    bob.leave().await;
    cluster.story.wait_for("bob", "the connection is over", 1).await?;
    cluster.story.wait_for("alice", "the connection is over", 1).await?;
    story.finish();
    Ok(())
}
// ANCHOR_END: deploy

/// What the slow-client demo saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlowReport {
    /// Messages sent by the publisher.
    pub sent: usize,
    /// What each fast member heard (all of them, in order, if all went well).
    pub fast_heard: Vec<usize>,
    /// Messages the slow member found when it finally read.
    pub slow_heard: usize,
    /// How the slow member's connection ended.
    pub slow_ending: Ended,
}

/// The size of each message in the slow-client demo: big enough that the socket buffers between
/// the server and a client that does not read fill after a few hundred messages, within the
/// 64 KiB limit.
pub const SLOW_MESSAGE: usize = 32 * 1024;

/// The most messages the slow-client demo sends before it gives up waiting for the cut.
pub const SLOW_MAX: usize = 5000;

/// A member that stops reading, among members that read: `across` puts the slow member on
/// another server than the publisher, with Redis pub/sub between them.
pub async fn slow(across: bool) -> Result<SlowReport, DemoError> {
    let story = Story::new(false);
    let mode = if across { Mode::PubSub } else { Mode::Memory };
    let cluster = Cluster::start(&story, mode, Persistence::None).await?;
    let (publisher_server, slow_server) = if across { ("A", "B") } else { ("A", "A") };
    let addr = |name: &str| cluster.listen_addr(name);
    let connect = |addr: SocketAddr, small: bool| async move {
        let socket = tokio::net::TcpSocket::new_v4()?;
        if small {
            // A small receive window: the kernel holds little for a client that does not read.
            socket.set_recv_buffer_size(4096)?;
        }
        let stream = socket.connect(addr).await?;
        stream.set_nodelay(true)?;
        let join = Join { room: ROOM.to_owned(), after: None };
        Ok::<_, DemoError>(client::join(stream, &addr.to_string(), &join, false).await?)
    };
    let mut publisher = connect(addr(publisher_server)?, false).await?;
    let mut fast = vec![connect(addr("A")?, false).await?];
    if across {
        fast.push(connect(addr("B")?, false).await?);
    }
    let slow_member = connect(addr(slow_server)?, true).await?;
    let server = cluster.servers[NAMES.iter().position(|n| *n == slow_server).unwrap_or(0)]
        .as_ref()
        .ok_or("no server")?;
    let mut cuts = server.rooms().cuts();
    // Each fast member reads on its own task, counting what it hears, in order.
    let mut readers = Vec::new();
    for mut member in fast {
        readers.push(tokio::spawn(async move {
            let mut heard = 0usize;
            while let Ok(text) = member.hear().await {
                if text.starts_with(&format!("{heard:05} ")) {
                    heard += 1;
                } else {
                    break;
                }
            }
            member.leave().await;
            heard
        }));
    }
    let padding = "x".repeat(SLOW_MESSAGE - 6);
    let mut sent = 0;
    let mut after_cut = None;
    while sent < SLOW_MAX && after_cut.is_none_or(|n| n > 0) {
        let text = format!("{sent:05} {padding}");
        publisher.say(&text).await?;
        // The publisher hears its own message back: the pace of the room.
        hears(&mut publisher, &text).await?;
        sent += 1;
        if *cuts.borrow_and_update() > 0 {
            after_cut = Some(after_cut.unwrap_or(10) - 1);
        }
    }
    // Anything out of the sequence ends a reader's count.
    publisher.say("end").await?;
    publisher.leave().await;
    let mut fast_heard = Vec::new();
    for reader in readers {
        fast_heard.push(tokio::time::timeout(crate::story::PATIENCE, reader).await??);
    }
    // Now, at last, the slow member reads.
    let mut slow_member = slow_member;
    let mut slow_heard = 0;
    let slow_ending = loop {
        match tokio::time::timeout(crate::story::PATIENCE, slow_member.next()).await? {
            Event::Message(_) => slow_heard += 1,
            Event::Ended(ending) => break ending,
        }
    };
    Ok(SlowReport { sent, fast_heard, slow_heard, slow_ending })
}

/// The chapter's demos, for `chat-demo` and `duplex demo`.
pub const DEMOS: &[Demo] = &[
    Demo {
        name: "chat",
        chapter: "More than one server",
        about: "two chat servers behind nginx: in memory, a message never crosses; with Redis pub/sub, it does",
        flags: &[],
        run: chat_demo,
    },
    Demo {
        name: "chat-gap",
        chapter: "More than one server",
        about: "a server's link to Redis breaks: pub/sub loses that moment's message, a stream does not",
        flags: &[],
        run: gap_demo,
    },
    Demo {
        name: "chat-deploy",
        chapter: "More than one server",
        about: "a server leaves with 1012; its client resumes on the other one through nginx, missing nothing",
        flags: &[],
        run: deploy_demo,
    },
    Demo {
        name: "chat-slow",
        chapter: "More than one server",
        about: "a client that stops reading is cut with 1013; the room goes on (one process, then two)",
        flags: &[],
        run: slow_demo,
    },
];

fn chat_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{LEGEND}");
        outln!("Part 1: each server keeps its rooms in memory.");
        in_memory(&Story::new(true)).await?;
        outln!("\nPart 2: Redis pub/sub between the servers.");
        pubsub(&Story::new(true)).await?;
        Ok(())
    })
}

fn gap_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{LEGEND}");
        outln!("Part 1: Redis pub/sub.");
        gap(&Story::new(true), false).await?;
        outln!("\nPart 2: a Redis stream per room.");
        gap(&Story::new(true), true).await?;
        Ok(())
    })
}

fn deploy_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{LEGEND}");
        deploy(&Story::new(true)).await?;
        Ok(())
    })
}

fn slow_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        for across in [false, true] {
            outln!(
                "{}",
                if across {
                    "\nTwo servers, Redis pub/sub: the publisher on A, the slow member on B"
                } else {
                    "One server: a publisher, a member that reads, and one that does not"
                }
            );
            let report = slow(across).await?;
            outln!("  the publisher sent {} messages of {} KiB", report.sent, SLOW_MESSAGE / 1024);
            for (n, heard) in report.fast_heard.iter().enumerate() {
                outln!("  fast member {}: heard {heard} of them, in order", n + 1);
            }
            outln!(
                "  the slow member, reading at last: {} messages, then {}",
                report.slow_heard,
                report.slow_ending
            );
        }
        Ok(())
    })
}
