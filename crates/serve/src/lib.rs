//! # serve: the serving layer the WebSocket chapters share
//!
//! What every WebSocket server and client in the workspace needs from tungstenite and tiny_http,
//! written once: the handshake with an HTTP answer for every refusal, the limits as tungstenite's
//! configuration, the close code each error deserves, the ways a server closes, the blocking
//! echo session that runs on tiny_http's upgraded connections, a client that connects with a
//! chosen key, and the tiny_http plumbing of the three servers built on it (the book server, the
//! feed, one-port). The echo chapter ("The WebSocket echo") explains these pieces; the heartbeat,
//! request–response and one-port chapters use them. The proxy and chat chapters start a real nginx
//! in front of their servers through [`nginx`].
//!
//! The limits themselves, the accept loop and the Origin check are in `guard`, which has no
//! tungstenite (the by-hand server uses it); the bytes are decoded by `wire`.
//!
//! # Layout
//! - [`limits`]: the shared limits as tungstenite's configuration, and each tungstenite error's
//!   close code.
//! - [`accept`]: the server's side of the opening handshake, with an HTTP error for every refusal
//!   (tokio-tungstenite's own `accept_async` just closes the socket).
//! - [`close`]: how a server ends a connection: the close handshake, the lingering close after an
//!   error, and giving up on a client that stopped reading.
//! - [`backoff`]: how long a client waits before reconnecting: exponential backoff with full
//!   jitter, capped (the heartbeat chapter explains it; the chat chapter's clients use it too).
//! - [`blocking`]: the echo on blocking tungstenite, for a thread per connection and for the
//!   streams tiny_http hands over after an upgrade.
//! - [`client`]: connecting with a chosen `Sec-WebSocket-Key`, and the echo chapter's scripted
//!   session, through a Tap.
//! - [`nginx`]: a real nginx in front of a chapter's servers, for a demo or a test: its own
//!   folder, a socket we bound and it inherits, stopped with its whole process group.
//! - [`tiny`]: serving on the vendored, patched tiny_http: the shared limits, a thread per
//!   request, refusals in the same bytes as every other server, and the upgrade hand-off.

pub mod accept;
pub mod backoff;
pub mod blocking;
pub mod client;
pub mod close;
pub mod limits;
pub mod nginx;
pub mod tiny;

pub use close::Ending;
pub use guard::Limits;
pub use limits::TungsteniteConfig;

/// The path the echo answers on, in the echo chapter's server, the book server and one-port.
pub const ECHO_PATH: &str = "/ws/echo";

/// What can go wrong in a WebSocket client or demo.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The WebSocket library reported an error.
    #[error("WebSocket error: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// The peer said something the script did not expect.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// A URL could not be used.
    #[error("bad URL {url:?}: {why}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
}
