//! # guard: the defences every Duplex server shares
//!
//! The book's chapter "When clients misbehave" is about this crate. A teaching server that falls
//! over on the first odd input teaches the wrong lesson, so every server in the workspace (the
//! echoes, the by-hand server, the heartbeat, the TCP echoes, the feed, the book server) takes
//! its limits, its flags, its head reader and its connection slots from here: one value, one
//! reason and one answer for each limit, shared rather than copied.
//!
//! No tungstenite and no tiny_http here: the by-hand server, which must stay free of them, uses
//! this crate too. The tungstenite side (its configuration, its errors as close codes) and the
//! tiny_http side (the limits as tiny_http's own) are in the `serve` crate.
//!
//! # Layout
//! - [`accept`]: the one accept loop (async and blocking) every server runs: a task or thread per
//!   connection, a slot each, and a pause instead of a busy loop when descriptors run out.
//! - [`descriptors`]: the process's file-descriptor limit, raised at start, and the default
//!   connection limit derived from it.
//! - [`admission`]: who may open a WebSocket: the `Origin` check (against Cross-Site WebSocket
//!   Hijacking; every WebSocket server applies it, through `Limits::origins`) and, for a server
//!   with sign-in, the credential check.
//! - [`logging`]: every binary's log on stderr, coloured only on a terminal (and never with
//!   `NO_COLOR`).
//! - [`limits`]: the named limits, each with the reason for its default and the answer a client
//!   gets past it (1009, 431, 413, 408, 1013, 503, …).
//! - [`args`]: the same `--max-message`, `--max-connections`, … flags for every server binary
//!   ([`ConnectionArgs`] alone for a server without HTTP; [`OriginArgs`] for `--allow-origin`).
//! - [`head`]: reading a request head within the size and time limits, async or blocking.
//! - [`refuse`]: answering with an HTTP error and shutting down, async or blocking.
//! - [`upgrade`]: judging an upgrade request (the handshake, `Origin`, the subprotocol) and
//!   answering `101` or the error.
//! - [`slots`]: counting open connections, and the `503` past the limit.

pub mod accept;
pub mod admission;
pub mod args;
pub mod descriptors;
pub mod head;
pub mod limits;
pub mod logging;
pub mod refuse;
pub mod slots;
pub mod upgrade;

pub use accept::WhenFull;
pub use args::{ConnectionArgs, LimitArgs, OriginArgs, ProtocolArgs};
pub use limits::Limits;
pub use refuse::HandshakeError;
pub use slots::{Slot, Slots};
