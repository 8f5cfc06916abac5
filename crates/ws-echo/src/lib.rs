//! # ws-echo: the WebSocket echo chapter
//!
//! The book's chapter "The WebSocket echo" runs this crate: a server that sends every message
//! back, a client that talks to it, and the recorded exchange between them that the book shows
//! byte for byte. The server answers bad handshakes with real HTTP errors and broken frames with
//! the right close code, because a teaching server that falls over teaches the wrong lesson.
//!
//! # Layout
//! - [`limits`]: the limits (shared with every server through the `guard` crate) as tungstenite's
//!   configuration, and the mapping from tungstenite's errors to close codes.
//! - [`accept`]: the server's side of the handshake, on top of `wire::handshake`, with an HTTP
//!   error for every refusal (tokio-tungstenite's own `accept_async` just closes the socket).
//! - [`server`]: the async echo server on tokio-tungstenite.
//! - [`blocking`]: the same echo on blocking tungstenite, for a thread per connection (the book
//!   server uses it behind tiny_http).
//! - [`client`]: connecting with a chosen `Sec-WebSocket-Key`, and the chapter's scripted session.
//! - [`demo`]: server, Tap and client together: the exchange `just ws-echo` prints and the
//!   snapshot test freezes.

pub mod accept;
pub mod blocking;
pub mod client;
pub mod demo;
pub mod limits;
pub mod server;

pub use limits::{Limits, TungsteniteConfig};

/// The path the echo answers on, here and in the book server.
pub const PATH: &str = "/ws/echo";

/// What can go wrong in this crate.
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
