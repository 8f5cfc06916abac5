//! # tap: the recording proxy, and the demos' harness
//!
//! The Tap sits between any client and any server, passes every byte on unchanged, and writes
//! down what the two say to each other, decoded by the `wire` crate: the transcripts the book
//! shows and the tests freeze come from here. It serves every chapter; each chapter's demo
//! (`just ws-echo`, `just tcp-echo`, …) is a client, a server and a Tap between them, printed
//! live through [`demo`].
//!
//! `wire` decodes and renders and does no I/O; this crate is the I/O around it (tokio sockets,
//! in-memory pipes, the clock, standard output).
//!
//! # Layout
//! - [`proxy`]: the Tap itself ([`Tap`] over TCP, [`MemoryTap`] over in-memory pipes on a
//!   clock that tests can pause), with switches to blackhole or cut a connection.
//! - [`demo`]: the table of a chapter's demos, its command line, legends and live printing.
//! - [`out`]: printing that stays quiet when stdout is closed (`just ws-echo | head`).
//! - [`picture`]: a connection drawn as a sequence diagram when it ends (`--svg FILE`).

pub mod demo;
pub mod out;
pub mod picture;
pub mod proxy;

pub use demo::{Demo, DemoError, DemoFuture, Flag, Flags};
pub use proxy::{MemoryTap, Observer, PipeEnd, Tap, TapConnection, TapControl};
