//! The feed: numbered messages, a bounded history, and a way to wait for the next one.
//!
//! Every transport in this chapter serves the same [`Feed`]. A message gets the next sequence
//! id (1, 2, 3, …) when it is published; a client says which id it has seen last (`since=N`,
//! `Last-Event-ID: N`) and gets what is newer. That one number is what lets every transport resume
//! without loss or duplicates after a dropped connection.
//!
//! The feed lives in the server's memory, so a restarted server starts again at id 1, and a
//! client that saw message 10 before the restart would ask for what is newer than 10 and miss
//! the new 1 to 10. So every feed also has an [instance](Feed::instance): a number chosen when it
//! is created (the time, in milliseconds since 1970), which the server states with every answer
//! (`Feed-Instance`). Ids are positions in one instance; a client that sees another instance
//! knows its last id means nothing there and starts again from 0.
//!
//! Blocking waiters (long polls and event streams, each on its own thread) sleep on a
//! [`Condvar`]; async waiters (the tokio WebSocket feed) watch a [`tokio::sync::watch`] channel.
//! A publish wakes both.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One message of the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its sequence number, from 1.
    pub id: u64,
    /// What it says.
    pub text: String,
}

impl Message {
    /// The message as JSON: `{"id":1,"text":"hello"}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "id": self.id, "text": self.text })
    }
}

/// What a wait ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Messages newer than the one asked about (at least one).
    Messages(Vec<Message>),
    /// Nothing new before the deadline.
    TimedOut,
    /// The feed asked every open stream to end ([`Feed::end_streams`]).
    Ended,
    /// Nobody wants the answer any more: the client has gone ([`Feed::wait_since_while`]).
    Abandoned,
}

#[derive(Debug)]
struct State {
    messages: VecDeque<Message>,
    newest: u64,
    history: usize,
    /// Threads blocked in [`Feed::wait_since`] right now.
    waiting: usize,
    /// Raised by [`Feed::end_streams`]; a wait that started in an older epoch ends.
    epoch: u64,
}

/// The instance of the feeds in the recorded demos and tests, so that their transcripts are the
/// same on every run: 14 November 2023, 22:13:20 UTC, in milliseconds since 1970.
pub const FIXED_INSTANCE: u64 = 1_700_000_000_000;

/// The message feed. Share it with `Arc`.
#[derive(Debug)]
pub struct Feed {
    /// Which life of the feed this is: see the module docs.
    instance: u64,
    state: Mutex<State>,
    /// Signalled on every publish, every `end_streams`, and every change in `waiting`.
    changed: Condvar,
    /// The newest id, for async waiters.
    newest: tokio::sync::watch::Sender<(u64, u64)>,
}

impl Feed {
    /// An empty feed that remembers the last `history` messages, its instance the time now.
    pub fn new(history: usize) -> Feed {
        // Milliseconds: a server restarted by hand cannot come back within the same one. A clock
        // before 1970 (a broken one) still gives a number; instances only need to differ.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Feed::with_instance(history, u64::try_from(now.as_millis()).unwrap_or(u64::MAX))
    }

