//! The rooms of one server process, in memory: each member has a bounded queue, and a broadcast
//! never waits for anyone.
//!
//! A broadcast puts the message in every member's queue with `try_send`, which either succeeds at
//! once or fails at once. Each member's own task takes messages out of its queue and writes them
//! to its socket, as fast as that client reads. A client that stops reading (a phone in a tunnel,
//! a frozen tab) lets its queue fill up; the next broadcast finds it full, removes the member from
//! the room and tells its task to close the connection with 1013 ("try again later"). The room
//! goes on at the speed of its other members, and the server's memory for that client is bounded
//! by [`QUEUE`] messages. The same idea is exercise 11's; this is the chapter's version of it.
//!
//! The message itself is shared: each queue holds a reference-counted copy ([`Utf8Bytes`]), so
//! a broadcast to 10,000 members copies 10,000 pointers, not 10,000 messages.
//!
//! ```text
//!  broadcast ─try_send─▶ [queue alice ■■□□] ─▶ alice's task ─▶ socket
//!            ─try_send─▶ [queue bob   ■■■■] full: bob is cut, close 1013
//!            ─try_send─▶ [queue carol □□□□] ─▶ carol's task ─▶ socket
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, oneshot, watch};
use tungstenite::Utf8Bytes;

use crate::protocol::StreamId;

/// How many messages a member may be behind before it is cut. A chat client that is a few
/// hundred messages behind is not reading; 256 pointers cost 4 KiB per member, and a burst of a
/// few hundred messages still reaches a client that reads at a normal pace.
pub const QUEUE: usize = 256;

/// The reason in the close frame of a member cut for being slow.
pub fn cut_reason(queue: usize) -> String {
    format!("too slow: {queue} messages behind")
}

/// One message on its way to the members of a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Its stream id, when the server reads a Redis stream (a client resumes after it).
    pub id: Option<StreamId>,
    /// The text frame's payload, shared by every queue it is in.
    pub text: Utf8Bytes,
}

impl Delivery {
    /// A message with no id (the in-memory and pub/sub servers).
    pub fn plain(text: impl Into<Utf8Bytes>) -> Delivery {
        Delivery { id: None, text: text.into() }
    }
}

/// What one broadcast did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fanout {
    /// Members whose queue took the message.
    pub queued: usize,
    /// Members cut because their queue was full.
    pub cut: usize,
}

struct Member {
    id: u64,
    queue: mpsc::Sender<Delivery>,
    /// Fired (once) when the member is cut for being too slow.
    cut: Option<oneshot::Sender<()>>,
}

/// Every room of one server. See the module docs.
pub struct Rooms {
    rooms: Mutex<HashMap<String, Vec<Member>>>,
    queue: usize,
    next_id: AtomicU64,
    /// How many members have been cut for being slow, for tests and the log.
    cuts: watch::Sender<u64>,
}

impl std::fmt::Debug for Rooms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rooms").field("queue", &self.queue).field("cuts", &*self.cuts.borrow()).finish()
    }
}

/// A member's place in a room: its queue's receiving end, and the signal that it was cut. Dropping
/// it leaves the room.
pub struct Membership {
    rooms: Arc<Rooms>,
    room: String,
    id: u64,
    /// The messages for this member, oldest first.
    pub queue: mpsc::Receiver<Delivery>,
    /// Completes when the member has been cut for being slow (the sender is dropped, and so the
    /// receiver errors, when the member left normally).
    pub cut: oneshot::Receiver<()>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.rooms.leave(&self.room, self.id);
    }
}

impl Rooms {
    /// No rooms yet; every member will get a queue of `queue` messages (at least 1).
    pub fn new(queue: usize) -> Arc<Rooms> {
        Arc::new(Rooms {
            rooms: Mutex::new(HashMap::new()),
            queue: queue.max(1),
            next_id: AtomicU64::new(1),
            cuts: watch::Sender::new(0),
        })
    }

    /// Adds a member to `room` (creating the room), and returns its membership.
    pub fn join(self: &Arc<Self>, room: &str) -> Membership {
        let (queue, receiver) = mpsc::channel(self.queue);
        let (cut, cut_signal) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let member = Member { id, queue, cut: Some(cut) };
        self.lock().entry(room.to_owned()).or_default().push(member);
        Membership { rooms: self.clone(), room: room.to_owned(), id, queue: receiver, cut: cut_signal }
    }

