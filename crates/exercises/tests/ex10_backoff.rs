//! Exercise 10: reconnecting politely. Run with `just exercise 10`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::time::Duration;

use exercises::ex10_backoff::backoff;

const BASE: Duration = Duration::from_millis(100);
const CAP: Duration = Duration::from_secs(30);

#[test]
#[ignore = "an exercise: run `just exercise 10`"]
fn the_window_doubles_with_each_attempt() {
    for (attempt, window_ms) in [(0, 100), (1, 200), (2, 400), (3, 800), (8, 25_600)] {
        assert_eq!(
            backoff(attempt, BASE, CAP, 0.5),
            Duration::from_millis(window_ms / 2),
            "attempt {attempt}: window {window_ms} ms, and random 0.5 waits half of it"
        );
    }
}

#[test]
#[ignore = "an exercise: run `just exercise 10`"]
fn the_wait_is_anywhere_in_the_window() {
    assert_eq!(backoff(3, BASE, CAP, 0.0), Duration::ZERO, "full jitter: random 0 means retry at once");
    let nearly_all = backoff(3, BASE, CAP, 0.999);
    assert!(
        nearly_all > Duration::from_millis(790) && nearly_all < Duration::from_millis(800),
        "{nearly_all:?}"
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 10`"]
fn the_window_never_grows_past_the_cap() {
    assert_eq!(backoff(9, BASE, CAP, 1.0), CAP, "100 ms × 2^9 = 51.2 s, capped at 30 s");
    for attempt in [20, 31, 32, 64, 1_000, u32::MAX] {
        assert_eq!(
            backoff(attempt, BASE, CAP, 1.0),
            CAP,
            "attempt {attempt} must not overflow: still the cap"
        );
    }
}
