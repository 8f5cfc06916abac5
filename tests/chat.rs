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

use chat::client::{self, Ended, Entry, Event, Followed};
use chat::demo::{self, Cluster, snapshot_style};
use chat::protocol::{Join, StreamId};
use chat::redis_server::{Persistence, RedisServer};
use chat::story::Story;
use chat::{Config, Mode, Server};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serve::backoff::Backoff;
use tokio::net::{TcpListener, TcpStream};

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