    /// An empty feed with a chosen instance ([`FIXED_INSTANCE`] in the demos and tests).
    pub fn with_instance(history: usize, instance: u64) -> Feed {
        Feed {
            instance,
            state: Mutex::new(State {
                messages: VecDeque::new(),
                newest: 0,
                history: history.max(1),
                waiting: 0,
                epoch: 0,
            }),
            changed: Condvar::new(),
            newest: tokio::sync::watch::Sender::new((0, 0)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the state consistent (every change is
        // one assignment), so carry on with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: publish
    /// Adds a message and wakes everyone waiting for one.
    pub fn publish(&self, text: impl Into<String>) -> Message {
        let mut state = self.lock();
        state.newest += 1;
        let message = Message { id: state.newest, text: text.into() };
        state.messages.push_back(message.clone());
        while state.messages.len() > state.history {
            state.messages.pop_front();
        }
        let marks = (state.newest, state.epoch);
        drop(state);
        self.changed.notify_all();
        self.newest.send_replace(marks);
        message
    }
    // ANCHOR_END: publish

    /// Up to `max` messages newer than `since`, oldest first. A `since` at or beyond the newest
    /// id gives an empty list, not an error: "nothing new" is an answer.
    pub fn since(&self, since: u64, max: usize) -> Vec<Message> {
        newer(&self.lock(), since, max)
    }

    /// Which life of the feed this is: ids count from 1 in each instance (see the module docs).
    pub fn instance(&self) -> u64 {
        self.instance
    }

    /// The newest id (0 before the first message).
    pub fn newest(&self) -> u64 {
        self.lock().newest
    }

    /// The current epoch, which [`Feed::end_streams`] raises.
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    // ANCHOR: wait_since
    /// Waits until there is a message newer than `since`, until `timeout` has passed, or until
    /// the feed leaves `epoch` (see [`Feed::end_streams`]), whichever comes first.
    pub fn wait_since(&self, since: u64, max: usize, timeout: Duration, epoch: u64) -> Wait {
        self.wait_since_while(since, max, timeout, epoch, None, &mut || true)
    }

    /// [`Feed::wait_since`] that also asks `still_wanted` every `check` whether anyone still
    /// wants the answer (is the client still connected?), and gives up with [`Wait::Abandoned`]
    /// when it says no. `check: None` never asks.
    pub fn wait_since_while(
        &self,
        since: u64,
        max: usize,
        timeout: Duration,
        epoch: u64,
        check: Option<Duration>,
        still_wanted: &mut dyn FnMut() -> bool,
    ) -> Wait {
        let start = Instant::now();
        let deadline = start + timeout;
        // A zero period would ask without pause; a millisecond is the least that makes sense.
        let check = check.map(|c| c.max(Duration::from_millis(1)));
        let mut next_check = check.and_then(|c| start.checked_add(c));
        let mut state = self.lock();
        let mut counted = false;
        let ended = loop {
            if state.epoch != epoch {
                break Wait::Ended;
            }
            let found = newer(&state, since, max);
            if !found.is_empty() {
                break Wait::Messages(found);
            }
            let now = Instant::now();
            let Some(left) = deadline.checked_duration_since(now).filter(|d| !d.is_zero()) else {
                break Wait::TimedOut;
            };
            if let Some(at) = next_check.filter(|at| *at <= now) {
                // Asked without the lock: the question may take a system call, and a publish
                // meanwhile is found by the check at the top of the loop.
                drop(state);
                let wanted = still_wanted();
                state = self.lock();
                if !wanted {
                    break Wait::Abandoned;
                }
                next_check = check.and_then(|c| at.max(now).checked_add(c));
                continue;
            }
            if !counted {
                // Counted under the same lock as the check above: whoever sees `waiting` go up
                // and then publishes is sure to wake this thread. Counted once per wait, not once
                // per nap: every change wakes every waiter, and naps are frequent.
                state.waiting += 1;
                counted = true;
                self.changed.notify_all();
            }
            let nap = next_check.map_or(left, |at| left.min(at.saturating_duration_since(now)));
            state = self.changed.wait_timeout(state, nap).unwrap_or_else(PoisonError::into_inner).0;
        };
        if counted {
            state.waiting -= 1;
            self.changed.notify_all();
        }
        ended
    }
    // ANCHOR_END: wait_since

    /// How many threads are waiting for a message right now.
    pub fn waiting(&self) -> usize {
        self.lock().waiting
    }

    /// Blocks until exactly `n` threads are waiting, or `limit` has passed (then `false`).
    ///
    /// Tests and demos use it to publish "while the long poll waits" without sleeping: they wait
    /// until the server reports the waiter, then publish.
    pub fn wait_for_waiting(&self, n: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut state = self.lock();
        while state.waiting != n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { return false };
            state = self.changed.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }

    /// Asks every open event stream, WebSocket feed and long poll to end now, as a server does
    /// before it restarts. Clients reconnect and resume from the last id they saw.
    pub fn end_streams(&self) {
        let mut state = self.lock();
        state.epoch += 1;
        let marks = (state.newest, state.epoch);
        drop(state);
        self.changed.notify_all();
        self.newest.send_replace(marks);
    }

    /// A receiver that sees `(newest id, epoch)` change, for async waiters.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<(u64, u64)> {
        self.newest.subscribe()
    }
}

fn newer(state: &State, since: u64, max: usize) -> Vec<Message> {
    // Ids are consecutive, so the first newer message is found by arithmetic, not a search.
    let oldest = state.messages.front().map_or(state.newest + 1, |m| m.id);
    let skip = since.saturating_add(1).saturating_sub(oldest);
    let skip = usize::try_from(skip).unwrap_or(usize::MAX);
    state.messages.iter().skip(skip).take(max).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn since_returns_what_is_newer_and_nothing_beyond_the_newest() {
        let feed = Feed::new(10);
        for text in ["a", "b", "c"] {
            feed.publish(text);
        }
        let ids = |v: Vec<Message>| v.iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(feed.since(0, 10)), [1, 2, 3]);
        assert_eq!(ids(feed.since(2, 10)), [3]);
        assert_eq!(ids(feed.since(0, 2)), [1, 2], "at most `max` in one answer");
        assert!(feed.since(3, 10).is_empty());
        assert!(feed.since(99, 10).is_empty(), "a since beyond the newest is an empty answer");
    }

    #[test]
    fn the_history_is_bounded_and_the_gap_shows_in_the_ids() {
        let feed = Feed::new(2);
        for text in ["a", "b", "c", "d"] {
            feed.publish(text);
        }
        let got: Vec<u64> = feed.since(0, 10).iter().map(|m| m.id).collect();
        assert_eq!(got, [3, 4], "only the last two are remembered");
    }

    #[test]
    fn a_waiter_is_woken_by_a_publish_and_is_counted_while_it_waits() {
        let feed = Arc::new(Feed::new(10));
        let waiter = {
            let feed = feed.clone();
            std::thread::spawn(move || feed.wait_since(0, 10, Duration::from_secs(60), 0))
        };
        assert!(feed.wait_for_waiting(1, Duration::from_secs(30)), "the waiter registers");
        feed.publish("hello");
        assert_eq!(waiter.join().unwrap(), Wait::Messages(vec![Message { id: 1, text: "hello".into() }]));
        assert_eq!(feed.waiting(), 0);
    }

    #[test]
    fn a_wait_that_is_no_longer_wanted_gives_up_and_a_publish_still_wakes_one_that_is() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let feed = Arc::new(Feed::new(10));
        let (gone, looks) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let waiter = {
            let (feed, gone, looks) = (feed.clone(), gone.clone(), looks.clone());
            std::thread::spawn(move || {
                let mut wanted = || {
                    looks.fetch_add(1, Ordering::SeqCst);
                    !gone.load(Ordering::SeqCst)
                };
                feed.wait_since_while(
                    0,
                    10,
                    Duration::from_secs(60),
                    0,
                    Some(Duration::from_millis(1)),
                    &mut wanted,
                )
            })
        };
        assert!(feed.wait_for_waiting(1, Duration::from_secs(30)), "the waiter registers");
        gone.store(true, Ordering::SeqCst);
        assert_eq!(waiter.join().unwrap(), Wait::Abandoned);
        assert!(looks.load(Ordering::SeqCst) >= 1);
        assert_eq!(feed.waiting(), 0, "a wait that gave up is no longer counted");

        let waiter = {
            let feed = feed.clone();
            std::thread::spawn(move || {
                feed.wait_since_while(
                    0,
                    10,
                    Duration::from_secs(60),
                    0,
                    Some(Duration::from_millis(1)),
                    &mut || true,
                )
            })
        };
        assert!(feed.wait_for_waiting(1, Duration::from_secs(30)));
        feed.publish("news");
        assert_eq!(waiter.join().unwrap(), Wait::Messages(vec![Message { id: 1, text: "news".into() }]));
    }

    #[test]
    fn end_streams_ends_a_wait_and_a_zero_timeout_does_not_wait() {
        let feed = Arc::new(Feed::new(10));
        assert_eq!(feed.wait_since(0, 10, Duration::ZERO, 0), Wait::TimedOut);
        let waiter = {
            let feed = feed.clone();
            std::thread::spawn(move || feed.wait_since(0, 10, Duration::from_secs(60), 0))
        };
        assert!(feed.wait_for_waiting(1, Duration::from_secs(30)));
        feed.end_streams();
        assert_eq!(waiter.join().unwrap(), Wait::Ended);
    }
}
