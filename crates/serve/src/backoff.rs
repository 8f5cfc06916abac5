//! Exponential backoff with full jitter, capped: how long a client waits before reconnecting.
//!
//! When a server restarts, every client notices at the same moment. If each retried at once, or
//! after the same fixed delays, they would all arrive together, again and again: a thundering
//! herd that can knock the server over as it comes back. So each failed attempt doubles the
//! *ceiling* of the wait (exponential), up to a cap, and the actual wait is a random point
//! between zero and that ceiling ("full jitter"): the herd spreads out over the whole window.
//!
//! ```text
//! attempt n:  ceiling = min(cap, base × 2ⁿ)     wait = uniform random in [0, ceiling]
//! ```
//!
//! The random generator is a parameter, so a test seeds it and knows every delay.

use std::time::Duration;

use rand::{Rng, RngExt};

/// The first ceiling: a server that blinked is retried within a tenth of a second.
pub const BASE: Duration = Duration::from_millis(100);

/// The largest ceiling: however long the server is gone, a client tries again within 30 s,
/// so it is back soon after the server is, without hammering it while it is down.
pub const CAP: Duration = Duration::from_secs(30);

/// The backoff policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first wait.
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: BASE, cap: CAP }
    }
}

// ANCHOR: delay
impl Backoff {
    /// The ceiling for attempt `n` (0 for the first retry): `min(cap, base × 2ⁿ)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        // 2ⁿ overflows past n = 31; by then any base has long reached the cap.
        let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// How long to wait before attempt `n`: uniformly random between zero and its ceiling, in
    /// whole milliseconds (tokio's timers count milliseconds; a finer wait would be rounded up).
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.random_range(0..=millis))
    }
}
// ANCHOR_END: delay

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn the_ceiling_doubles_each_attempt_until_the_cap() {
        let backoff = Backoff { base: Duration::from_millis(100), cap: Duration::from_secs(1) };
        let ceilings: Vec<u128> = (0..7).map(|n| backoff.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(backoff.ceiling(1000), Duration::from_secs(1), "no overflow, however many attempts");
    }

    #[test]
    fn every_delay_lies_between_zero_and_its_ceiling_and_the_spread_is_wide() {
        let backoff = Backoff::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for attempt in 0..12 {
            let delays: Vec<Duration> = (0..200).map(|_| backoff.delay(attempt, &mut rng)).collect();
            let ceiling = backoff.ceiling(attempt);
            assert!(delays.iter().all(|d| *d <= ceiling), "attempt {attempt}: a delay above {ceiling:?}");
            // Full jitter: waits fill the window, so 200 clients do not come back together.
            let low = delays.iter().filter(|d| **d < ceiling / 4).count();
            let high = delays.iter().filter(|d| **d > ceiling * 3 / 4).count();
            assert!(low > 20 && high > 20, "attempt {attempt}: {low} low and {high} high of 200");
        }
    }

    #[test]
    fn a_seeded_generator_gives_the_same_delays_every_run() {
        let backoff = Backoff::default();
        let run = |seed| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            (0..8).map(|n| backoff.delay(n, &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }
}
