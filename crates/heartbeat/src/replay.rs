//! Sequence numbers and the bounded replay buffer, sans-I/O.
//!
//! Every message the server publishes gets the next sequence number, from 1, and is kept in a
//! buffer of the last `capacity` messages. A client that reconnects says the last number it saw;
//! the server sends everything after it, if it still has it. If it does not, the gap is too old
//! to replay, and saying so clearly is the server's job: the client must then start over by
//! other means (reload the page, fetch the state over HTTP) instead of silently missing messages.

use std::collections::VecDeque;

use wire::CloseCode;

/// How many messages the feed keeps for clients that come back. At one message a second, 1,024
/// covers a client that was gone for 17 minutes (a laptop lid closed for a meeting); each
/// message here is a few dozen bytes, so the buffer costs tens of kilobytes.
pub const CAPACITY: usize = 1024;

/// The close code for "the gap is too old to replay": 4410, in the range RFC 6455 §7.4.2 leaves
/// to applications (4000–4999), echoing HTTP's `410 Gone` as many applications' codes echo HTTP
/// statuses. A close code, not a message, because the connection cannot usefully go on, and
/// every client library reports a close code to its application, even one that ignores
/// messages it does not understand.
pub const GAP_TOO_OLD: CloseCode = CloseCode(4410);

/// One published message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Numbered {
    /// Its sequence number, from 1.
    pub seq: u64,
    /// Its body.
    pub body: String,
}

impl Numbered {
    /// The message on the wire: `"17 the body"`.
    pub fn to_wire(&self) -> String {
        format!("{} {}", self.seq, self.body)
    }

    /// Parses `"17 the body"`.
    pub fn from_wire(text: &str) -> Option<Numbered> {
        let (seq, body) = text.split_once(' ')?;
        Some(Numbered { seq: seq.parse().ok()?, body: body.to_owned() })
    }
}

/// Why the server cannot replay from where the client says it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The messages after `last_seen` were dropped from the buffer.
    #[error("cannot replay after {last_seen}: the oldest message kept is {oldest}")]
    TooOld {
        /// What the client saw last.
        last_seen: u64,
        /// The oldest message the buffer still has.
        oldest: u64,
    },
    /// The client says it saw a message that was never published (a server that restarted and
    /// lost its buffer, or a client confused).
    #[error("cannot replay after {last_seen}: the latest message is {latest}")]
    Ahead {
        /// What the client saw last.
        last_seen: u64,
        /// The latest message published.
        latest: u64,
    },
}

/// The last `capacity` messages.
// ANCHOR: buffer
#[derive(Clone, Debug)]
pub struct ReplayBuffer {
    capacity: usize,
    kept: VecDeque<Numbered>,
    latest: u64,
}

impl ReplayBuffer {
    /// An empty buffer that keeps at most `capacity` messages (at least 1).
    pub fn new(capacity: usize) -> ReplayBuffer {
        ReplayBuffer { capacity: capacity.max(1), kept: VecDeque::new(), latest: 0 }
    }

    /// Numbers a message, keeps it (forgetting the oldest if full) and returns its number.
    pub fn push(&mut self, body: impl Into<String>) -> u64 {
        self.latest += 1;
        if self.kept.len() == self.capacity {
            self.kept.pop_front();
        }
        self.kept.push_back(Numbered { seq: self.latest, body: body.into() });
        self.latest
    }

    /// Every message after `last_seen`, oldest first, or why they cannot be replayed.
    pub fn after(&self, last_seen: u64) -> Result<Vec<Numbered>, ReplayError> {
        if last_seen > self.latest {
            return Err(ReplayError::Ahead { last_seen, latest: self.latest });
        }
        let oldest = self.kept.front().map_or(self.latest + 1, |m| m.seq);
        if last_seen + 1 < oldest {
            return Err(ReplayError::TooOld { last_seen, oldest });
        }
        // Sequence numbers are consecutive, so the position is arithmetic, not a search.
        let skip = usize::try_from(last_seen + 1 - oldest).unwrap_or(usize::MAX);
        Ok(self.kept.iter().skip(skip).cloned().collect())
    }
}
// ANCHOR_END: buffer

impl ReplayBuffer {
    /// The latest sequence number, 0 before the first message.
    pub fn latest(&self) -> u64 {
        self.latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(messages: &[Numbered]) -> Vec<u64> {
        messages.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn a_client_gets_exactly_what_it_missed() {
        let mut buffer = ReplayBuffer::new(4);
        for n in 1..=6 {
            assert_eq!(buffer.push(format!("m{n}")), n);
        }
        assert_eq!(seqs(&buffer.after(2).unwrap()), [3, 4, 5, 6], "the buffer still has 3–6");
        assert_eq!(seqs(&buffer.after(5).unwrap()), [6]);
        assert!(buffer.after(6).unwrap().is_empty(), "up to date: nothing to replay");
    }

    #[test]
    fn a_gap_older_than_the_buffer_is_refused_not_silently_skipped() {
        let mut buffer = ReplayBuffer::new(4);
        for n in 1..=6 {
            buffer.push(format!("m{n}"));
        }
        assert_eq!(buffer.after(1), Err(ReplayError::TooOld { last_seen: 1, oldest: 3 }));
        assert_eq!(buffer.after(9), Err(ReplayError::Ahead { last_seen: 9, latest: 6 }));
    }

    #[test]
    fn messages_travel_as_number_space_body() {
        let m = Numbered { seq: 17, body: "hello there".into() };
        assert_eq!(m.to_wire(), "17 hello there");
        assert_eq!(Numbered::from_wire("17 hello there"), Some(m));
        assert_eq!(Numbered::from_wire("hello"), None);
    }
}
