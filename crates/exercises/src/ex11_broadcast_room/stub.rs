//! # Exercise 11: a room where a slow client cannot stall the others
//!
//! Chapter: *When clients misbehave*. About 25 minutes.
//!
//! A chat room sends every message to every member. If it waited for each member to take the
//! message, one member that stopped reading (a phone in a tunnel) would stall the whole room; if
//! it queued without limit, that member would use up the server's memory. The way out: a small
//! queue per member, and a member whose queue is full is dropped.

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 11`. The tests are in crates/exercises/tests/ex11_broadcast_room.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

use tokio::sync::mpsc;

/// A chat room: each member has a bounded queue of messages not yet sent to it.
#[derive(Debug, Default)]
pub struct Room {
    members: Vec<mpsc::Sender<String>>,
}

impl Room {
    /// An empty room.
    pub fn new() -> Room {
        Room::default()
    }

    /// Adds a member whose queue holds at most `capacity` messages; the member reads its
    /// messages from the returned receiver.
    pub fn join(&mut self, capacity: usize) -> mpsc::Receiver<String> {
        let (sender, receiver) = mpsc::channel(capacity);
        self.members.push(sender);
        receiver
    }

    /// How many members the room has.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the room has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Queues `message` for every member, without ever waiting, and returns how many members
    /// got it.
    ///
    /// A member whose queue is full, or who has gone (its receiver was dropped), is removed
    /// from the room: dropping its sender closes its channel, so it reads the messages already
    /// queued and then learns it was disconnected. Use `try_send`, never `send().await`: this
    /// function must not wait for anyone.
    pub fn broadcast(&mut self, message: &str) -> usize {
        todo!("exercise 11: `try_send` to each member; keep only those it worked for (`retain`)")
    }
}
