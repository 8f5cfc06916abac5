//! The chat's few rules on top of WebSocket, sans-I/O: where a room is, what the server says
//! first, how a message is written, and the ids that let a client resume.
//!
//! ```text
//! GET /ws/chat/lobby HTTP/1.1                     join the room "lobby"
//! GET /ws/chat/lobby?after=1717171717171-0        join it again, after the last message you have
//! S→C "joined lobby on server A"                  the first frame: which room, which server
//! S→C "joined lobby on server A at 1717…-0"       with Redis Streams: and where the client now is
//! C→S "hi"                                        a message (at-most-once servers)
//! C→S "alice-1 hi"                                a message with its key (the Streams server)
//! S→C "hi"                                        every member gets it, the sender too
//! S→C "1717171717171-0 alice-1 hi"                with Redis Streams: the stream id first
//! ```
//!
//! The room is in the path and the resume point in the query string because a browser cannot
//! set headers on the handshake (WHATWG WebSockets): `new WebSocket(url)` is all a page has.
//! Server-Sent Events carry the same idea in their `Last-Event-ID` header.

use std::fmt;
use std::str::FromStr;

/// Where the rooms are: `/ws/chat/NAME`.
pub const PATH_PREFIX: &str = "/ws/chat/";

/// The longest room name, and the longest message key: a URL segment, not a document.
pub const MAX_NAME: usize = 64;

/// A Redis stream entry id, `MILLISECONDS-SEQUENCE` (Redis assigns them in increasing order, so
/// they compare like the pair of numbers they are).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// Milliseconds since 1970 on the Redis server's clock when the entry was added.
    pub ms: u64,
    /// The entry's number within that millisecond.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`: before any entry (an empty stream's position).
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A text that is not a stream id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a stream id (MILLISECONDS-SEQUENCE): {0:?}")]
pub struct BadId(pub String);

impl FromStr for StreamId {
    type Err = BadId;

    fn from_str(text: &str) -> Result<StreamId, BadId> {
        let bad = || BadId(text.to_owned());
        let (ms, seq) = text.split_once('-').ok_or_else(bad)?;
        let number = |s: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse::<u64>().map_err(|_| bad())
        };
        Ok(StreamId { ms: number(ms)?, seq: number(seq)? })
    }
}

/// Whether `name` may name a room or a message key: 1 to [`MAX_NAME`] letters, digits, `-`, `_`
/// or `.`. (Nothing to escape in a URL, a Redis key or a log line.)
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// What a client asked for in its request target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Join {
    /// The room's name.
    pub room: String,
    /// The last message the client has, if it is coming back.
    pub after: Option<StreamId>,
}

impl Join {
    /// The request target for this join: `/ws/chat/lobby` or `/ws/chat/lobby?after=ID`.
    pub fn target(&self) -> String {
        match self.after {
            Some(id) => format!("{PATH_PREFIX}{}?after={id}", self.room),
            None => format!("{PATH_PREFIX}{}", self.room),
        }
    }

    /// Reads a request target. `Err` carries the reason, for a `404` (wrong path) or `400`
    /// (a bad `after`).
    pub fn parse(target: &str) -> Result<Join, (u16, String)> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let Some(room) = path.strip_prefix(PATH_PREFIX).filter(|room| valid_name(room)) else {
            return Err((404, format!("nothing at {path}; rooms are at {PATH_PREFIX}NAME")));
        };
        let mut after = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            if let Some(id) = pair.strip_prefix("after=") {
                after = Some(id.parse::<StreamId>().map_err(|e| (400, e.to_string()))?);
            }
        }
        Ok(Join { room: room.to_owned(), after })
    }
}

/// The Redis channel (pub/sub) or stream key (Streams) of a room.
pub fn redis_key(room: &str) -> String {
    format!("room:{room}")
}

/// The room a Redis channel or stream key names, if it is one of ours.
pub fn room_of(key: &str) -> Option<&str> {
    key.strip_prefix("room:")
}

/// The server's first frame: which room, which server, and with Streams where the client is.
pub fn welcome(room: &str, server: &str, at: Option<StreamId>) -> String {
    match at {
        Some(id) => format!("joined {room} on server {server} at {id}"),
        None => format!("joined {room} on server {server}"),
    }
}

/// A stream entry as the server sends it: `"ID BODY"`.
pub fn entry_text(id: StreamId, body: &str) -> String {
    format!("{id} {body}")
}

