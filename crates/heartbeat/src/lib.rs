//! # heartbeat: the chapter "Heartbeat and every way a connection ends"
//!
//! A WebSocket that nobody talks to can be dead for hours without either side knowing: a pulled
//! cable, a NAT box that forgot the mapping, a laptop asleep. TCP sends nothing on an idle
//! connection, so nothing fails. This crate finds out, with pings, and comes back without losing
//! a message, with sequence numbers and a replay buffer. It also records every way a WebSocket
//! can end, each with the close code it carries or the one it never carries.
//!
//! Time is a parameter everywhere: the code uses tokio's clock, which a test pauses, and runs
//! over any `AsyncRead + AsyncWrite` stream, so the timed transcripts are recorded over
//! in-memory pipes ([`wire::MemoryTap`]) where every timer fires at an exact virtual instant.
//!
//! # Layout
//! - [`config`]: the heartbeat's interval and missed-pong limit, the idle timeout, and the
//!   server's settings, as named constants with the reason for each value.
//! - [`liveness`]: the "is it alive?" counter, sans-I/O: tick → ping or give up; pong → alive.
//! - [`server`]: the pinging echo server: heartbeat, idle timeout, graceful shutdown (1001), and
//!   how each connection ended.
//! - [`watchdog`]: the client's side: notice a server that has gone silent.
//! - [`endings`]: every way a connection ends, each run through the Tap and recorded with what
//!   each application saw.
//! - [`backoff`]: exponential backoff with full jitter, capped, on an injected random generator
//!   (in the shared `serve` crate, since the chat chapter's clients reconnect the same way).
//! - [`replay`]: sequence numbers and the bounded replay buffer, sans-I/O.
//! - [`resume`]: the feed server that replays on reconnect, and the client that reconnects and
//!   resumes without loss or duplicate; the recorded runs the chapter shows.
//! - [`demo`]: what `just heartbeat` shows live: a healthy connection pinging, or (with
//!   `--blackhole`) a dead peer found and dropped.

pub mod config;
pub mod demo;
pub mod endings;
pub mod liveness;
pub mod replay;
pub mod resume;
pub mod server;
pub mod watchdog;

pub use config::{Heartbeat, Settings};
/// The reconnect backoff, shared with the chat chapter (it lives in `serve`).
pub use serve::backoff;

/// The path the pinging echo answers on.
pub const PATH: &str = "/ws/heartbeat";

/// The path the resumable feed answers on.
pub const FEED_PATH: &str = "/ws/feed";

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The WebSocket library reported an error.
    #[error("WebSocket error: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// The echo chapter's code (handshake, client) failed.
    #[error(transparent)]
    Echo(#[from] serve::Error),
    /// The peer said something the script did not expect.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}
