//! Exercise 9: noticing a dead peer. Run with `just exercise 9`. The tests run on tokio's paused
//! clock: hours pass in no time, and every instant is exact.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::time::Duration;

use exercises::ex09_heartbeat::{Gone, watch};
use tokio::sync::mpsc;
use tokio::time::Instant;

const INTERVAL: Duration = Duration::from_secs(10);

#[tokio::test(start_paused = true)]
#[ignore = "an exercise: run `just exercise 9`"]
async fn a_peer_that_answers_every_ping_is_kept_for_an_hour() {
    let (ping_tx, mut ping_rx) = mpsc::channel(8);
    let (pong_tx, pong_rx) = mpsc::channel(8);
    let peer = tokio::spawn(async move {
        let mut answered = 0;
        while let Some(n) = ping_rx.recv().await {
            answered += 1;
            if pong_tx.send(n).await.is_err() {
                break;
            }
        }
        answered
    });
    let outcome = tokio::time::timeout(Duration::from_secs(3600), watch(ping_tx, pong_rx, INTERVAL, 3)).await;
    assert!(outcome.is_err(), "a peer that answers every ping must never be given up on, got {outcome:?}");
    let answered = peer.await.unwrap();
    assert!(
        (360..=361).contains(&answered),
        "one ping every 10 s for an hour is 360 or 361 pings, the peer saw {answered}"
    );
}

#[tokio::test(start_paused = true)]
#[ignore = "an exercise: run `just exercise 9`"]
async fn a_silent_peer_is_given_up_on_after_k_intervals() {
    let (ping_tx, mut ping_rx) = mpsc::channel(8);
    let (_pong_tx, pong_rx) = mpsc::channel::<u64>(8);
    let started = Instant::now();
    let gone = watch(ping_tx, pong_rx, INTERVAL, 3).await;
    assert_eq!(gone, Gone::Silent { pings_sent: 3 }, "pings at 0 s, 10 s and 20 s, none answered");
    assert_eq!(started.elapsed(), 3 * INTERVAL, "k = 3 missed pings, 10 s apart: given up on at 30 s");
    let mut pings = Vec::new();
    while let Ok(n) = ping_rx.try_recv() {
        pings.push(n);
    }
    assert_eq!(pings, [1, 2, 3], "each ping carries its number");
}

#[tokio::test(start_paused = true)]
#[ignore = "an exercise: run `just exercise 9`"]
async fn a_pong_resets_the_count_of_misses() {
    let (ping_tx, mut ping_rx) = mpsc::channel(8);
    let (pong_tx, pong_rx) = mpsc::channel(8);
    // The peer answers only the first ping, then falls silent.
    tokio::spawn(async move {
        if let Some(n) = ping_rx.recv().await {
            let _ = pong_tx.send(n).await;
        }
        std::future::pending::<()>().await;
        drop(pong_tx);
    });
    let started = Instant::now();
    let gone = watch(ping_tx, pong_rx, INTERVAL, 2).await;
    assert_eq!(gone, Gone::Silent { pings_sent: 3 });
    assert_eq!(started.elapsed(), 3 * INTERVAL, "ping 1 answered; pings 2 and 3 missed: given up on at 30 s");
}

#[tokio::test(start_paused = true)]
#[ignore = "an exercise: run `just exercise 9`"]
async fn a_peer_that_hangs_up_is_noticed_at_once() {
    let (ping_tx, _ping_rx) = mpsc::channel(8);
    let (pong_tx, pong_rx) = mpsc::channel::<u64>(8);
    drop(pong_tx);
    let started = Instant::now();
    assert_eq!(watch(ping_tx, pong_rx, INTERVAL, 3).await, Gone::HungUp);
    assert_eq!(started.elapsed(), Duration::ZERO, "a closed channel needs no heartbeat to be noticed");
}
