//! # Exercise 3: a long poll that waits
//!
//! Chapter: *Request and response*. About 25 minutes.
//!
//! A long poll is a request the server does not answer until it has something new, or until a
//! timeout. The [`Feed`] below holds the messages and wakes waiting threads when one is
//! published; you write the waiting.

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 3`. The tests are in crates/exercises/tests/ex03_long_poll.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A message: its sequence number (from 1) and text.
pub type Message = (u64, String);

/// The messages so far, and a way to wait for the next one.
#[derive(Debug, Default)]
pub struct Feed {
    state: Mutex<State>,
    published: Condvar,
}

/// What the mutex protects.
#[derive(Debug, Default)]
pub struct State {
    /// Every message, oldest first; message `n` is at index `n - 1`.
    pub messages: Vec<Message>,
    waiting: usize,
}

impl State {
    /// The messages with a sequence number greater than `since`.
    pub fn newer_than(&self, since: u64) -> Vec<Message> {
        self.messages.iter().filter(|(seq, _)| *seq > since).cloned().collect()
    }
}

impl Feed {
    /// An empty feed.
    pub fn new() -> Feed {
        Feed::default()
    }

    /// Adds a message, wakes every waiter, and returns the message's sequence number.
    pub fn publish(&self, text: &str) -> u64 {
        let mut state = self.lock();
        let seq = state.messages.len() as u64 + 1;
        state.messages.push((seq, text.to_owned()));
        self.published.notify_all();
        seq
    }

    /// Locks the state. Hold the guard while you look at the messages and while you wait.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until a message is published or `timeout` passes, giving the lock up meanwhile
    /// (`Condvar::wait_timeout`). It may also return early for no reason (a "spurious wakeup"),
    /// so look at the messages again after every call.
    pub fn wait<'a>(&'a self, mut guard: MutexGuard<'a, State>, timeout: Duration) -> MutexGuard<'a, State> {
        guard.waiting += 1;
        let (mut guard, _timed_out) =
            self.published.wait_timeout(guard, timeout).unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.waiting -= 1;
        guard
    }

    /// How many threads are inside [`Feed::wait`] right now.
    pub fn waiting(&self) -> usize {
        self.lock().waiting
    }
}

/// The long poll: the messages newer than `since`, as soon as there is at least one, or an
/// empty list once `timeout` has passed without any (the server then answers
/// `204 No Content`).
///
/// If there are newer messages already, return them at once. Otherwise wait with
/// [`Feed::wait`] and look again, until there are some or the time is up. Remember that a wait
/// may end early: use a deadline (`Instant::now() + timeout`) and wait only for what is left.
pub fn wait_newer(feed: &Feed, since: u64, timeout: Duration) -> Vec<Message> {
    todo!("exercise 3: lock, check `newer_than`, and otherwise `wait` until the deadline")
}
