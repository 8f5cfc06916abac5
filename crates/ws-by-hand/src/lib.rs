//! # ws-by-hand: a WebSocket server from a TCP stream and the codec alone
//!
//! The book's chapter "Socket versus WebSocket" ends with this crate: a WebSocket echo server that
//! uses no WebSocket library, only a tokio `TcpStream` and the `wire` crate's handshake and frame
//! codec. It reads the upgrade request, answers `101` with the computed accept key, unmasks
//! frames, reassembles fragments, answers pings, echoes, and runs the close handshake, and it
//! fails the connection with the right close code for every rule of RFC 6455 §5 and §7 a client
//! can break. A test runs the tungstenite echo's client session against it and against the
//! tungstenite echo and finds the two transcripts identical. With `--deflate` it also speaks
//! permessage-deflate (RFC 7692), the compression every browser offers: the book's chapter
//! "Compression" shows it.
//!
//! # Layout
//! - [`limits`]: the named limits (message size, head size, handshake and close timeouts).
//! - [`handshake`]: reading the upgrade request and answering `101` or an HTTP error, with the
//!   extension negotiated if compression is on.
//! - [`session`]: the protocol after the handshake as a state machine without I/O: the rules,
//!   fragments, pings, the close handshake, and compressed messages.
//! - [`compression`]: `--deflate` and its parameters as command-line flags.
//! - [`server`]: `serve(listener, limits)`, a task per connection, each a loop of reads and writes
//!   around a [`session::Session`].
//! - [`client`]: a client by hand that sends exactly the frames it is given, good or bad.
//! - [`demo`]: the chapter's exchanges through the Tap.

pub mod client;
pub mod compression;
pub mod demo;
pub mod handshake;
pub mod limits;
pub mod server;
pub mod session;

pub use limits::Limits;

/// The path the by-hand echo answers on: the same as the tungstenite echo's, so one client session
/// runs against both.
pub const PATH: &str = "/ws/echo";

/// The key from RFC 6455 §1.3, whose accept value the RFC works out: demos use it so the
/// transcript shows the RFC's example. Real clients send a fresh random key (§4.1).
pub const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The three messages the chapter sends over every transport (as `tcp_socket::THREE_MESSAGES`).
pub const THREE_MESSAGES: [&str; 3] = ["hello", "how are you?", "bye"];
