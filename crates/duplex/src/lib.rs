//! # duplex: the book and its live demos, on one port
//!
//! `cargo run` at the workspace root runs this crate's binary. It renders the book in `book/`
//! with the mdbook library (nothing to install) and serves it at <http://127.0.0.1:3000>, with
//! the live demos on the same port: the WebSocket echo at [`serve::ECHO_PATH`], and the
//! request–response chapter's feed under [`http_polling::BOOK_PREFIX`]. It serves every
//! chapter, and is itself the example of the chapter "One port for HTTP and WebSocket": a
//! tiny_http server whose upgrade requests leave the HTTP side and become WebSockets.
//!
//! `duplex demo NAME` runs any chapter's exchange in the terminal through the Tap (each chapter
//! crate also runs its own, from its own binary), and `duplex tap LISTEN UPSTREAM` puts the Tap
//! in front of anything.
//!
//! The book has two editions, English at `/` and Simplified Chinese at `/zh/`, rendered from the
//! same source through a gettext catalog, each page with a switch to the other.
//!
//! # Layout
//! - [`book`]: renders the book with `mdbook-driver`, both editions, into `target/book` by default.
//! - [`edition`]: the two editions, where each is served, and the switch between them.
//! - [`i18n`]: the translation's workflow: the template, the catalog, their coverage, the
//!   `duplex i18n` commands, and search for Chinese.
//! - [`site`]: maps a URL path to a file of the rendered book, safely, with its content type.
//! - [`server`]: the one-port server: static book pages and the WebSocket echo, on tiny_http.
//! - [`demos`]: every chapter's table of demos, in the order of the book, for `duplex demo`.

pub mod book;
pub mod demos;
pub mod edition;
pub mod i18n;
pub mod server;
pub mod site;

/// The port `cargo run` serves on: 3000, free on most machines and easy to type.
pub const DEFAULT_PORT: u16 = 3000;

/// The address `cargo run` listens on: loopback, so the book is not on the network unless a
/// teacher asks for it with `--host 0.0.0.0`.
pub const DEFAULT_HOST: &str = "127.0.0.1";
