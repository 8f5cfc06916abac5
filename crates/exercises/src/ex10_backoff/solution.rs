//! # Exercise 10: reconnecting politely
//!
//! Chapter: *Heartbeat and every way a connection ends*. About 15 minutes.
//!
//! When a server restarts, every client reconnects. If they all retry at once, and again at
//! once, they knock it over again. Exponential backoff spaces the attempts out; "full jitter"
//! picks a random point in each window, so the clients spread out instead of moving in step.

use std::time::Duration;

/// How long to wait before reconnection attempt number `attempt` (0 for the first retry).
///
/// The window doubles with each attempt, starting at `base`, and never exceeds `cap`:
/// `window = min(cap, base × 2^attempt)`. The wait is a random point in the window:
/// `window × random`, where `random` is in `0.0..1.0` (the caller passes it in, so tests can
/// choose it). Large attempt numbers must not overflow: attempt 1,000 still waits at most `cap`.
pub fn backoff(attempt: u32, base: Duration, cap: Duration, random: f64) -> Duration {
    // exercise 10: the doubling window (without overflow), capped, times `random`
    let factor = 2u32.checked_pow(attempt).unwrap_or(u32::MAX);
    let window = base.checked_mul(factor).unwrap_or(cap).min(cap);
    window.mul_f64(random.clamp(0.0, 1.0))
}
