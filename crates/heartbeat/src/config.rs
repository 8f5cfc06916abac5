//! The heartbeat's settings, each a named constant with the reason for its value.
//!
//! | setting | default | what happens |
//! | --- | --- | --- |
//! | [`INTERVAL`] | 20 s | the server pings each connection this often |
//! | [`MAX_MISSED`] | 2 | this many unanswered pings in a row and the connection is dropped |
//! | [`IDLE_TIMEOUT`] | 5 min | no message from the client for this long: close 1000 "idle" |
//! | [`SHUTDOWN_CODE`] | 1001 | what every connection is told when the server shuts down |

use std::time::Duration;

use wire::CloseCode;

/// How often the server pings. It must be shorter than the shortest idle timeout between the two
/// ends, so that a ping crosses every proxy and NAT before it forgets the connection: nginx closes
/// a proxied connection after 60 s without traffic (`proxy_read_timeout`). 20 s is also Python
/// `websockets`' default; each ping costs 6 bytes and its pong 6 to 10.
pub const INTERVAL: Duration = Duration::from_secs(20);

/// Unanswered pings tolerated in a row. One missed pong can be a busy peer (a pong is only
/// written when the peer's program next reads, see the chapter); two in a row, 40 s of silence
/// at the default interval, is a connection worth giving up on.
pub const MAX_MISSED: u32 = 2;

/// How long a connection may go without an application message before the server closes it
/// (every Duplex server's idle timeout, from the `guard` crate). Here pings and pongs do not
/// count: they prove the connection is alive, not that anyone is using it, and this server's own
/// pings would otherwise keep every connection open for ever.
pub use guard::limits::IDLE_TIMEOUT;

/// The close code for a server that is shutting down: 1001, going away (RFC 6455 §7.4.1).
pub const SHUTDOWN_CODE: CloseCode = CloseCode::GOING_AWAY;

/// The close code for an idle connection: 1000, normal closure (`guard`'s, shared by every server).
pub use guard::limits::IDLE_CODE;

/// How often to ping and how many missed pongs end a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// Time between pings. See [`INTERVAL`].
    pub interval: Duration,
    /// Pings that may go unanswered in a row. See [`MAX_MISSED`].
    pub max_missed: u32,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat { interval: INTERVAL, max_missed: MAX_MISSED }
    }
}

impl Heartbeat {
    /// A heartbeat every `interval`, giving up after `max_missed` unanswered pings.
    pub fn new(interval: Duration, max_missed: u32) -> Heartbeat {
        Heartbeat { interval, max_missed: max_missed.max(1) }
    }

    /// How long after the first unanswered ping a dead peer is dropped: `max_missed × interval`.
    pub fn detection_time(&self) -> Duration {
        self.interval * self.max_missed
    }
}

/// Everything the pinging server needs to know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// The heartbeat.
    pub heartbeat: Heartbeat,
    /// Every server's limits: message size, handshake, idle and close timeouts, connections.
    /// `limits.idle_timeout` is [`IDLE_TIMEOUT`], counted in application messages only.
    pub limits: serve::Limits,
}

/// The default limits without an idle timeout, for demos and tests that must not be cut short
/// by it.
pub fn no_idle() -> serve::Limits {
    serve::Limits { idle_timeout: None, ..Default::default() }
}
