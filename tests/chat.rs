//! The chapter "More than one server", run for real: nginx in front, two chat servers, Redis
//! between them, a Tap on every connection. The stories are snapshotted
//! (`tests/snapshots/chat__*.snap`) for the book; the rest are the chapter's claims, checked:
//! at-most-once pub/sub loses what is published during a broker restart, Redis Streams with
//! resume lose nothing through restarts of the broker and of a server, a deploy's 1012 is
//! survived without loss, and a client that stops reading is cut with 1013 while the room goes
//! on, in one process and across two.
//!
//! Every test here needs redis-server and nginx (Debian packages `redis-server` and `nginx`), so a
//! plain `cargo test` ignores them; `.ci/run` installs both and runs them, and so does
//! `cargo test -p duplex-tests --test chat -- --ignored`. The Node test also needs Node 20.
//!
//! Redis and nginx run in real time, so nothing here waits by sleeping: every step waits for a
//! condition (a subscription confirmed, a message received, a connection over) with a deadline.
//! Randomness (when the broker and a server restart, the reconnect jitter) is seeded.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chat::client::{self, Entry, Followed, Next};
use chat::demo::{self, snapshot_style};
use chat::protocol::StreamId;
use chat::redis_server::{Persistence, RedisServer};
use chat::story::Story;
use chat::{Config, Mode, Server};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serve::backoff::Backoff;
use tokio::net::TcpListener;

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and nginx (Debian packages redis-server, nginx): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn with_rooms_in_memory_a_message_never_reaches_the_other_servers_clients() {
    let story = Story::new(false);
    demo::in_memory(&story).await.unwrap();
    let text = story.render(&snapshot_style());
    assert!(text.contains("\"joined lobby on server A\"") && text.contains("\"joined lobby on server B\""));
    let bob: String = text.lines().filter(|l| l.starts_with("bob ")).collect();
    assert!(!bob.contains("hello, everyone"), "bob, on B, must never get alice's message:\n{text}");
    snapshot("in_memory", &text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and nginx (Debian packages redis-server, nginx): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn with_redis_pubsub_a_message_reaches_every_server_through_publish_and_the_pushes() {
    let story = Story::new(false);
    demo::pubsub(&story).await.unwrap();
    let text = story.render(&snapshot_style());
    assert!(
        text.contains(
            r#"A:cmd  C→S 56 bytes: "*3\r\n$7\r\nPUBLISH\r\n$10\r\nroom:lobby\r\n$15\r\nhello, everyone\r\n""#
        ),
        "A publishes alice's message in RESP:\n{text}"
    );
    assert!(text.contains(
        r#"B:sub  S→C 56 bytes: "*3\r\n$7\r\nmessage\r\n$10\r\nroom:lobby\r\n$15\r\nhello, everyone\r\n""#
    ));
    snapshot("pubsub", &text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and nginx (Debian packages redis-server, nginx): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn with_pubsub_a_message_published_while_a_server_is_cut_off_is_lost_for_its_clients() {
    let story = Story::new(false);
    demo::gap(&story, false).await.unwrap();
    let text = story.render(&snapshot_style());
    let bob: String = text.lines().filter(|l| l.starts_with("bob ")).map(|l| format!("{l}\n")).collect();
    assert!(bob.contains("\"one\"") && bob.contains("\"three\"") && !bob.contains("\"two\""), "{bob}");
    snapshot("pubsub_gap", &text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and nginx (Debian packages redis-server, nginx): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn with_a_stream_a_server_cut_off_reads_on_from_its_last_id_and_its_clients_miss_nothing() {
    let story = Story::new(false);
    demo::gap(&story, true).await.unwrap();
    let text = story.render(&snapshot_style());
    let bob: String = text.lines().filter(|l| l.starts_with("bob ")).map(|l| format!("{l}\n")).collect();
    for message in ["alice-1 one", "alice-2 two", "alice-3 three"] {
        assert!(bob.contains(message), "bob must get {message:?}:\n{bob}");
    }
    snapshot("streams_gap", &text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and nginx (Debian packages redis-server, nginx): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn a_deploy_closes_with_1012_and_the_client_resumes_on_the_other_server_without_loss() {
    let story = Story::new(false);
    demo::deploy(&story).await.unwrap();
    let text = story.render(&snapshot_style());
    assert!(text.contains("1012 service restart \"restarting for a deploy\""), "{text}");
    assert!(text.contains("\"joined lobby on server B at ‹id 1›\""), "alice comes back on B: {text}");
    snapshot("deploy", &text);
}

/// How many messages the no-loss test sends.
const MESSAGES: usize = 1000;

/// What one run of the no-loss test did.
#[derive(Debug)]
struct NoLoss {
    seed: u64,
    elapsed: Duration,
    broker_restarts: Vec<usize>,
    server_restarts: Vec<(usize, &'static str)>,
    followed: Vec<Followed>,
}

/// A run of the no-loss test: Redis with its append-only file, servers A and B on Streams,
/// nginx in front; a publisher and three readers, all through nginx; the broker and a server
/// restarted at moments chosen by a generator seeded with `seed`.
async fn no_loss(seed: u64) -> NoLoss {
    let start = Instant::now();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let redis = RedisServer::start(Persistence::AppendOnly).await.unwrap();
    let url = redis.url();
    let config = move |name: &str, n: u64| {
        let mut config = Config::new(name, Mode::Streams, Some(url.clone()));
        config.seed = seed * 10 + n;
        config
    };
    let mut servers = Vec::new();
    let mut addrs = Vec::new();
    for (n, name) in ["A", "B"].into_iter().enumerate() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap());
        servers.push(Some(Server::start(listener, config(name, n as u64)).await.unwrap()));
    }
    let nginx = chat::nginx::Nginx::start(&addrs).await.unwrap();
    let host = nginx.addr().to_string();

    // When to restart what: two broker restarts and two server restarts, at seeded moments
    // (the publisher's progress), each down for a seeded 0–150 ms.
    let mut broker_restarts: Vec<usize> = (0..2).map(|_| rng.random_range(50..MESSAGES - 50)).collect();
    broker_restarts.sort_unstable();
    let mut server_restarts: Vec<(usize, &'static str)> = (0..2)
        .map(|_| (rng.random_range(50..MESSAGES - 50), if rng.random_bool(0.5) { "A" } else { "B" }))
        .collect();
    server_restarts.sort_unstable();
    let (progress, watching) = tokio::sync::watch::channel(0usize);
    let chaos = {
        let (broker_restarts, server_restarts) = (broker_restarts.clone(), server_restarts.clone());
        let mut downtime = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eed);
        let mut watching = watching.clone();
        tokio::spawn(async move {
            let mut redis = redis;
            let mut plan: Vec<(usize, Option<&'static str>)> = broker_restarts
                .iter()
                .map(|at| (*at, None))
                .chain(server_restarts.iter().map(|(at, name)| (*at, Some(*name))))
                .collect();
            plan.sort_unstable();
            for (at, what) in plan {
                let _ = watching.wait_for(|sent| *sent >= at).await;
                let pause = Duration::from_millis(downtime.random_range(0..150));
                match what {
                    None => {
                        redis.kill().await;
                        tokio::time::sleep(pause).await;
                        redis.restart().await.unwrap();
                    }
                    Some(name) => {
                        let i = usize::from(name == "B");
                        servers[i].take().unwrap().crash().await;
                        tokio::time::sleep(pause).await;
                        let listener = TcpListener::bind(addrs[i]).await.unwrap();
                        let restarted = Server::start(listener, config(name, 2 + i as u64)).await;
                        servers[i] = Some(restarted.unwrap());
                    }
                }
            }
            (redis, servers)
        })
    };

    let backoff = Backoff { base: Duration::from_millis(10), cap: Duration::from_millis(500) };
    let last = format!("p-{MESSAGES:04}");
    let mut tasks = Vec::new();
    let heard: Vec<std::sync::Arc<std::sync::Mutex<Vec<String>>>> =
        (0..4).map(|_| Default::default()).collect();
    for reader in 0..4u64 {
        let (host, last, progress) = (host.clone(), last.clone(), progress.clone());
        let shared = heard[reader as usize].clone();
        let addr = nginx.addr();
        tasks.push(tokio::spawn(async move {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed * 100 + reader);
            // Reader 0 publishes; every reader starts from the beginning of the (empty) stream.
            let outbox: VecDeque<(String, String)> = if reader == 0 {
                (1..=MESSAGES).map(|n| (format!("p-{n:04}"), format!("message {n}"))).collect()
            } else {
                VecDeque::new()
            };
            let mut keys = Vec::new();
            let plan = client::Follow { host: &host, room: "lobby", after: Some(StreamId::ZERO), backoff };
            let mut away = Xoshiro256PlusPlus::seed_from_u64(seed * 1000 + reader);
            let followed = client::follow(client::tcp(addr), plan, &mut rng, outbox, |entry: &Entry| {
                keys.push(entry.key.clone());
                shared.lock().unwrap().push(entry.key.clone());
                if reader == 0 {
                    progress.send_replace(keys.len());
                }
                if entry.key == last {
                    Next::Stop
                } else if reader == 3 && keys.len() % 50 == 0 {
                    // Reader 3 is on a phone in a train: every 50 messages it loses its
                    // connection and comes back a moment later, while the room goes on.
                    Next::Away(Duration::from_millis(away.random_range(20..200)))
                } else {
                    Next::Continue
                }
            })
            .await;
            (followed, keys)
        }));
    }
    let mut followed = Vec::new();
    for (reader, task) in tasks.into_iter().enumerate() {
        let Ok(finished) = tokio::time::timeout(Duration::from_secs(60), task).await else {
            let keys = heard[reader].lock().unwrap().clone();
            let expected: Vec<String> = (1..=MESSAGES).map(|n| format!("p-{n:04}")).collect();
            let missing: Vec<&String> = expected.iter().filter(|k| !keys.contains(k)).collect();
            panic!(
                "seed {seed}: reader {reader} did not finish within 60 s; it has {} messages, the last {:?}; \
                 missing {} of them, first {:?}",
                keys.len(),
                keys.last(),
                missing.len(),
                &missing[..missing.len().min(10)]
            );
        };
        let (result, keys) = finished.unwrap();
        let result = result.unwrap_or_else(|e| panic!("seed {seed}: reader {reader}: {e}"));
        let expected: Vec<String> = (1..=MESSAGES).map(|n| format!("p-{n:04}")).collect();
        if keys != expected {
            let missing: Vec<&String> = expected.iter().filter(|k| !keys.contains(k)).collect();
            panic!(
                "seed {seed}: reader {reader} got {} messages, expected {MESSAGES} in order, once; missing {:?}, first 5: {:?}",
                keys.len(),
                &missing[..missing.len().min(10)],
                &keys[..keys.len().min(5)]
            );
        }
        followed.push(result);
    }
    let (_redis, _servers) = chaos.await.unwrap();
    drop(nginx);
    NoLoss { seed, elapsed: start.elapsed(), broker_restarts, server_restarts, followed }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and nginx (Debian packages redis-server, nginx): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn with_streams_and_resume_1000_messages_reach_every_client_in_order_once_through_restarts() {
    // CHAT_NO_LOSS_RUNS=20 runs it with seeds 1..=20 (and CHAT_NO_LOSS_SEED=N starts elsewhere).
    let runs: u64 = std::env::var("CHAT_NO_LOSS_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(1);
    let first: u64 = std::env::var("CHAT_NO_LOSS_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(1);
    for seed in first..first + runs {
        let run = no_loss(seed).await;
        let connections: Vec<u32> = run.followed.iter().map(|f| f.connections).collect();
        let endings: Vec<String> =
            run.followed.iter().flat_map(|f| &f.endings).map(|e| format!("{e:?}")).collect();
        let mut counted: Vec<(String, usize)> = Vec::new();
        for ending in endings {
            match counted.iter_mut().find(|(e, _)| *e == ending) {
                Some((_, n)) => *n += 1,
                None => counted.push((ending, 1)),
            }
        }
        eprintln!(
            "seed {seed}: {MESSAGES} messages to 4 clients in order, once, in {:.1} s; broker restarted at {:?}, \
             servers at {:?}; connections per client {connections:?}, reader 3 away {} times; broken by \
             the servers: {counted:?}; publisher sent {}",
            run.elapsed.as_secs_f64(),
            run.broker_restarts,
            run.server_restarts,
            run.followed[3].aways,
            run.followed[0].sent,
        );
        assert_eq!(run.seed, seed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and nginx (Debian packages redis-server, nginx): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn with_pubsub_what_is_published_while_the_broker_restarts_is_lost_and_the_rest_arrives_in_order() {
    let story = Story::new(false);
    let mut cluster = demo::Cluster::start(&story, Mode::PubSub, Persistence::None).await.unwrap();
    let mut alice = cluster.join("alice", None).await.unwrap();
    let mut bob = cluster.join("bob", None).await.unwrap();
    assert_eq!((alice.server.as_str(), bob.server.as_str()), ("A", "B"));
    let mut redis = cluster.redis.take();
    let (count, mut counted) = tokio::sync::watch::channel(0usize);
    let listening = tokio::spawn(async move {
        let mut heard = Vec::new();
        loop {
            match bob.hear().await.unwrap().as_str() {
                "end" => return heard,
                text => heard.push(text.to_owned()),
            }
            count.send_replace(heard.len());
        }
    });
    // A message every 2 ms; once Bob has the 50th, the broker is killed, and restarted 100 ms
    // later, while Alice goes on.
    let sent = 200;
    let mut restarting = None;
    for n in 1..=sent {
        alice.say(&format!("m{n:03}")).await.unwrap();
        if n == 50 {
            let _ =
                tokio::time::timeout(Duration::from_secs(10), counted.wait_for(|heard| *heard >= 50)).await;
            let mut redis = redis.take().unwrap();
            restarting = Some(tokio::spawn(async move {
                redis.kill().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                redis.restart().await.unwrap();
                redis
            }));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let _redis = restarting.unwrap().await.unwrap();
    // Until bob's server has subscribed again, even "end" can be lost: say it until he hears it.
    while !listening.is_finished() {
        alice.say("end").await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let heard = listening.await.unwrap();
    let expected: Vec<String> = (1..=sent).map(|n| format!("m{n:03}")).collect();
    let mut sorted = heard.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, heard, "what arrives, arrives in order and once");
    assert!(heard.starts_with(&expected[..50]), "before the restart, everything arrives: {heard:?}");
    let lost: Vec<&String> = expected.iter().filter(|m| !heard.contains(m)).collect();
    assert!(!lost.is_empty() && lost.iter().all(|m| **m > expected[49]), "lost: {lost:?}");
    assert!(heard.contains(&expected[sent - 1]), "after the restart, messages arrive again: {heard:?}");
    eprintln!(
        "pub/sub across a broker restart: {} of {sent} arrived, {} lost ({} … {})",
        heard.len(),
        lost.len(),
        lost[0],
        lost[lost.len() - 1]
    );
}

fn assert_slow_member_cut(report: &demo::SlowReport, setting: &str) {
    assert!(report.sent < demo::SLOW_MAX, "{setting}: the slow member was never cut: {report:?}");
    for heard in &report.fast_heard {
        assert_eq!(
            *heard, report.sent,
            "{setting}: a member that reads hears everything, in order: {report:?}"
        );
    }
    let reason = chat::room::cut_reason(chat::room::QUEUE);
    assert_eq!(report.slow_ending, client::Ended::Closed(1013, reason), "{setting}: {report:?}");
    assert!(report.slow_heard < report.sent, "{setting}: the slow member missed what came after its cut");
    eprintln!(
        "{setting}: {} messages of {} KiB; the readers heard all; the slow member {} and then close 1013",
        report.sent,
        demo::SLOW_MESSAGE / 1024,
        report.slow_heard
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and nginx (Debian packages redis-server, nginx): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn in_one_process_a_member_that_stops_reading_is_cut_with_1013_and_the_room_goes_on() {
    let report = demo::slow(false).await.unwrap();
    assert_slow_member_cut(&report, "one process");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and nginx (Debian packages redis-server, nginx): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn across_two_servers_a_member_that_stops_reading_is_cut_with_1013_and_neither_the_room_nor_redis_waits()
 {
    let report = demo::slow(true).await.unwrap();
    assert_slow_member_cut(&report, "two processes over Redis pub/sub");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and Node 20 with npm (Debian packages redis-server, nodejs, npm): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn a_node_server_and_a_rust_server_share_a_room_through_the_same_redis_channel() {
    let redis = RedisServer::start(Persistence::None).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rust = Server::start(listener, Config::new("A", Mode::PubSub, Some(redis.url()))).await.unwrap();
    let url = redis.url();
    let mut node =
        duplex_tests::node::Program::start("chat/server.mjs", &["--name", "N", "--redis", &url]).await;
    let connect = |addr: std::net::SocketAddr| async move {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let join = chat::protocol::Join { room: "lobby".into(), after: None };
        client::join(stream, &addr.to_string(), &join, false).await.unwrap()
    };
    let mut alice = connect(rust.addr()).await;
    let mut bob = connect(node.addr()).await;
    assert_eq!((alice.server.as_str(), bob.server.as_str()), ("A", "N"), "the welcome reads the same");
    alice.say("hello from Rust").await.unwrap();
    assert_eq!(alice.hear().await.unwrap(), "hello from Rust");
    assert_eq!(bob.hear().await.unwrap(), "hello from Rust", "Redis carried it to the Node server");
    bob.say("hello from Node").await.unwrap();
    assert_eq!(bob.hear().await.unwrap(), "hello from Node");
    assert_eq!(alice.hear().await.unwrap(), "hello from Node", "and back to the Rust server");
    alice.leave().await;
    bob.leave().await;
    node.line(|l| l.contains("a member of lobby left: 1000 normal closure")).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and Node 20 with npm (Debian packages redis-server, nodejs, npm): run by .ci/run, or cargo test -p duplex-tests --test chat -- --ignored"]
async fn the_node_server_cuts_a_member_that_stops_reading_with_1013_and_the_others_hear_everything() {
    let redis = RedisServer::start(Persistence::None).await.unwrap();
    let url = redis.url();
    let node = duplex_tests::node::Program::start("chat/server.mjs", &["--name", "N", "--redis", &url]).await;
    let join = chat::protocol::Join { room: "lobby".into(), after: None };
    let host = node.addr().to_string();
    let stream = tokio::net::TcpStream::connect(node.addr()).await.unwrap();
    let mut publisher = client::join(stream, &host, &join, false).await.unwrap();
    let stream = tokio::net::TcpStream::connect(node.addr()).await.unwrap();
    let mut reader = client::join(stream, &host, &join, false).await.unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(node.addr()).await.unwrap();
    let mut deaf = client::join(stream, &host, &join, false).await.unwrap();
    let reading = tokio::spawn(async move {
        let mut heard = 0;
        while reader.hear().await.is_ok_and(|text| text.starts_with(&format!("{heard:05} "))) {
            heard += 1;
        }
        heard
    });
    // 600 messages of 32 KiB: far more than ws's buffer limit and the kernel's buffers hold.
    let big = "x".repeat(32 * 1024);
    let sent = 600;
    for n in 0..sent {
        let text = format!("{n:05} {big}");
        publisher.say(&text).await.unwrap();
        assert_eq!(publisher.hear().await.unwrap(), text);
    }
    publisher.say("end").await.unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(30), reading).await.unwrap().unwrap(), sent);
    let mut heard = 0;
    let ending = loop {
        match deaf.next().await {
            client::Event::Message(_) => heard += 1,
            client::Event::Ended(ending) => break ending,
        }
    };
    assert!(heard < sent, "the deaf member heard {heard} of {sent}");
    assert_eq!(ending, client::Ended::Closed(1013, "too slow".into()));
    eprintln!("node: {sent} messages of 32 KiB; the reader heard all; the deaf member {heard}, then 1013");
}