/// A message with its key, as a client of the Streams server sends it: `"KEY TEXT"`. The key is
/// the client's own name for the message (`alice-17`): a resend after a reconnect carries the same
/// key, and the server stores it once.
pub fn keyed(key: &str, text: &str) -> String {
    format!("{key} {text}")
}

/// Splits `"KEY TEXT"`; `None` if the key is missing or not a [`valid_name`].
pub fn split_key(body: &str) -> Option<(&str, &str)> {
    let (key, text) = body.split_once(' ').unwrap_or((body, ""));
    valid_name(key).then_some((key, text))
}

/// A frame from the server, as a client reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// The first frame.
    Welcome {
        /// The room.
        room: String,
        /// The server's name.
        server: String,
        /// With Streams: the client's position now.
        at: Option<StreamId>,
    },
    /// A stream entry: its id and body.
    Entry {
        /// The entry's id.
        id: StreamId,
        /// What the sender sent (`KEY TEXT`).
        body: String,
    },
    /// A message from an at-most-once server: the text as sent.
    Plain(String),
}

impl Incoming {
    /// Reads a frame. `streams` says whether the server numbers its messages (then every frame
    /// after the welcome starts with an id).
    pub fn parse(text: &str, streams: bool) -> Incoming {
        if let Some(rest) = text.strip_prefix("joined ") {
            let mut words = rest.split(' ');
            if let (Some(room), Some("on"), Some("server"), Some(server)) =
                (words.next(), words.next(), words.next(), words.next())
            {
                let at = match (words.next(), words.next()) {
                    (Some("at"), Some(id)) => id.parse().ok(),
                    _ => None,
                };
                return Incoming::Welcome { room: room.to_owned(), server: server.to_owned(), at };
            }
        }
        if streams
            && let Some((id, body)) = text.split_once(' ')
            && let Ok(id) = id.parse()
        {
            return Incoming::Entry { id, body: body.to_owned() };
        }
        Incoming::Plain(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_read_write_and_compare_as_pairs_of_numbers() {
        let a: StreamId = "1717171717171-0".parse().unwrap();
        let b: StreamId = "1717171717171-1".parse().unwrap();
        let c: StreamId = "1717171717172-0".parse().unwrap();
        assert!(a < b && b < c, "same millisecond: by sequence; else by time");
        assert_eq!(a.to_string(), "1717171717171-0");
        assert_eq!("0-0".parse::<StreamId>().unwrap(), StreamId::ZERO);
        for bad in ["", "12", "-1", "1-", "a-1", "1-2-3", "+1-2"] {
            assert!(bad.parse::<StreamId>().is_err(), "{bad:?} is not an id");
        }
    }

    #[test]
    fn a_join_reads_the_room_from_the_path_and_the_resume_point_from_the_query() {
        assert_eq!(Join::parse("/ws/chat/lobby"), Ok(Join { room: "lobby".into(), after: None }));
        let back = Join::parse("/ws/chat/lobby?after=5-1").unwrap();
        assert_eq!(back.after, Some(StreamId { ms: 5, seq: 1 }));
        assert_eq!(back.target(), "/ws/chat/lobby?after=5-1", "a join writes back what it read");
        assert_eq!(Join::parse("/ws/echo").unwrap_err().0, 404);
        assert_eq!(Join::parse("/ws/chat/").unwrap_err().0, 404, "a room needs a name");
        assert_eq!(Join::parse("/ws/chat/a/b").unwrap_err().0, 404, "one path segment");
        assert_eq!(Join::parse("/ws/chat/lobby?after=yesterday").unwrap_err().0, 400);
    }

    #[test]
    fn frames_read_back_as_what_the_server_meant() {
        let id = StreamId { ms: 7, seq: 0 };
        assert_eq!(
            Incoming::parse(&welcome("lobby", "A", Some(id)), true),
            Incoming::Welcome { room: "lobby".into(), server: "A".into(), at: Some(id) }
        );
        assert_eq!(
            Incoming::parse(&welcome("lobby", "B", None), false),
            Incoming::Welcome { room: "lobby".into(), server: "B".into(), at: None }
        );
        assert_eq!(
            Incoming::parse(&entry_text(id, "alice-1 hi"), true),
            Incoming::Entry { id, body: "alice-1 hi".into() }
        );
        assert_eq!(
            Incoming::parse("7-0 looks like an id", false),
            Incoming::Plain("7-0 looks like an id".into())
        );
        assert_eq!(split_key("alice-1 hi there"), Some(("alice-1", "hi there")));
        assert_eq!(split_key("no key"), Some(("no", "key")), "the first word is the key");
        assert_eq!(split_key(" nothing"), None);
    }
}
