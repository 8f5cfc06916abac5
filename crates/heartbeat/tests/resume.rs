//! Reconnect and resume: cut the connection at ten random points of a stream of 1,000 messages,
//! a hundred times over with different seeds, and check that the client got every message
//! exactly once, in order.
//!
//! Everything runs over in-memory pipes with tokio's clock paused: the publisher's pace, the
//! backoff waits and the cuts happen at exact virtual instants, so a seed always replays the
//! same run, and a hundred runs take a second or two of real time.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use heartbeat::backoff::Backoff;
use heartbeat::replay::GAP_TOO_OLD;
use heartbeat::resume::{Feed, FeedEnding, FollowError, Followed, follow, handle};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use tap::PipeEnd;
use tap::{MemoryTap, TapControl};
use tokio::sync::mpsc;

const MESSAGES: u64 = 1000;
const CUTS: usize = 10;
const RUNS: u64 = 100;

/// A server for the feed that accepts in-memory streams sent to the returned channel, and
/// counts the messages it sends over all connections.
fn start_server(feed: Arc<Feed>) -> (mpsc::UnboundedSender<PipeEnd>, Arc<AtomicU64>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<PipeEnd>();
    let sent = Arc::new(AtomicU64::new(0));
    let total = sent.clone();
    tokio::spawn(async move {
        while let Some(stream) = rx.recv().await {
            let feed = feed.clone();
            let total = total.clone();
            tokio::spawn(async move {
                if let Some(FeedEnding::Ended { sent }) =
                    handle(stream, &feed, &serve::Limits::default()).await
                {
                    total.fetch_add(sent, Ordering::SeqCst);
                }
            });
        }
    });
    (tx, sent)
}

