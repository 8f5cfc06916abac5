//! # chat: the chapter "More than one server"
//!
//! A chat room is the smallest program that needs more than request and response: every message
//! one member sends goes to every other member, now. On one server that is a loop over the
//! room's connections. With two servers behind a proxy, a member on one server cannot hear a
//! member on the other, unless the servers pass messages on through a *broker*. This crate runs
//! all of it for real: nginx in front, two servers, Redis between them, and a Tap on every
//! connection so the book can show each byte.
//!
//! # Layout
//! - [`protocol`]: rooms at `/ws/chat/NAME`, the welcome, message keys, stream ids, sans-I/O.
//! - [`room`]: one server's rooms in memory: a bounded queue per member, a broadcast that waits
//!   for nobody, and the slow member cut with 1013.
//! - [`broker`]: how the servers share a room: not at all, Redis pub/sub (at-most-once), or a
//!   Redis stream per room (clients resume; nothing lost).
//! - [`server`]: the chat server on the shared accept loop: handshake, join, catch-up, the
//!   member's task; leaving with 1012 (a deploy) or crashing.
//! - [`client`]: joining a room, and a client that reconnects and resumes after any break,
//!   resending what it had not seen stored.
//! - [`redis_server`], [`nginx`]: a real redis-server, and a real nginx (started by the shared
//!   layer's `serve::nginx`) with the chapter's configuration, for the demos and tests,
//!   on free loopback ports, in temporary folders.
//! - [`story`]: several Taps recorded as one story, step by step, each line labelled with its
//!   connection.
//! - [`demo`]: `just chat`, `just chat-gap`, `just chat-deploy`, `just chat-slow`.
//! - [`processes`]: the errors and helpers of the programs the chapter starts.

pub mod broker;
pub mod client;
pub mod demo;
pub mod nginx;
pub mod processes;
pub mod protocol;
pub mod redis_server;
pub mod room;
pub mod server;
pub mod story;

pub use broker::Mode;
pub use server::{Config, Server};
