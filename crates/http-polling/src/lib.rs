//! # http-polling: what HTTP can do for a page that wants fresh data
//!
//! The book's chapter "Request and response: HTTP, polling and Server-Sent Events" runs this
//! crate. One small message feed is offered four ways on tiny_http — short polling, long
//! polling, Server-Sent Events, and (for contrast) WebSocket — with a client for each, the
//! recorded exchanges the chapter shows. The measurement that compares what each costs
//! (`just compare-transports`) is the `bench` crate's, with every other measurement.
//!
//! HTTP/1.1 lets only the client speak first: a server with news must wait to be asked. Each
//! mode here is a different way of asking, and the Tap shows what each one puts on the wire.
//!
//! # Layout
//! - [`limits`]: every limit and timing as a named constant, with the reason for its value
//!   (how many requests may wait at once, in all and per client, the cap on a long poll, how
//!   often a waiting request looks for its client, the heartbeat).
//! - [`feed`]: numbered messages, a bounded history, the feed's instance, and waiting for the
//!   next message.
//! - [`presence`]: is a waiting request's client still there? A look at its socket.
//! - [`reply`]: strict query parsing (`400` with a reason) and responses written by hand.
//! - [`sse`]: the `text/event-stream` format, the stream writer, and a client-side parser.
//! - [`server`]: the endpoints on tiny_http; [`server::Service::handle`] answers one request, so
//!   the book server can mount the feed under a prefix.
//! - [`ws_feed`]: the same feed over WebSocket, async (tokio-tungstenite) and on tiny_http.
//! - [`client`]: HTTP/1.1 clients over a plain `TcpStream`, one function per mode.
//! - [`demo`]: server, Tap and client together: the transcripts the chapter shows, and the
//!   chapter's table of demos (`http-polling-demo`).

pub mod client;
pub mod demo;
pub mod feed;
pub mod limits;
pub mod presence;
pub mod reply;
pub mod server;
pub mod sse;
pub mod ws_feed;

pub use feed::{Feed, Message};
pub use limits::Limits;
pub use server::Service;

/// Where the book server mounts the feed: `/feed/messages`, `/feed/events`, `/feed/ws`, …
pub const BOOK_PREFIX: &str = "/feed";
