//! # guard: the defences every Duplex server shares
//!
//! The book's chapter "When clients misbehave" is about this crate. A teaching server that falls
//! over on the first odd input teaches the wrong lesson, so every server in the workspace (the
//! echoes, the by-hand server, the heartbeat, the TCP echoes, the feed, the book server) takes
//! its limits, its flags, its head reader and its connection slots from here: one value, one
//! reason and one answer for each limit, shared rather than copied.
//!
//! No tungstenite here: the by-hand server, which must stay free of it, uses this crate too. The
//! tungstenite side (its configuration, its errors as close codes) is in `ws_echo::limits`.
//!
//! # Layout
//! - [`admission`]: who may open a WebSocket: the `Origin` check (against Cross-Site WebSocket
//!   Hijacking; every WebSocket server applies it, through `Limits::origins`) and, for a server
//!   with sign-in, the credential check.
//! - [`limits`]: the named limits, each with the reason for its default and the answer a client
//!   gets past it (1009, 431, 413, 408, 1013, 503, …).
//! - [`args`]: the same `--max-message`, `--max-connections`, … flags for every server binary
//!   ([`ConnectionArgs`] alone for a server without HTTP; [`OriginArgs`] for `--allow-origin`).
//! - [`head`]: reading a request head within the size and time limits, async or blocking.
//! - [`refuse`]: answering with an HTTP error and shutting down, async or blocking.
//! - [`upgrade`]: judging an upgrade request and answering `101` or the error.
//! - [`slots`]: counting open connections, and the `503` past the limit.
//! - `tiny` (feature `tiny_http`): the same limits for a server on the vendored, patched
//!   tiny_http (`vendor/tiny_http/PATCHES.md`), and a thread per request.

pub mod admission;
pub mod args;
pub mod head;
pub mod limits;
pub mod refuse;
pub mod slots;
#[cfg(feature = "tiny_http")]
pub mod tiny;
pub mod upgrade;

pub use args::{ConnectionArgs, LimitArgs, OriginArgs};
pub use limits::Limits;
pub use refuse::HandshakeError;
pub use slots::{Slot, Slots};

#[cfg(feature = "tiny_http")]
pub use tiny::tiny_http_limits;