/// One run: what the client received, in order; how it went; the cut points; and how many
/// messages the server sent in all (more than 1,000 when some were lost in a cut and replayed).
async fn run(seed: u64) -> (Vec<u64>, Followed, BTreeSet<u64>, u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut cuts = BTreeSet::new();
    while cuts.len() < CUTS {
        // Not too near the end, so that every cut is followed by a reconnect.
        cuts.insert(rng.random_range(1..MESSAGES - 200));
    }
    let feed = Feed::new(256);
    let (server, sent) = start_server(feed.clone());
    // The publisher: a burst of 20 messages every 5 virtual milliseconds, so that when a cut
    // comes, some of a burst are still on their way and are lost with the connection.
    let publisher = {
        let feed = feed.clone();
        tokio::spawn(async move {
            for n in 1..=MESSAGES {
                feed.publish(format!("message {n}"));
                // Let the server, the Tap and the client run a little between messages, so a
                // burst is spread along the path, from the server's socket to the client's.
                tokio::task::yield_now().await;
                if n % 20 == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };
    // Each connection goes through its own Tap, whose switch the test keeps to cut it.
    let current: Arc<Mutex<Option<Arc<TapControl>>>> = Arc::default();
    let connect = {
        let current = current.clone();
        move || {
            let (client, server_end, connection) = MemoryTap::new().pipe();
            *current.lock().unwrap() = Some(connection.control());
            let sent = server.send(server_end);
            async move {
                sent.map_err(|_| std::io::Error::other("the server is gone"))?;
                Ok(client)
            }
        }
    };
    // The cut points, in order; each cuts the first connection that delivers a message at or
    // past it. (A cut connection may still deliver what had already reached the client's end of
    // the pipe, as a socket's receive buffer would, so two close points may fall on one
    // connection; then the later one cuts the next connection instead.)
    let points: Vec<u64> = cuts.iter().copied().collect();
    let mut next_cut = 0;
    let mut received = Vec::new();
    // A reconnect waits at most 20 ms (the first ceiling): 80 messages, well within the buffer.
    let backoff = Backoff { base: Duration::from_millis(20), cap: Duration::from_secs(1) };
    let followed = follow(connect, backoff, &mut rng, 0, MESSAGES, |message| {
        received.push(message.seq);
        assert_eq!(message.body, format!("message {}", message.seq), "the body belongs to its number");
        if let Some(control) = current.lock().unwrap().as_ref()
            && next_cut < points.len()
            && message.seq >= points[next_cut]
            && !control.is_cut()
        {
            control.cut();
            next_cut += 1;
        }
    })
    .await
    .unwrap_or_else(|e| panic!("seed {seed}: following the feed failed: {e}"));
    publisher.await.unwrap();
    assert_eq!(next_cut, CUTS, "seed {seed}: every one of the {CUTS} cut points cut a connection");
    // Let the last connections' tasks finish and report (virtual time: instant).
    tokio::time::sleep(Duration::from_secs(1)).await;
    (received, followed, cuts, sent.load(Ordering::SeqCst))
}

#[tokio::test(start_paused = true)]
async fn a_hundred_runs_cut_ten_times_each_lose_nothing_and_repeat_nothing() {
    let mut replayed = 0;
    for seed in 0..RUNS {
        let (received, followed, cuts, sent) = run(seed).await;
        replayed += sent - MESSAGES;
        let expected: Vec<u64> = (1..=MESSAGES).collect();
        assert!(
            received == expected,
            "seed {seed} (cuts after {cuts:?}): the client must get 1..={MESSAGES} exactly once, in order; \
             it got {} messages, first difference at index {:?}",
            received.len(),
            received.iter().zip(&expected).position(|(a, b)| a != b)
        );
        assert_eq!(
            followed.connections,
            CUTS as u32 + 1,
            "seed {seed}: one connection, plus one more after each of the {CUTS} cuts"
        );
        assert_eq!(followed.waits.len(), CUTS, "seed {seed}: one wait before each reconnect");
    }
    // The cuts must really lose messages in flight, or this test would prove nothing.
    assert!(
        replayed > RUNS,
        "messages sent before a cut must be lost and sent again, more than one a run: {replayed}"
    );
    println!("{RUNS} runs: {replayed} messages were lost in flight at a cut and replayed after a resume");
}

#[tokio::test(start_paused = true)]
async fn reconnect_waits_follow_the_seeded_backoff_while_the_server_is_down() {
    let feed = Feed::new(16);
    feed.publish("hello");
    let (server, _) = start_server(feed.clone());
    let mut down_for = 5;
    let connect = move || {
        let result = if down_for > 0 {
            down_for -= 1;
            Err(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "the server is down"))
        } else {
            let (client, server_end, _connection) = MemoryTap::new().pipe();
            server.send(server_end).map(|()| client).map_err(|_| std::io::Error::other("gone"))
        };
        async move { result }
    };
    let backoff = Backoff { base: Duration::from_millis(100), cap: Duration::from_secs(1) };
    let started = tokio::time::Instant::now();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let followed = follow(connect, backoff, &mut rng, 0, 1, |_| {}).await.unwrap();
    let mut same_seed = Xoshiro256PlusPlus::seed_from_u64(1);
    let expected: Vec<Duration> = (0..5).map(|n| backoff.delay(n, &mut same_seed)).collect();
    assert_eq!(followed.failed_attempts, 5);
    assert_eq!(followed.waits, expected, "each wait is the seeded backoff for its attempt");
    for (n, wait) in followed.waits.iter().enumerate() {
        assert!(*wait <= backoff.ceiling(n as u32), "wait {n} is within its ceiling");
    }
    assert_eq!(
        started.elapsed(),
        expected.iter().sum::<Duration>(),
        "the virtual clock moved by exactly the waits: nothing else takes time"
    );
}

#[tokio::test(start_paused = true)]
async fn a_gap_older_than_the_buffer_is_answered_with_4410_and_a_reason() {
    let feed = Feed::new(10);
    for n in 1..=50 {
        feed.publish(format!("message {n}"));
    }
    let (server, _) = start_server(feed);
    let connect = move || {
        let (client, server_end, _connection) = MemoryTap::new().pipe();
        let sent = server.send(server_end);
        async move { sent.map(|()| client).map_err(|_| std::io::Error::other("gone")) }
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let result = follow(connect, Backoff::default(), &mut rng, 3, 50, |_| {}).await;
    match result {
        Err(FollowError::GapTooOld(reason)) => {
            assert_eq!(reason, "cannot replay after 3: the oldest message kept is 41");
        }
        other => {
            panic!("a client at 3 when the buffer starts at 41 must hear close {GAP_TOO_OLD:?}: {other:?}")
        }
    }
}