    fn leave(&self, room: &str, id: u64) {
        let mut rooms = self.lock();
        if let Some(members) = rooms.get_mut(room) {
            members.retain(|m| m.id != id);
            if members.is_empty() {
                rooms.remove(room);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Member>>> {
        // Nothing here can panic halfway through a change; a poisoned lock still holds whole data.
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: broadcast
    /// Queues `delivery` for every member of `room`, waiting for nobody. A member whose queue is
    /// full is removed and told it was cut; one that has gone is removed.
    pub fn broadcast(&self, room: &str, delivery: &Delivery) -> Fanout {
        let mut fanout = Fanout::default();
        let mut rooms = self.lock();
        let Some(members) = rooms.get_mut(room) else { return fanout };
        members.retain_mut(|member| match member.queue.try_send(delivery.clone()) {
            Ok(()) => {
                fanout.queued += 1;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                if let Some(cut) = member.cut.take() {
                    let _ = cut.send(());
                }
                fanout.cut += 1;
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if members.is_empty() {
            rooms.remove(room);
        }
        drop(rooms);
        if fanout.cut > 0 {
            self.cuts.send_modify(|cuts| *cuts += fanout.cut as u64);
        }
        fanout
    }
    // ANCHOR_END: broadcast

    /// How many members `room` has now.
    pub fn members(&self, room: &str) -> usize {
        self.lock().get(room).map_or(0, Vec::len)
    }

    /// The rooms that have members now.
    pub fn names(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// How many members have been cut for being slow so far; `wait_for` on it waits for a cut.
    pub fn cuts(&self) -> watch::Receiver<u64> {
        self.cuts.subscribe()
    }

    /// The size of each member's queue.
    pub fn queue(&self) -> usize {
        self.queue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_broadcast_reaches_every_member_and_only_that_room() {
        let rooms = Rooms::new(4);
        let mut alice = rooms.join("lobby");
        let mut bob = rooms.join("lobby");
        let mut carol = rooms.join("kitchen");
        let fanout = rooms.broadcast("lobby", &Delivery::plain("hi"));
        assert_eq!(fanout, Fanout { queued: 2, cut: 0 });
        assert_eq!(alice.queue.recv().await.unwrap().text.as_str(), "hi");
        assert_eq!(bob.queue.recv().await.unwrap().text.as_str(), "hi");
        assert!(carol.queue.try_recv().is_err(), "another room hears nothing");
    }

    #[tokio::test]
    async fn a_member_whose_queue_is_full_is_cut_and_the_others_go_on() {
        let rooms = Rooms::new(2);
        let mut fast = rooms.join("lobby");
        let mut slow = rooms.join("lobby");
        let mut cuts = rooms.cuts();
        for n in 1..=2 {
            rooms.broadcast("lobby", &Delivery::plain(format!("m{n}")));
            assert_eq!(fast.queue.recv().await.unwrap().text.as_str(), format!("m{n}"));
        }
        // The slow member has read nothing: its queue of 2 is full, so the third message cuts it.
        let fanout = rooms.broadcast("lobby", &Delivery::plain("m3"));
        assert_eq!(fanout, Fanout { queued: 1, cut: 1 });
        assert_eq!(fast.queue.recv().await.unwrap().text.as_str(), "m3", "the fast member is not held up");
        assert!(slow.cut.try_recv().is_ok(), "the slow member's task is told");
        assert_eq!(*cuts.wait_for(|n| *n == 1).await.unwrap(), 1);
        assert_eq!(rooms.members("lobby"), 1);
        // What was queued before the cut is still there for its task to send, then the queue ends.
        assert_eq!(slow.queue.recv().await.unwrap().text.as_str(), "m1");
        assert_eq!(slow.queue.recv().await.unwrap().text.as_str(), "m2");
        assert!(slow.queue.recv().await.is_none());
    }

    #[test]
    fn a_member_that_leaves_is_forgotten_and_an_empty_room_with_it() {
        let rooms = Rooms::new(2);
        let alice = rooms.join("lobby");
        let bob = rooms.join("lobby");
        drop(alice);
        assert_eq!(rooms.members("lobby"), 1);
        drop(bob);
        assert!(rooms.names().is_empty());
    }
}
