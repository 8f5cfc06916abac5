//! # ws-echo: the WebSocket echo chapter
//!
//! The book's chapter "The WebSocket echo" runs this crate: a server that sends every message
//! back, a client that talks to it, and the recorded exchange between them that the book shows
//! byte for byte. The server answers bad handshakes with real HTTP errors and broken frames with
//! the right close code, because a teaching server that falls over teaches the wrong lesson.
//!
//! What every WebSocket server shares (the handshake with HTTP errors, the close code for each
//! error, the ways to close, the client with a chosen key) is in the `serve` crate; the limits
//! and the accept loop are in `guard`. This crate is the chapter's own code on top of them.
//!
//! # Layout
//! - [`server`]: the async echo server on tokio-tungstenite, one task per connection.
//! - [`blocking`]: the same echo with a thread per connection (`ws-echo-server --blocking`).
//! - [`demo`]: server, Tap and client together: the exchange `just ws-echo` prints and the
//!   snapshot test freezes, and the chapter's table of demos.
//! - `bin/server.rs`, `bin/client.rs`, `bin/demo.rs`: `ws-echo-server`, `ws-echo-client` and
//!   `ws-echo-demo`, the programs the chapter runs.

pub mod blocking;
pub mod demo;
pub mod server;

pub use serve::{Error, Limits, TungsteniteConfig};

/// The path the echo answers on, here and in the book server.
pub const PATH: &str = serve::ECHO_PATH;
