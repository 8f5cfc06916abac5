//! Limits and timings, each a named constant with the reason for its value.
//!
//! | limit | default | what happens at it |
//! | --- | --- | --- |
//! | [`MAX_WAITERS`] | 128 | long polls, event streams and WebSockets waiting at once; one more gets `503` with `Retry-After` |
//! | [`MAX_WAITERS_PER_CLIENT`] | 32 | the same, from one client address; one more from it gets `503` |
//! | [`MAX_WAIT`] | 30 s | a long poll's `timeout` is cut to this; then `204 No Content` |
//! | [`WAIT_CHECK`] | 250 ms | how often a waiting long poll or event stream looks whether its client has gone |
//! | [`HEARTBEAT`] | 15 s | an idle event stream gets a comment line, an idle WebSocket a ping |
//! | [`RETRY`] | 2 s | told to `EventSource` (`retry:`): how long to wait before reconnecting |
//! | [`HISTORY`] | 1,024 | messages kept for `since` and `Last-Event-ID`; older ones are forgotten |
//! | [`BATCH`] | 100 | most messages in one answer; the client asks again for the rest |
//! | [`MAX_BODY`] | 4 KiB | a larger `POST /messages` body gets `413 Content Too Large` |
//! | [`RETRY_AFTER`] | 5 s | what a `503` tells the client to wait |

use std::time::Duration;

// ANCHOR: max_waiters
/// Most requests that may wait at once: long polls, event streams and WebSocket feeds together.
///
/// Each one holds a thread of this server for as long as it waits (tiny_http is blocking: a
/// request is answered by a thread that can do nothing else meanwhile). The chapter's live page
/// keeps two requests waiting per open tab (its event stream and its WebSocket), so 128 is 64
/// tabs: a room of twenty learners with three tabs each needs 120. A waiting thread costs little
/// memory, because it touches only a few pages of its stack. The 129th waiting client gets
/// `503 Service Unavailable` with `Retry-After` at once, instead of hanging in a queue behind the
/// others.
pub const MAX_WAITERS: usize = 128;
// ANCHOR_END: max_waiters

// ANCHOR: per_client
/// Most requests that may wait at once from one client address (its IP address, whatever the
/// port).
///
/// Without it one client can take all [`MAX_WAITERS`] slots, by accident (a script in a loop) or
/// on purpose, and every other client gets `503` for as long as its requests wait. A quarter of
/// the slots is far more than one browser needs (it opens at most six HTTP/1.1 connections to a
/// server, and the live page keeps two requests waiting per tab), so it takes four addresses to
/// lock everyone out. Clients on this machine (loopback: you, the Tap, a proxy in front) are not
/// counted per address, because everything they relay would share one: through the Tap, 32 would
/// be used up by the sixteenth learner's live page. Clients behind one NAT do share an address,
/// and so this limit: raise it for such a room (`http-poll-server --max-waiters-per-client`).
pub const MAX_WAITERS_PER_CLIENT: usize = 32;
// ANCHOR_END: per_client

/// The longest a long poll may wait. Proxies and load balancers close requests that stay silent
/// longer than their read timeout (nginx's default is 60 s); answering `204` before that keeps the
/// long poll ours to end.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

// ANCHOR: wait_check
/// How often a waiting long poll or event stream looks at its socket to see whether its client
/// has gone ([`presence`](crate::presence)), so that a client that vanishes frees its slot within
/// about this long instead of holding it until the wait ends. A look is one system call that
/// reads nothing: 128 waiting requests looking four times a second cost far less than one page
/// load.
pub const WAIT_CHECK: Duration = Duration::from_millis(250);
// ANCHOR_END: wait_check

/// How often an idle event stream or WebSocket feed says something anyway: an SSE comment line
/// (`: keep-alive`) or a WebSocket ping. It keeps proxies from timing the stream out, and a write
/// to a client that has gone fails. That is how the WebSocket feed on tiny_http learns it may free
/// the slot: its client may send frames at any time, so bytes waiting on its socket say nothing.
/// (An event stream also looks every [`WAIT_CHECK`].)
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The reconnection delay sent to `EventSource` in the stream's first line (`retry: 2000`). The
/// browser's own default is a few seconds; saying it makes the behaviour the same everywhere.
pub const RETRY: Duration = Duration::from_secs(2);

/// Messages the feed remembers. A client that asks with an older `since` or `Last-Event-ID` gets
/// the oldest remembered ones, and can tell from the jump in ids that it missed some.
pub const HISTORY: usize = 1024;

/// Most messages in one answer or one catch-up burst: a client that was away for a long time
/// gets the rest by asking again with the last id it received.
pub const BATCH: usize = 100;

/// Largest body a `POST /messages` may have: every Duplex server's [`guard::limits::MAX_BODY`]
/// (a chat line or a small JSON update fits many times over).
pub use guard::limits::MAX_BODY;

/// The `Retry-After` of a `503`: long enough for some waiting requests to finish.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The limits one server applies. [`Limits::default`] uses the constants above; tests change a
/// few (a smaller [`MAX_WAITERS`], a heartbeat that never fires during a snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_WAITERS`].
    pub max_waiters: usize,
    /// See [`MAX_WAITERS_PER_CLIENT`].
    pub max_waiters_per_client: usize,
    /// See [`MAX_WAIT`].
    pub max_wait: Duration,
    /// See [`WAIT_CHECK`].
    pub wait_check: Duration,
    /// See [`HEARTBEAT`].
    pub heartbeat: Duration,
    /// See [`RETRY`].
    pub retry: Duration,
    /// See [`HISTORY`].
    pub history: usize,
    /// See [`BATCH`].
    pub batch: usize,
    /// See [`MAX_BODY`].
    pub max_body: usize,
    /// See [`RETRY_AFTER`].
    pub retry_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_waiters: MAX_WAITERS,
            max_waiters_per_client: MAX_WAITERS_PER_CLIENT,
            max_wait: MAX_WAIT,
            wait_check: WAIT_CHECK,
            heartbeat: HEARTBEAT,
            retry: RETRY,
            history: HISTORY,
            batch: BATCH,
            max_body: MAX_BODY,
            retry_after: RETRY_AFTER,
        }
    }
}

impl Limits {
    /// The same limits with a heartbeat so long that it never fires while a test or demo runs,
    /// so that a recorded transcript holds exactly the events the script caused.
    pub fn quiet(mut self) -> Limits {
        self.heartbeat = Duration::from_secs(24 * 3600);
        self
    }
}
