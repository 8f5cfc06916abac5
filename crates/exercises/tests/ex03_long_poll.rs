//! Exercise 3: a long poll that waits. Run with `just exercise 3`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use exercises::ex03_long_poll::{Feed, wait_newer};

/// Waits (without sleeping) until a thread is inside `Feed::wait`, or the waiter has already
/// returned, which means it did not wait.
fn until_waiting(feed: &Feed, waiter: &std::thread::JoinHandle<Vec<(u64, String)>>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while feed.waiting() == 0 {
        assert!(
            !waiter.is_finished(),
            "wait_newer returned before anything was published: a long poll must wait (with Feed::wait)"
        );
        assert!(Instant::now() < deadline, "wait_newer never called Feed::wait within 10 s");
        std::thread::yield_now();
    }
}

#[test]
#[ignore = "an exercise: run `just exercise 3`"]
fn messages_that_are_already_there_come_back_at_once() {
    let feed = Feed::new();
    feed.publish("one");
    feed.publish("two");
    let started = Instant::now();
    let got = wait_newer(&feed, 1, Duration::from_secs(60));
    assert_eq!(got, vec![(2, "two".to_owned())], "only the messages newer than since=1");
    assert!(started.elapsed() < Duration::from_secs(30), "with a newer message there, do not wait at all");
}

#[test]
#[ignore = "an exercise: run `just exercise 3`"]
fn a_waiting_poll_is_answered_when_a_message_is_published() {
    let feed = Arc::new(Feed::new());
    let waiter = std::thread::spawn({
        let feed = feed.clone();
        move || wait_newer(&feed, 0, Duration::from_secs(60))
    });
    until_waiting(&feed, &waiter);
    feed.publish("news");
    assert_eq!(waiter.join().unwrap(), vec![(1, "news".to_owned())], "the waiter gets the new message");
}

#[test]
#[ignore = "an exercise: run `just exercise 3`"]
fn with_nothing_new_the_poll_ends_empty_after_its_timeout() {
    let feed = Feed::new();
    feed.publish("old");
    let timeout = Duration::from_millis(200);
    let started = Instant::now();
    let got = wait_newer(&feed, 1, timeout);
    assert!(
        got.is_empty(),
        "nothing newer than 1 was published: expect an empty list (the server answers 204)"
    );
    assert!(
        started.elapsed() >= timeout,
        "returned after {:?}, before the timeout of {timeout:?}: a wait can end early, so wait again for what is left",
        started.elapsed()
    );
}
