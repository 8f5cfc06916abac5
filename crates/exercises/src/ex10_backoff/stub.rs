//! # Exercise 10: reconnecting politely
//!
//! Chapter: *Heartbeat and every way a connection ends*. About 15 minutes.
//!
//! When a server restarts, every client reconnects. If they all retry at once, and again at
//! once, they knock it over again. Exponential backoff spaces the attempts out; "full jitter"
//! picks a random point in each window, so the clients spread out instead of moving in step.

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 10`. The tests are in crates/exercises/tests/ex10_backoff.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

use std::time::Duration;

/// How long to wait before reconnection attempt number `attempt` (0 for the first retry).
///
/// The window doubles with each attempt, starting at `base`, and never exceeds `cap`:
/// `window = min(cap, base × 2^attempt)`. The wait is a random point in the window:
/// `window × random`, where `random` is in `0.0..1.0` (the caller passes it in, so tests can
/// choose it). Large attempt numbers must not overflow: attempt 1,000 still waits at most `cap`.
pub fn backoff(attempt: u32, base: Duration, cap: Duration, random: f64) -> Duration {
    todo!("exercise 10: the doubling window (without overflow), capped, times `random`")
}
