//! # Exercise 9: noticing a dead peer
//!
//! Chapter: *Heartbeat and every way a connection ends*. About 30 minutes.
//!
//! A connection nobody talks to can be dead for hours without either side knowing. A heartbeat
//! finds out: send a ping every `interval`, and give up on the peer after `k` pings in a row went
//! unanswered. Here pings and pongs are messages on channels, so the tests can run on tokio's
//! paused clock: an hour of heartbeats takes no time at all.

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 9`. The tests are in crates/exercises/tests/ex09_heartbeat.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

/// Why [`watch`] gave up on the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gone {
    /// `k` pings in a row were not answered before the next one was due.
    Silent {
        /// How many pings were sent in all.
        pings_sent: u64,
    },
    /// The pong channel closed: the peer hung up.
    HungUp,
}

/// Pings the peer every `interval` and returns when it seems gone.
///
/// - At once, and then every `interval`, it is time to ping (`tokio::time::interval` ticks
///   exactly like that).
/// - At each tick after the first: if no pong arrived since the previous ping, that ping was
///   missed. After `k` misses in a row, return [`Gone::Silent`] (so a silent peer is given up on
///   `k × interval` after the first ping). A pong resets the count.
/// - Otherwise send the next ping on `ping` (its payload: the number of the ping, from 1).
/// - While waiting for the next tick, take pongs as they come (`tokio::select!`); if the pong
///   channel is closed, return [`Gone::HungUp`].
pub async fn watch(
    ping: mpsc::Sender<u64>,
    mut pong: mpsc::Receiver<u64>,
    interval: Duration,
    k: u32,
) -> Gone {
    todo!("exercise 9: a `tokio::time::interval`, a miss counter, and `tokio::select!` on tick and pong")
}
